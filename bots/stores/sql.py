"""SQL layer: the engine factory, sessions and schema migrations (Alembic)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreUnavailable

__all__ = ["conflict_insert", "make_engine", "upgrade", "current_revision", "head_revision", "check_sql"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and its folder created."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a process crash; only an OS crash may lose
            # the last transactions (the durable production store is PostgreSQL).
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    opts: dict[str, object] = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}
    opts.update(kwargs)
    return create_engine(url, **opts)


_CONFLICT_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def conflict_insert(dialect: str, table: Table):
    """An INSERT with ``on_conflict_do_nothing/do_update`` for SQLite and PostgreSQL; None elsewhere."""
    make = _CONFLICT_INSERTS.get(dialect)
    return None if make is None else make(table)


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    try:
        command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"cannot migrate the database at {engine.url!r}: {exc}") from exc


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://"))).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_sql(engine: Engine) -> None:
    """Raise :class:`StoreUnavailable` with an actionable message if SQL does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StoreUnavailable(
            f"SQL database {engine.url.render_as_string(hide_password=True)} is unreachable "
            f"({exc.__class__.__name__}: {str(exc).splitlines()[0]}); start it or fix DATABASE_URL"
        ) from exc
