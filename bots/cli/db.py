"""``brandbot db``: schema migrations of the durable store."""

from __future__ import annotations

import click
from alembic.util import CommandError

from ..errors import BrandbotError
from ..stores.sql import check_sql, current_revision, head_revision, make_engine, upgrade
from ._state import CliState, console, friendly_errors, pass_state


@click.group("db")
def db() -> None:
    """Manage the SQL database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_state
@friendly_errors
def db_upgrade(state: CliState, revision: str) -> None:
    """Apply schema migrations up to the latest (safe to run again)."""
    settings = state.settings()
    engine = make_engine(settings.database_url)
    check_sql(engine)  # an unreachable database: one line naming it, not a driver traceback
    before = current_revision(engine)
    try:
        upgrade(engine, revision)
    except CommandError as exc:  # an unknown --revision
        raise BrandbotError(f"--revision {revision!r}: {exc} (the latest is {head_revision()})") from exc
    after = current_revision(engine)
    url = engine.url.render_as_string(hide_password=True)
    console.print(f"database {url}: {before or 'empty'} -> {after}", highlight=False)


@db.command("current")
@pass_state
@friendly_errors
def db_current(state: CliState) -> None:
    """Show the applied and the latest schema revision."""
    engine = make_engine(state.settings().database_url)
    check_sql(engine)
    click.echo(f"applied: {current_revision(engine) or 'none'}  latest: {head_revision()}")


COMMANDS = [db]
