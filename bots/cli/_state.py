"""What every command shares: the config path, settings loaded once, error display, tables as text."""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import BrandbotError
from ..settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ..services import Services

P = ParamSpec("P")
R = TypeVar("R")
console = Console(stderr=True)


class CliState:
    """The global options (``--config``) and the settings, loaded once per command."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None

    def use_config(self, config_path: str) -> None:
        """Read this file instead (``--config`` given after the subcommand)."""
        self.config_path = config_path
        self._settings = None

    def settings(self, **overrides: Any) -> Settings:
        """Load and validate the settings once (overrides: dotted keys from flags)."""
        if self._settings is None or overrides:
            self._settings = load_settings(self.config_path, overrides=overrides or None)
        return self._settings


pass_state = click.make_pass_decorator(CliState)


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Show a brandbot error as one readable screen and exit 2, without a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except BrandbotError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            sys.exit(2)

    return wrapper


def migrated_engine(state: CliState) -> Engine:
    """The SQL engine of the settings, its schema migrated to the latest version."""
    from ..stores.sql import make_engine, upgrade

    engine = make_engine(state.settings().database_url)
    upgrade(engine)
    return engine


def render_table(table: Table, width: int = 160) -> str:
    """``table`` as plain text (no colours), for stdout and for tests."""
    buf = io.StringIO()
    Console(width=width, file=buf, color_system=None).print(table)
    return buf.getvalue().rstrip()


def when(at: datetime | None) -> str:
    """A time in a table cell (minutes; "-" for none)."""
    return at.strftime("%Y-%m-%d %H:%M") if at else "-"


@contextmanager
def live_services(state: CliState) -> Iterator[tuple[Settings, Services]]:
    """The settings and services, with Redis and SQL answering and the schema at the latest
    version (else a BrandbotError saying what to do); closed afterwards."""
    from ..services import build_services
    from ..stores.redis_client import ping
    from ..stores.sql import check_sql, current_revision, head_revision

    settings = state.settings()
    services = build_services(settings)
    try:
        check_sql(services.engine)
        ping(services.redis)
        applied, latest = current_revision(services.engine), head_revision()
        if applied != latest:
            raise BrandbotError(
                f"the database schema is at {applied or 'nothing'}, this version needs {latest}: "
                "run `brandbot db upgrade` first"
            )
        yield settings, services
    finally:
        services.close()
