"""Semantic config validation (issue 14): values of the right type that cannot work.

Each mistake stops ``load_settings`` (so ``serve``, ``worker`` and every command) with the
key path and, when an environment variable supplied the value, that variable's name;
``doctor`` prints the same problems to stdout and ``nlu parse`` shows one error line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bots.cli import main
from bots.errors import ConfigError
from bots.settings import load_settings
from bots.settings.checks import INTENT_DATA_SUFFIXES, port_number, url_problem, zone_problem


def problems_of(path: Path, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=env or {})
    return str(info.value)


# -- time zones -----------------------------------------------------------------------------


def test_brand_timezone_is_checked_even_when_handoff_has_its_own(write_config) -> None:
    """Before: only handoff.timezone was tried when set, so every turn failed on brand.timezone."""
    path = write_config({"brand": {"timezone": "Europe/Pariss"}, "handoff": {"timezone": "Europe/Paris"}})
    assert "brand.timezone: unknown time zone 'Europe/Pariss'" in problems_of(path)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"brand": {"timezone": "Europe"}}, "brand.timezone"),  # a folder of zoneinfo, not a zone
        ({"brand": {"timezone": ""}}, "brand.timezone"),
        ({"handoff": {"timezone": "Mars/Olympus"}}, "handoff.timezone"),
    ],
)
def test_every_time_zone_key_is_checked(write_config, extra, key) -> None:
    assert f"{key}: " in problems_of(write_config(extra))


def test_time_zone_from_an_environment_variable_names_it(write_config) -> None:
    path = write_config({"brand": {"timezone": "${BOT_TZ}"}})
    message = problems_of(path, {"BOT_TZ": "Europe/Pariss"})
    assert "brand.timezone: unknown time zone 'Europe/Pariss'" in message
    assert "(from $BOT_TZ)" in message


# -- environment variables named ---------------------------------------------------------------


def test_bad_port_from_brandbot_port_names_the_variable(write_config) -> None:
    """Before: "server.port: Input should be a valid integer" as if config.yaml said so."""
    message = problems_of(write_config({}), {"BRANDBOT_PORT": "abc"})
    assert "server.port: 'abc' is not a port number" in message
    assert "(from $BRANDBOT_PORT)" in message


def test_port_written_in_the_file_names_no_variable(write_config) -> None:
    message = problems_of(write_config({"server": {"port": 70000}}))
    assert "server.port: 70000 is not a port number" in message and "from $" not in message


def test_bad_redis_url_from_the_environment_names_the_variable(write_config) -> None:
    path = write_config({"stores": {"redis_url": "${REDIS_URL:-}"}})
    message = problems_of(path, {"REDIS_URL": "redis://127.0.0.1:notaport/0"})
    assert "stores.redis_url: 'redis://127.0.0.1:notaport/0' is not a well-formed URL" in message
    assert "(from $REDIS_URL)" in message


def test_database_url_from_the_environment_names_the_variable(write_config) -> None:
    path = write_config({"stores": {"database_url": "${DATABASE_URL:-sqlite:///var/x.db}"}})
    message = problems_of(path, {"DATABASE_URL": "postgresql+psycopg://bot@db:port/brandbot"})
    assert "stores.database_url: 'postgresql+psycopg://bot@db:port/brandbot' is not a database URL" in message
    assert "(from $DATABASE_URL)" in message


def test_a_flag_override_says_it_came_from_the_command_line(write_config) -> None:
    with pytest.raises(ConfigError, match=r"server\.port: '0' is not a port number .*\(from the command line\)"):
        load_settings(write_config({}), env={}, overrides={"server.port": "0"})


# -- languages, paths, URLs ----------------------------------------------------------------------


def test_a_language_without_training_data_is_refused(write_config) -> None:
    path = write_config({"brand": {"languages": ["en", "fr", "de"]}})
    message = problems_of(path)
    assert "brand.languages: 'de' has no NLU training data: expected one of de.yml" in message
    assert "'en'" not in message and "'fr' has" not in message


def test_training_data_folder_must_exist(write_config) -> None:
    path = write_config({"nlu": {"data_dir": "no/such/folder"}})
    assert "nlu.data_dir: " in problems_of(path) and "no/such/folder is not a folder" in problems_of(path)


def test_domain_file_must_exist_at_start(write_config) -> None:
    assert "dialogue.domain_file: " in problems_of(write_config({"dialogue": {"domain_file": "nope.yml"}}))


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"server": {"public_url": "bot.example.com"}}, "server.public_url"),
        (
            {"channels": {"telegram": {"enabled": True, "token": "1:x", "api_base_url": "ftp://api.telegram.org"}}},
            "channels.telegram.api_base_url",
        ),
        (
            {"channels": {"telegram": {"enabled": True, "token": "1:x", "webhook_secret": "not allowed!"}}},
            "channels.telegram.webhook_secret",
        ),
        (
            {
                "channels": {
                    "twilio": {
                        "enabled": True,
                        "account_sid": "AC" + "0" * 32,
                        "auth_token": "t",
                        "public_url": "https//bot.example.com",
                    }
                }
            },
            "channels.twilio.public_url",
        ),
        ({"stores": {"redis_url": "redis://"}}, "stores.redis_url"),
        ({"stores": {"redis_url": "redis://localhost:6379/zero"}}, "stores.redis_url"),
    ],
)
def test_malformed_urls_are_refused(write_config, extra, key) -> None:
    assert f"{key}: " in problems_of(write_config(extra))


def test_a_disabled_channel_is_not_checked(write_config) -> None:
    load_settings(write_config({"channels": {"telegram": {"api_base_url": "nonsense"}}}), env={})


def test_every_problem_is_in_one_error(write_config) -> None:
    path = write_config({"brand": {"timezone": "Nowhere/City", "languages": ["en", "xx"]}})
    message = problems_of(path, {"BRANDBOT_PORT": "abc"})
    assert "server.port" in message  # a type error stops before the semantic checks ...
    message = problems_of(path)
    assert "brand.timezone" in message and "brand.languages" in message  # ... which are all reported


def test_intent_file_names_agree_with_the_nlu_reader(tmp_path: Path) -> None:
    """The settings check does not import spaCy; the NLU's reader must find the same files."""
    from nlu.data import intent_data_path

    for suffix in INTENT_DATA_SUFFIXES:
        folder = tmp_path / suffix.strip(".")
        folder.mkdir()
        (folder / f"en{suffix}").write_text("", encoding="utf-8")
        assert intent_data_path(folder, "en") == folder / f"en{suffix}"


