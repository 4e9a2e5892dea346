"""``brandbot serve``: the web process under gunicorn, with embedded defaults.

The web workers are gunicorn ``gevent`` workers: thousands of idle Server-Sent-Event
streams (web chat, console) cost a greenlet each, not a thread. The embedded queue
workers (``server.embedded_workers``) must not run under gevent's monkey patching
(python-telegram-bot's asyncio, CPU-bound NLU), so ``serve`` runs them in ONE child
process of its own (a fresh interpreter in its own session), restarts it if it dies,
and on exit stops it first (SIGTERM: finish the turn, ack) before the embedded Redis.

With no Redis URL configured it uses the embedded Redis of the data folder (started
detached if none runs, shared with every ``brandbot worker`` on that folder) and stops
it on exit, after its embedded workers; with no DATABASE_URL it uses SQLite under ./var/.
"""

from __future__ import annotations

import errno
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from ..errors import BrandbotError
from ..logging_setup import configure_logging
from ..services import build_services, resolve_redis_url
from ..settings import Settings
from ..stores.sql import make_engine, upgrade
from ..web.gevent_worker import post_fork
from ._state import CliState, console, friendly_errors, pass_state

log = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):
    """gunicorn run in-process; each worker builds its own app and connections after fork."""

    def __init__(self, settings: Settings, redis_url: str, options: dict[str, Any]) -> None:
        self.settings = settings
        self.redis_url = redis_url
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from ..web import create_app

        configure_logging(self.settings.server.environment, self.settings.server.log_level)
        services = build_services(self.settings, redis_url=self.redis_url)
        return create_app(self.settings, services)


def run_embedded_workers(settings: Settings, redis_url: str, count: int, parent_pid: int) -> None:
    """The child process: ``count`` queue worker threads until SIGTERM (or the parent is gone)."""
    from ..runtime import start_embedded

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for serve; it sends SIGTERM in order
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    configure_logging(settings.server.environment, settings.server.log_level)
    services = build_services(settings, redis_url=redis_url)
    try:
        handle = start_embedded(services, count)
        while not stopping.wait(1.0) and handle.alive:
            if os.getppid() != parent_pid:
                log.warning("embedded workers: brandbot serve (pid %s) is gone; stopping", parent_pid)
                break
        handle.stop(timeout=25)
    finally:
        services.close()


def _child_main() -> None:
    """Entry of the worker child: its arguments come pickled on stdin from :class:`WorkerProcess`."""
    settings, redis_url, count, parent_pid = pickle.load(sys.stdin.buffer)
    run_embedded_workers(settings, redis_url, count, parent_pid)


class WorkerProcess:
    """Runs :func:`run_embedded_workers` in one child interpreter, restarted with backoff if it dies.

    A fresh interpreter (not a fork, not multiprocessing: gunicorn forks this process and
    reaps its children), in its own session so the terminal's Ctrl-C reaches only serve,
    which stops the child first.
    """

    def __init__(self, settings: Settings, redis_url: str, count: int) -> None:
        self.settings, self.redis_url, self.count = settings, redis_url, count
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _spawn(self) -> None:
        payload = pickle.dumps((self.settings, self.redis_url, self.count, os.getpid()))
        with self._lock:
            if self._stopping.is_set():
                return
            self._proc = subprocess.Popen(
                [sys.executable, "-c", "from bots.cli.serve import _child_main; _child_main()"],
                stdin=subprocess.PIPE,
                start_new_session=True,
            )
            assert self._proc.stdin is not None
            self._proc.stdin.write(payload)
            self._proc.stdin.close()
        log.info("embedded queue workers: %s thread(s) in process %s", self.count, self._proc.pid)

    def _wait(self, timeout: float) -> bool:
        """True once the child has exited (gunicorn may reap it first: Popen then reads it as gone)."""
        proc = self._proc
        if proc is None:
            return True
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _supervise(self) -> None:
        pause = 1.0
        while not self._stopping.is_set():
            if not self._wait(1.0) or self._stopping.is_set():
                continue
            log.error(
                "embedded queue workers (process %s) exited; restarting in %.0fs",
                self._proc.pid if self._proc else "?",
                pause,
            )
            if self._stopping.wait(pause):
                break
            pause = min(pause * 2, 30.0)
            self._spawn()

    def start(self) -> WorkerProcess:
        self._spawn()
        self._thread = threading.Thread(target=self._supervise, name="brandbot-workers-supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the child and wait for it (the turn in progress is finished and acked); then SIGKILL."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        if not self._wait(timeout):
            log.error("embedded queue workers did not stop within %.0fs; killing process %s", timeout, proc.pid)
            proc.kill()
            self._wait(5.0)
        if self._thread is not None:
            self._thread.join(2.0)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.server.host}:{settings.server.port}",
        "workers": settings.server.web_workers,
        # gevent, quiet on Ctrl-C (bots/web/gevent_worker.py)
        "worker_class": "bots.web.gevent_worker.QuietGeventWorker",
        # a Ctrl-C while a worker still boots stops it too (not a SIGKILL after graceful_timeout)
        "post_fork": post_fork,
        # open streams + requests in flight per worker process (each a greenlet)
        "worker_connections": 2000,
        "timeout": 60,
        "graceful_timeout": 30,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.server.log_level.lower(),
        "proc_name": "brandbot",
    }


