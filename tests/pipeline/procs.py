"""Helpers to run ``brandbot worker`` processes against a test config."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
BRANDBOT = [sys.executable, "-c", "from bots.cli import main; main()"]


def start_worker(config: Path, fake_url: str, *, delay: float = 0.0, concurrency: int = 1,
                 channels: str = "fake", log: Path | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, FAKE_CHANNEL_URL=fake_url, FAKE_TURN_DELAY=str(delay), FAKE_CHANNELS=channels,
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [*BRANDBOT, "--config", str(config), "worker", "--concurrency", str(concurrency),
         "--pipeline", "tests.pipeline.fake_pipeline:build"],
        cwd=REPO, env=env, stdout=out, stderr=out,
    )


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
