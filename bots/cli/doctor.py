"""``brandbot doctor``: check the config, the stores, the NLU model and each channel.

The config check is :func:`~bots.settings.load_settings` itself, so doctor refuses
exactly what ``serve`` and ``worker`` refuse at start (one row per problem). The
table goes to stdout (it is the command's output); the exit code is 1 when a check fails.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from connectors.base import Closable

from ..errors import BrandbotError, ConfigError
from ..settings import Settings
from ..stores.redis_client import EmbeddedRedis, make_redis, ping
from ..stores.sql import check_sql, current_revision, head_revision, make_engine
from ._state import CliState, pass_state


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _run(name: str, fn: Callable[[], str], fix: str) -> Check:
    try:
        return Check(name, True, fn())
    except BrandbotError as exc:
        return Check(name, False, str(exc), fix)
    except Exception as exc:  # noqa: BLE001 - doctor reports anything it meets
        return Check(name, False, f"{exc.__class__.__name__}: {exc}", fix)


def _redis(settings: Settings) -> str:
    url = settings.stores.redis_url
    if not url:
        with EmbeddedRedis(settings.path(settings.stores.embedded_redis_dir)) as server:
            ping(make_redis(server.url))
        return f"embedded server works (data in {settings.path(settings.stores.embedded_redis_dir)})"
    client = make_redis(url, retry_on_timeout=False)
    ping(client)
    info = client.info("server")
    return f"{url} (Redis {info.get('redis_version', '?')})"


def _sql(settings: Settings) -> str:
    engine = make_engine(settings.database_url)
    check_sql(engine)
    cur, head = current_revision(engine), head_revision()
    shown = engine.url.render_as_string(hide_password=True)
    if cur != head:
        raise BrandbotError(f"{shown}: schema at {cur or 'empty'}, latest is {head}")
    return f"{shown} (schema {cur})"


def _nlu(settings: Settings) -> str:
    import nlu

    data, model = settings.path(settings.nlu.data_dir), settings.path(settings.nlu.model_dir)
    if nlu.needs_training(data, model, settings.brand.languages):
        raise BrandbotError(f"model in {model} is missing or older than the data in {data}")
    return f"trained for {', '.join(settings.brand.languages)} in {model}"


def _channel_checks(settings: Settings) -> list[Check]:
    from ..channel_registry import build_connectors, check_credentials

    checks = []
    try:
        client = make_redis(settings.stores.redis_url) if settings.stores.redis_url else None
        connectors = build_connectors(settings, client)
    except Exception as exc:  # noqa: BLE001 - doctor reports anything it meets as the check's result
        return [Check("channels", False, f"{exc.__class__.__name__}: {exc}", "fix the channels: section")]
    for name, connector in connectors.items():
        try:
            problem = check_credentials(connector)
        finally:
            if isinstance(connector, Closable):
                connector.close()
        checks.append(
            Check(f"channel {name}", problem is None, problem or "credentials accepted", "check the channel's secrets")
        )
    return checks


def run_checks(settings: Settings) -> list[Check]:
    checks = [Check("config", True, settings.source)]
    checks.append(_run("redis", lambda: _redis(settings), "start Redis or fix REDIS_URL / stores.redis_url"))
    checks.append(_run("sql", lambda: _sql(settings), "run `brandbot db upgrade`, or fix DATABASE_URL"))
    checks.append(_run("nlu", lambda: _nlu(settings), "run `brandbot nlu train`"))
    checks.extend(_channel_checks(settings))
    return checks


@click.command("doctor")
@pass_state
def doctor(state: CliState) -> None:
    """Check config, Redis, SQL, NLU model and channel credentials (a table)."""
    table = Table(title="brandbot doctor", show_lines=False)
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    table.add_column("fix", overflow="fold")
    try:
        checks = run_checks(state.settings())
    except ConfigError as exc:
        fix = "fix the key named in the config file, or the $VARIABLE named when there is one"
        checks = [Check("config", False, problem, fix) for problem in exc.problems]
    for c in checks:
        status = "[green]ok[/]" if c.ok else "[red]FAIL[/]"
        table.add_row(c.name, status, escape(c.detail), "" if c.ok else escape(c.fix))
    Console().print(table)  # stdout: the table is what the command answers
    sys.exit(0 if all(c.ok for c in checks) else 1)


COMMANDS = [doctor]
