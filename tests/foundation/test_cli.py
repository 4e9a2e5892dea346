"""The brandbot command: help, version, db upgrade, doctor, and readable config errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from bots import __version__
from bots.cli import main
from bots.stores.redis_client import free_port
from bots.stores.sql import make_engine
from tests.conftest import REPO


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_help_lists_every_command_with_its_purpose() -> None:
    out = run("--help").output
    for command in ("serve", "worker", "doctor", "db", "nlu", "shell", "telegram", "dlq", "staff", "demo"):
        assert f"  {command} " in out, f"{command} missing from --help"


def test_version() -> None:
    assert __version__ in run("--version").output


def test_db_upgrade_creates_tables(write_config, tmp_path) -> None:
    db = tmp_path / "x.db"
    cfg = write_config({"stores": {"database_url": f"sqlite:///{db}"}})
    result = run("--config", str(cfg), "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "messages" in inspect(make_engine(f"sqlite:///{db}")).get_table_names()


def test_config_error_is_one_screen_naming_the_key(write_config) -> None:
    cfg = write_config({"stores": {"databse_url": "x"}})
    result = CliRunner().invoke(main, ["--config", str(cfg), "db", "upgrade"])
    assert result.exit_code == 2
    assert "stores.databse_url: unknown key" in result.output
    assert "Traceback" not in result.output


def test_doctor_prints_a_table_and_fails_on_a_dead_redis(write_config, tmp_path, sqlite_url) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    cfg = write_config({"stores": {"redis_url": dead, "database_url": sqlite_url}})
    result = CliRunner().invoke(main, ["--config", str(cfg), "doctor"], terminal_width=200)
    assert result.exit_code == 1
    assert "redis" in result.output and "FAIL" in result.output and "unreachable" in result.output


def test_doctor_passes_on_live_stores(write_config, redis_url, sqlite_url) -> None:
    cfg = write_config({"stores": {"redis_url": redis_url, "database_url": sqlite_url}})
    assert run("--config", str(cfg), "db", "upgrade").exit_code == 0
    result = CliRunner().invoke(main, ["--config", str(cfg), "doctor"], terminal_width=200)
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") >= 4}
    assert "ok" in rows["redis"] and "ok" in rows["sql"], result.output


@pytest.mark.integration
@pytest.mark.slow
def test_serve_starts_embedded_redis_answers_probes_and_stops_on_ctrl_c(write_config, tmp_path: Path) -> None:
    """What `make run` does, minus installing: no Redis URL, no database URL."""
    port = free_port()
    cfg = write_config(
        {
            "server": {"port": port, "embedded_workers": 0},
            "stores": {"redis_url": "", "embedded_redis_dir": "var/redis", "database_url": "sqlite:///var/bb.db"},
        }
    )
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bots", "--config", str(cfg), "serve"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "serve did not become ready in 60 s"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        assert (tmp_path / "var" / "redis" / "redis.sock").exists()
        assert (tmp_path / "var" / "bb.db").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}/chat" in out
    assert not (tmp_path / "var" / "redis" / "redis.sock").exists(), "embedded Redis left running"
