"""Helpers for the embedded-Redis tests: short data folders, the servers running on one, clean-up."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["data_folder", "parent_of", "ping", "servers_on"]


def servers_on(folder: Path) -> list[int]:
    """Pids of the redis-server processes whose command line names ``folder`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and b"redis-server" in argv[0] and str(folder).encode() in b" ".join(argv):
            found.append(int(entry.name))
    return found


def parent_of(pid: int) -> int:
    """The parent pid of ``pid`` (field 4 of /proc/PID/stat, after the parenthesised name)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def ping(folder: Path) -> bool:
    """True when a server answers on ``folder``'s unix socket."""
    client = redis.Redis(
        unix_socket_path=str(folder / "redis.sock"),
        socket_timeout=1,
        socket_connect_timeout=1,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@contextlib.contextmanager
def data_folder() -> Iterator[Path]:
    """A short temp folder (unix socket paths are capped at 107 bytes); every server on it is killed after."""
    folder = Path(tempfile.mkdtemp(prefix="bb-er-")).resolve()
    try:
        yield folder
    finally:
        for pid in servers_on(folder):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