def ensure_port_free(host: str, port: int) -> None:
    """Fail at once, naming host:port and the way out, when the address is taken.

    A bind test with SO_REUSEADDR, as gunicorn binds: a port left in TIME_WAIT passes,
    a listening socket does not. Without it gunicorn retries "Connection in use" for
    five seconds and exits 1 with no hint.

    Raises:
        BrandbotError: the port is in use (``friendly_errors`` exits 2), or the host is not local.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise BrandbotError(f"cannot listen on {host}:{port}: {exc}; check --host or BRANDBOT_HOST") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BrandbotError(
                    f"{host}:{port} is already in use (another brandbot serve?). Stop that process, or pick "
                    f"another port: brandbot serve --port {port + 1}, or BRANDBOT_PORT={port + 1}"
                ) from exc
            raise BrandbotError(f"cannot listen on {host}:{port}: {exc.strerror}; check --host / --port") from exc


def print_banner(settings: Settings, redis_url: str, embedded: bool) -> None:
    base = f"http://{settings.server.host}:{settings.server.port}"
    console.print(f"\n[bold]{settings.brand.name}[/] on brandbot is starting at [cyan]{base}[/]")
    console.print(f"  web chat (customers, no login):  {base}/chat")
    console.print(f"  staff console (sign in):          {base}/console")
    console.print("  a staff account:                  brandbot staff add EMAIL --role agent")
    console.print(f"  staff API (bearer tokens):        {base}/api/v1/conversations")
    console.print(f"  health / readiness:               {base}/healthz  {base}/readyz")
    console.print(f"  metrics (Prometheus):             {base}/metrics")
    console.print('  try: open the chat and write "I want to change my seat on booking X7K9QZ"')
    store = "embedded Redis " + redis_url if embedded else redis_url
    console.print(f"  stores: {store}; {settings.database_url}")
    console.print("  Ctrl-C stops everything this command started.\n")


@click.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default: server.host or $BRANDBOT_HOST).")
@click.option("--port", type=int, default=None, help="Port (default: server.port or $BRANDBOT_PORT).")
@click.option("--workers", type=int, default=None, help="gunicorn worker processes (default: server.web_workers).")
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="Apply schema migrations first.")
@pass_state
@friendly_errors
def serve(state: CliState, host: str | None, port: int | None, workers: int | None, migrate: bool) -> None:
    """Run the web server (webhooks, web chat, console) with gunicorn."""
    settings = state.settings(**{"server.host": host, "server.port": port, "server.web_workers": workers})
    configure_logging(settings.server.environment, settings.server.log_level)
    ensure_port_free(settings.server.host, settings.server.port)
    if migrate:
        upgrade(make_engine(settings.database_url))
    redis_url, embedded = resolve_redis_url(settings)
    worker_process: WorkerProcess | None = None
    serve_pid = os.getpid()
    try:
        print_banner(settings, redis_url, embedded is not None)
        if settings.server.embedded_workers > 0:
            worker_process = WorkerProcess(settings, redis_url, settings.server.embedded_workers).start()
        _Gunicorn(settings, redis_url, gunicorn_options(settings)).run()
    finally:
        # gunicorn's web workers are forks of this process and leave by SystemExit through this
        # very block: only serve itself stops what it started (a worker exiting stopped Redis
        # under the queue workers: "could not release shard" on Ctrl-C)
        if os.getpid() == serve_pid:
            if worker_process is not None:
                worker_process.stop()  # first: they finish their turns and release their shards on a live Redis
            if embedded is not None:
                embedded.shutdown()  # whoever launched it: serve owns the embedded stack's lifetime


COMMANDS = [serve]
