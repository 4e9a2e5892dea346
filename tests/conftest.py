"""Shared fixtures: a real Redis, a real SQL database and settings built per test.

Redis: $REDIS_URL if set (CI: 127.0.0.1:6379), else an embedded real server
started for the session. With CI=true a missing service fails loudly.
Each test gets a flushed database index of its own Redis.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from sqlalchemy import Engine

from bots.settings import Settings, load_settings
from bots.stores.redis_client import EmbeddedRedis, free_port
from bots.stores.sql import make_engine, upgrade

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_DB = int(os.environ.get("BRANDBOT_TEST_REDIS_DB", "9"))
REPO = Path(__file__).resolve().parent.parent


def _with_db(url: str, db: int) -> str:
    base = url.split("?")[0]
    if base.startswith("unix://"):
        return f"{base}?db={db}"
    head, _, tail = base.rpartition("/")
    if head.startswith("redis") and tail.isdigit():
        return f"{head}/{db}"
    return f"{base.rstrip('/')}/{db}"


@pytest.fixture(scope="session")
def redis_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a live Redis server (without the db index)."""
    url = os.environ.get("REDIS_URL")
    if url:
        try:
            redis.Redis.from_url(url, socket_timeout=2).ping()
        except redis.RedisError as exc:
            pytest.exit(f"REDIS_URL={url} is set but Redis does not answer: {exc}", returncode=3)
        yield url
        return
    if IN_CI and not os.environ.get("BRANDBOT_TEST_EMBEDDED_REDIS"):
        pytest.exit("CI=true but REDIS_URL is not set; .ci/run must provide Redis", returncode=3)
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), port=free_port(), persist=False).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_base_url: str) -> str:
    return _with_db(redis_base_url, TEST_DB)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on a flushed database index, flushed again afterwards."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'brandbot.db'}"


@pytest.fixture
def sql_engine(sqlite_url: str):
    """A migrated SQLite database in a temp folder."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url() -> str:
    """PostgreSQL URL from $DATABASE_URL_PG; skipped locally when unset, a failure in CI."""
    url = os.environ.get("DATABASE_URL_PG")
    if not url:
        if IN_CI:
            pytest.fail("CI=true but DATABASE_URL_PG is not set; .ci/run must provide PostgreSQL")
        pytest.skip("DATABASE_URL_PG not set (.ci/run sets it to the PostgreSQL on 127.0.0.1)")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@pytest.fixture
def pg_engine(pg_url: str):
    """A fresh PostgreSQL database of its own, migrated, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"brandbot_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(pg_url.rsplit("/", 1)[0] + "/" + name)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


BASE_CONFIG: dict[str, Any] = {
    "brand": {"name": "Test Air", "timezone": "Europe/Paris", "languages": ["en", "fr"], "default_language": "en"},
}


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v
    return into


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config file (YAML text, or a dict merged over a minimal valid config)."""

    def write(content: str | dict[str, Any] = "", name: str = "config.yaml") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        else:
            data = _merge(yaml.safe_load(yaml.safe_dump(BASE_CONFIG)), content)
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_settings(write_config: Callable[..., Path], redis_url: str, sqlite_url: str) -> Callable[..., Settings]:
    """Settings on the test Redis and a temp SQLite, with ``extra`` sections merged in."""

    def make(extra: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
        data = {"stores": {"redis_url": redis_url, "database_url": sqlite_url}}
        _merge(data, extra or {})
        return load_settings(write_config(data), env=env or {})

    return make


@pytest.fixture(scope="session")
def demo_nlu_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo airline NLU (the repo's nlu.data_dir), trained once per test session (a few seconds)."""
    from nlu.training import train

    base = load_settings(REPO / "config.yaml", env={})
    model_dir = tmp_path_factory.mktemp("nlu-model")
    train(base.path(base.nlu.data_dir), model_dir, list(base.brand.languages), seed=base.nlu.seed)
    return model_dir


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database of each supported kind (PostgreSQL: a fresh database of its own)."""
    engine: Engine = request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")
    return engine
