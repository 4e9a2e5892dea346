"""The operator's first hour (issue 14): commands do what the README says.

- ``--config`` is accepted before or after the subcommand, by every command;
- ``brandbot telegram set-webhook`` works with the shipped config and no
  TELEGRAM_WEBHOOK_SECRET (it generates the secret and prints the export line);
  ``poll`` does not need the secret;
- ``brandbot demo reset`` / ``make reset-demo`` put the demo bookings back.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from bots.airline.backend import SQLiteAirline
from bots.cli import main
from tests.conftest import REPO
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegramAPI


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def test_every_command_accepts_config_after_its_name() -> None:
    missing = [
        " ".join(path)
        for path, command in _commands(main)
        if not any("--config" in getattr(p, "opts", ()) for p in command.params)
    ]
    assert missing == []


@pytest.mark.parametrize(
    "args",
    [
        ["--config", "{cfg}", "db", "current"],
        ["db", "current", "--config", "{cfg}"],
        ["db", "--config", "{cfg}", "current"],
        ["--config", "/no/such/file.yaml", "db", "current", "--config", "{cfg}"],  # the later one wins
    ],
)
def test_config_before_or_after_the_subcommand(write_config, sqlite_url, args) -> None:
    """Before: `brandbot db current --config F` was "No such option: --config"."""
    cfg = str(write_config({"stores": {"database_url": sqlite_url}}))
    result = CliRunner().invoke(main, [a.format(cfg=cfg) for a in args])
    assert result.exit_code == 0, result.output
    assert "applied:" in result.output


def test_doctor_takes_config_after_the_subcommand(write_config, redis_url, sqlite_url) -> None:
    cfg = str(write_config({"stores": {"redis_url": redis_url, "database_url": sqlite_url}}))
    result = CliRunner().invoke(main, ["doctor", "--config", cfg], env={"COLUMNS": "200"})
    assert "No such option" not in result.output
    assert cfg in result.stdout  # the config row names the file it read


# -- Telegram with the shipped config ------------------------------------------------------------


@pytest.fixture
def shipped_config(tmp_path: Path) -> Path:
    """The repo's config.yaml as shipped, with only its paths moved out of the repo's var/."""
    data: dict[str, Any] = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    data["nlu"]["data_dir"] = str(REPO / "bots" / "airline" / "nlu")
    data["nlu"]["model_dir"] = str(tmp_path / "models")
    data["dialogue"]["domain_file"] = str(REPO / "bots" / "airline" / "domain.yml")
    data["dialogue"]["actions_options"]["database"] = str(tmp_path / "airline.db")
    data["stores"]["embedded_redis_dir"] = str(tmp_path / "redis")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
def telegram_env(fake_telegram: FakeTelegramAPI, redis_url: str, sqlite_url: str) -> dict[str, str | None]:
    """Telegram switched on the way the README says, against the fake Bot API."""
    return {
        "TELEGRAM_ENABLED": "true",
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "TELEGRAM_WEBHOOK_SECRET": None,  # none configured yet: the README's first step
        "REDIS_URL": redis_url,
        "DATABASE_URL": sqlite_url,
    }


@pytest.mark.integration
def test_set_webhook_generates_the_secret_when_none_is_configured(shipped_config, telegram_env, fake_telegram) -> None:
    """Before: "channels.telegram.webhook_secret: environment variable TELEGRAM_WEBHOOK_SECRET is not set"."""
    result = CliRunner().invoke(
        main, ["telegram", "set-webhook", "https://bot.example.com", "--config", str(shipped_config)], env=telegram_env
    )
    assert result.exit_code == 0, result.output
    secret = fake_telegram.webhook["secret_token"]
    assert len(secret) >= 40  # 32 random bytes, URL-safe base64
    assert f"export TELEGRAM_WEBHOOK_SECRET={secret}" in result.stdout
    assert "brandbot serve" in result.stdout  # says where it goes


@pytest.mark.integration
def test_poll_does_not_need_the_webhook_secret(shipped_config, telegram_env) -> None:
    args = ["--config", str(shipped_config), "telegram", "poll", "--timeout", "0", "--rounds", "1", "--print-only"]
    result = CliRunner().invoke(main, args, env=telegram_env)
    assert result.exit_code == 0, result.output


# -- the demo database ---------------------------------------------------------------------------


def test_demo_reset_puts_the_seeded_bookings_back(write_config, tmp_path) -> None:
    """Before: no command; a changed seat stayed changed across runs."""
    db = tmp_path / "var" / "airline.db"
    SQLiteAirline(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE bookings SET seat = '15C' WHERE ref = 'X7K9QZ'")
    booking = SQLiteAirline(db).find_booking("X7K9QZ")
    assert booking is not None and booking.seat == "15C"

    cfg = write_config({"dialogue": {"actions_options": {"database": "var/airline.db"}}})
    result = CliRunner().invoke(main, ["demo", "reset", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    booking = SQLiteAirline(db).find_booking("X7K9QZ")
    assert booking is not None and booking.seat == "14C"


def test_demo_reset_refuses_for_another_brands_actions(write_config) -> None:
    cfg = write_config({"dialogue": {"actions_module": "mybrand.actions"}})
    result = CliRunner().invoke(main, ["--config", str(cfg), "demo", "reset"])
    assert result.exit_code == 2
    assert "no demo database to reset" in result.output


def test_make_reset_demo_runs_the_command() -> None:
    out = subprocess.run(
        ["make", "-n", "reset-demo"], cwd=REPO, capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert "brandbot demo reset" in out


# -- no traceback for what an operator can type ---------------------------------------------------


def test_nlu_parse_refuses_undecodable_text_in_one_line(write_config) -> None:
    """Before: a UnicodeEncodeError traceback from the language detector (bytes not UTF-8 in argv)."""
    cfg = str(write_config({}))
    result = CliRunner().invoke(main, ["nlu", "parse", "ab\udcffc", "--config", cfg])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "TEXT holds a lone surrogate" in result.output


def test_nlu_parse_refuses_a_language_the_bot_does_not_speak(write_config) -> None:
    result = CliRunner().invoke(main, ["nlu", "parse", "hallo", "--lang", "de", "--config", str(write_config({}))])
    assert result.exit_code == 2
    assert "--lang 'de' is not one of brand.languages ['en', 'fr']" in result.output


def test_db_upgrade_to_an_unknown_revision_is_one_line(write_config, sqlite_url) -> None:
    """Before: alembic's CommandError traceback."""
    cfg = str(write_config({"stores": {"database_url": sqlite_url}}))
    result = CliRunner().invoke(main, ["db", "upgrade", "--revision", "nope", "--config", cfg])
    assert result.exit_code == 2
    assert "--revision 'nope': Can't locate revision" in result.output and "Traceback" not in result.output


def test_db_commands_on_an_unreachable_database_say_so(write_config) -> None:
    """Before: a psycopg OperationalError traceback from `db current` and `db upgrade`."""
    from bots.stores.redis_client import free_port

    cfg = str(write_config({"stores": {"database_url": f"postgresql+psycopg://x@127.0.0.1:{free_port()}/db"}}))
    for args in (["db", "current"], ["db", "upgrade"]):
        result = CliRunner().invoke(main, [*args, "--config", cfg])
        assert result.exit_code == 2, result.output
        assert "is unreachable" in result.output and "fix DATABASE_URL" in result.output
