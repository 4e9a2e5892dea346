"""The process's dependencies, built once at start and passed in (no globals)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis
from sqlalchemy import Engine

from .settings import Settings
from .stores.redis_client import EmbeddedRedis, make_redis
from .stores.sql import make_engine

if TYPE_CHECKING:
    from connectors.base import Connector

    from .pipeline.ingest import Ingest
    from .runtime import Pipeline

log = logging.getLogger(__name__)

__all__ = ["Services", "build_services", "resolve_redis_url"]


def resolve_redis_url(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use: stores.redis_url (config.yaml reads $REDIS_URL), else the embedded server.

    The embedded server of the data folder is adopted if one runs, else launched detached
    (:class:`EmbeddedRedis`): it outlives this process, whatever way the process ends.

    Returns the URL and the embedded server (None with a configured URL).
    """
    url = settings.stores.redis_url
    if url:
        return url, None
    embedded = EmbeddedRedis(settings.path(settings.stores.embedded_redis_dir)).start()
    return embedded.url, embedded


@dataclass
class Services:
    """Everything with I/O that the runtime needs, composed at the edge."""

    settings: Settings
    redis: redis.Redis
    engine: Engine
    redis_url: str
    #: the embedded server in use (None with a configured URL). ``close`` leaves it running:
    #: other processes share it, and only ``brandbot serve`` stops it (after its workers).
    embedded_redis: EmbeddedRedis | None = None
    #: the enabled channels' connectors (``bots.runtime.build_connectors_for``), built once.
    connectors: dict[str, Connector] | None = None
    #: the process's one inbound Ingest (``bots.pipeline.ingest.ingest_for``), built once.
    ingest: Ingest | None = None
    #: the dialogue pipeline (``bots.runtime.get_pipeline``), built once.
    pipeline: Pipeline | None = None
    #: more ``/readyz`` checks: name -> probe returning None when fine, else the reason.
    readiness: dict[str, Callable[[], str | None]] = field(default_factory=dict)

    def close(self) -> None:
        """Release the connectors built for this process (the Telegram connector's event loop
        thread would keep a stopped process alive), then Redis and SQL."""
        from connectors.base import Closable

        for connector in (self.connectors or {}).values():
            if isinstance(connector, Closable):
                connector.close()
        self.redis.close()
        self.engine.dispose()


def build_services(settings: Settings, redis_url: str | None = None, database_url: str | None = None) -> Services:
    """Connect lazily to Redis and SQL (nothing is contacted until first use)."""
    embedded = None
    if redis_url is None:
        redis_url, embedded = resolve_redis_url(settings)
    db_url = database_url or settings.database_url
    return Services(
        settings=settings,
        redis=make_redis(redis_url),
        engine=make_engine(db_url),
        redis_url=redis_url,
        embedded_redis=embedded,
    )
