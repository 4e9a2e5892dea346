"""Dashboard fixtures: the real app (real Redis, migrated SQLite), staff of every role, the seeded data set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bots.services import build_services
from bots.web import create_app
from tests.console.conftest import Staff, make_staff, sign_in

from .seed import seed


@pytest.fixture
def app(make_settings, sql_engine, redis_client) -> Iterator[Flask]:
    settings = make_settings()
    services = build_services(settings)
    app = create_app(settings, services)
    app.config["TESTING"] = True
    yield app
    app.extensions["console"].hub.stop(timeout=2)
    services.close()


@pytest.fixture
def staff(app: Flask) -> Staff:
    return make_staff(app.extensions["console"])


@pytest.fixture
def seeded(app: Flask) -> Flask:
    seed(app.extensions["brandbot"].engine)
    return app


@pytest.fixture
def analyst(seeded: Flask, staff: Staff) -> FlaskClient:
    return sign_in(seeded.test_client(), staff.analyst)
