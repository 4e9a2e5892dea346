"""``brandbot serve`` on a port already taken: at once, exit 2, naming host:port and the way out."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.support import BRANDBOT, REPO
from tests.support.processes import _env

pytestmark = pytest.mark.integration


def test_a_port_in_use_fails_at_once_with_exit_2_and_a_hint(tmp_path: Path, redis_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "brand": {"name": "Port Air", "languages": ["en"], "default_language": "en"},
                    "server": {"host": "127.0.0.1", "port": port, "embedded_workers": 0, "log_level": "WARNING"},
                    "stores": {"redis_url": redis_url, "database_url": f"sqlite:///{tmp_path / 'bb.db'}"},
                    "channels": {"webchat": {"enabled": False}},
                }
            ),
            encoding="utf-8",
        )
        began = time.monotonic()
        done = subprocess.run(
            [*BRANDBOT, "--config", str(config), "serve", "--no-migrate"],
            cwd=REPO,
            env=_env(REPO, {"COLUMNS": "200"}),
            capture_output=True,
            text=True,
            timeout=60,
        )
        took = time.monotonic() - began
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert f"127.0.0.1:{port}" in out and "--port" in out and "BRANDBOT_PORT" in out, out
    assert "Connection in use" not in out, "no gunicorn retries"
    print(f"\nport in use: exit {done.returncode} after {took:.1f}s: {out.strip().splitlines()[-1]}")
