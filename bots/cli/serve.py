"""``brandbot serve``: the web process under gunicorn, with embedded defaults.

With no Redis URL configured it starts an embedded Redis (data under ./var/) and
stops it on exit; with no DATABASE_URL it uses SQLite under ./var/.
"""

from __future__ import annotations

import logging
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from ..logging_setup import configure_logging
from ..services import build_services, resolve_redis_url
from ..settings import Settings
from ..stores.sql import make_engine, upgrade
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

    def load(self):  # noqa: ANN201 - WSGI app
        from ..web import create_app

        configure_logging(self.settings.server.environment, self.settings.server.log_level)
        services = build_services(self.settings, redis_url=self.redis_url)
        app = create_app(self.settings, services)
        _start_background(app, services)
        return app


def _start_background(app, services) -> None:  # noqa: ANN001
    """Start the embedded queue workers in this web process, if configured."""
    count = services.settings.server.embedded_workers
    if count <= 0:
        return
    from ..runtime import start_embedded

    handle = start_embedded(services, count)
    app.extensions["brandbot_workers"] = handle


def _stop_background(_server, worker) -> None:  # noqa: ANN001 - gunicorn hook
    """gunicorn worker_exit hook: let the embedded queue workers finish their turn and ack."""
    app = getattr(worker, "wsgi", None)
    handle = getattr(app, "extensions", {}).get("brandbot_workers") if app is not None else None
    if handle is not None:
        handle.stop(timeout=25)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.server.host}:{settings.server.port}",
        "workers": settings.server.web_workers,
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 60,
        "graceful_timeout": 30,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.server.log_level.lower(),
        "proc_name": "brandbot",
        "worker_exit": _stop_background,
    }


def print_banner(settings: Settings, redis_url: str, embedded: bool) -> None:
    base = f"http://{settings.server.host}:{settings.server.port}"
    console.print(f"\n[bold]{settings.brand.name}[/] on brandbot is starting at [cyan]{base}[/]")
    console.print(f"  web chat (customers, no login):  {base}/chat")
    console.print(f"  health / readiness:               {base}/healthz  {base}/readyz")
    console.print(f"  metrics (Prometheus):             {base}/metrics")
    console.print(f"  try: open the chat and write \"I want to change my seat on booking X7K9QZ\"")
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
    if migrate:
        upgrade(make_engine(settings.database_url))
    redis_url, embedded = resolve_redis_url(settings)
    try:
        print_banner(settings, redis_url, embedded is not None)
        _Gunicorn(settings, redis_url, gunicorn_options(settings)).run()
    finally:
        if embedded is not None:
            embedded.stop()


COMMANDS = [serve]
