"""Child processes: ``brandbot serve`` (or any server) until it answers, ``brandbot worker`` with the fake pipeline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .net import wait_http_ok, wait_listening

__all__ = ["BRANDBOT", "FAKE_PIPELINE", "REPO", "ServerProcess", "start_worker", "stop_processes"]

REPO = Path(__file__).resolve().parents[2]
#: ``brandbot`` run by this interpreter (no console script needed; works from any source tree on PYTHONPATH).
BRANDBOT = [sys.executable, "-c", "from bots.cli import main; main()"]
#: ``brandbot worker --pipeline``: echo turns sent to a FakeChannelServer at $FAKE_CHANNEL_URL.
FAKE_PIPELINE = "tests.pipeline.fake_pipeline:build"


def _env(root: Path, extra: Mapping[str, str] | None) -> dict[str, str]:
    path = str(root) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    return dict(os.environ, PYTHONPATH=path, **(extra or {}))


def stop_processes(procs: Iterable[subprocess.Popen[Any]], timeout: float = 20.0) -> None:
    """SIGTERM each process still running, wait up to ``timeout`` s each, then kill what is left."""
    procs = list(procs)
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class ServerProcess:
    """A server child process, started on ``__enter__`` and ready when it returns; SIGTERM on exit.

    Args:
        argv: the command.
        port: where it listens on 127.0.0.1.
        ready_path: wait for a 200 on this path (``/readyz``); None: wait for the port to accept.
        root: the source tree put first on PYTHONPATH and used as the working directory
            (another tree, e.g. an export of an older commit, compares two versions in one run).
        env: extra environment variables.
        settle: seconds to wait after ready (let every gunicorn worker boot, not just the first).
        timeout: seconds to become ready.

    Raises:
        RuntimeError: the process exited or did not become ready in time.
    """

    def __init__(
        self,
        argv: Sequence[str],
        port: int,
        *,
        ready_path: str | None = "/readyz",
        root: Path | None = None,
        env: Mapping[str, str] | None = None,
        settle: float = 0.0,
        timeout: float = 30.0,
        stdout: int | IO[Any] | None = subprocess.DEVNULL,
    ) -> None:
        self.argv, self.port, self.ready_path = list(argv), port, ready_path
        self.root, self.extra_env, self.settle, self.timeout, self.stdout = root or REPO, env, settle, timeout, stdout
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def brandbot_serve(cls, config: Path, port: int, **kwargs: Any) -> ServerProcess:
        """``brandbot --config CONFIG serve`` (the server's port comes from the config)."""
        return cls([*BRANDBOT, "--config", str(config), "serve"], port, **kwargs)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(self.argv, env=_env(self.root, self.extra_env), cwd=self.root, stdout=self.stdout)
        try:
            if self.ready_path is None:
                wait_listening(self.port, self.timeout)
            else:
                wait_http_ok(self.port, self.ready_path, self.timeout)
        except AssertionError as exc:
            code = self.proc.poll()
            self.__exit__()
            raise RuntimeError(
                f"{self.argv[-1]!r} on port {self.port} not ready"
                f"{f' (exited with {code})' if code is not None else ''}: {exc}"
            ) from exc
        time.sleep(self.settle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            stop_processes([self.proc])


def start_worker(
    config: Path,
    fake_url: str,
    *,
    delay: float = 0.0,
    concurrency: int = 1,
    channels: str = "fake",
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``brandbot worker`` on the fake pipeline (echo turns; ``delay`` s of work per turn) sending to ``fake_url``.

    Output goes to ``log`` (appended) or nowhere; ``env`` adds variables (e.g. ``BENCH_SQLITE_SYNC``).
    """
    extra = {"FAKE_CHANNEL_URL": fake_url, "FAKE_TURN_DELAY": str(delay), "FAKE_CHANNELS": channels, **(env or {})}
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(
        [*BRANDBOT, "--config", str(config), "worker", "--concurrency", str(concurrency), "--pipeline", FAKE_PIPELINE],
        cwd=REPO,
        env=_env(REPO, extra),
        stdout=out,
        stderr=out,
    )