def test_pure_checks() -> None:
    assert zone_problem("UTC") is None and zone_problem("Europe/Paris") is None
    assert zone_problem("../etc/passwd") is not None
    assert url_problem("https://bot.example.com:8443/x", ("http", "https"), "") is None
    assert url_problem("https://", ("https",), "") is not None
    assert port_number("8000") == 8000 and port_number(1) == 1
    for bad in ("abc", "", "80.5", True, 0, 65536, "٣"):
        with pytest.raises(ValueError, match="is not a port number"):
            port_number(bad)


# -- the commands --------------------------------------------------------------------------------


def test_doctor_prints_the_config_problems_to_stdout_and_fails(write_config) -> None:
    """Before: the table went to stderr and a bad brand.timezone passed."""
    path = write_config({"brand": {"timezone": "Europe/Pariss"}, "handoff": {"timezone": "Europe/Paris"}})
    result = CliRunner().invoke(main, ["doctor", "--config", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "brand.timezone" in result.stdout and "FAIL" in result.stdout
    assert "Europe/Pariss" in result.stdout
    assert result.stderr == ""


def test_nlu_parse_with_a_bad_time_zone_is_one_error_line(write_config, demo_nlu_dir) -> None:
    """Before: config accepted, then a ValueError traceback from the date parser."""
    path = write_config(
        {
            "brand": {"timezone": "Europe/Pariss"},
            "handoff": {"timezone": "Europe/Paris"},
            "nlu": {"model_dir": str(demo_nlu_dir)},
        }
    )
    result = CliRunner().invoke(main, ["nlu", "parse", "change my seat tomorrow", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "brand.timezone: unknown time zone 'Europe/Pariss'" in result.output
