"""Fixtures of the tracked-link tests: settings with links on, the web app, engines of both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask

from bots.links.shortener import Shortener
from bots.services import Services
from bots.settings import Settings
from bots.web import create_app

BASE = "https://go.nimbus.test"
ALLOW = ["example.com", "*.nimbus.test", "https://help.example.org/articles/"]
LINKS = {"enabled": True, "public_base_url": BASE, "allow": ALLOW}
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


@pytest.fixture
def links_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings({"links": LINKS})


@pytest.fixture
def shortener(links_settings: Settings, sql_engine) -> Shortener:
    return Shortener(sql_engine, links_settings.links, links_settings.server.secret_key)


@pytest.fixture
def app(links_settings: Settings, redis_client, sql_engine, redis_url: str) -> Flask:
    app = create_app(links_settings, Services(links_settings, redis_client, sql_engine, redis_url))
    app.config["TESTING"] = True
    return app


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest):
    """A migrated database on each backend (PostgreSQL: a database of its own, dropped after)."""
    return request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")
