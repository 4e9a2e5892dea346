"""The OpenAPI descriptions (bots/web/openapi/): valid, served, and covering every route of the app."""

from __future__ import annotations

import re

import pytest
import schemathesis

from bots.services import Services
from bots.web import create_app
from bots.web.openapi import Description, flask_path, load, load_all

pytestmark = pytest.mark.integration

_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def full_app(make_settings, redis_client, sql_engine, redis_url):
    """The app with every channel enabled, so every route is registered (nothing is sent)."""
    settings = make_settings(
        {
            "channels": {
                "telegram": {
                    "enabled": True,
                    "token": "123:abc",
                    "webhook_secret": "s",
                    "api_base_url": "http://127.0.0.1:9/bot",
                },
                "twilio": {
                    "enabled": True,
                    "account_sid": "AC" + "0" * 32,
                    "auth_token": "t",
                    "whatsapp_from": "whatsapp:+3120000000",
                    "sms_from": "+3120000001",
                    "api_base_url": "http://127.0.0.1:9",
                },
            }
        }
    )
    app = create_app(settings, Services(settings, redis_client, sql_engine, redis_url))
    app.config["TESTING"] = True
    return app


def described_operations() -> set[tuple[str, str]]:
    """(METHOD, Flask-style path) of every operation of every description."""
    found = set()
    for description in load_all().values():
        for path, item in description["paths"].items():
            for method in _METHODS:
                if method in item:
                    found.add((method.upper(), flask_path(description, path)))
    return found


def test_every_route_is_described_and_every_description_is_a_route(full_app) -> None:
    """A new route without a description (or a description of a route that went away) fails here."""
    routes = {
        (method, _CONVERTER.sub(r"<\1>", rule.rule))
        for rule in full_app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    described = described_operations()
    assert routes - described == set(), "routes without an OpenAPI description (bots/web/openapi/)"
    assert described - routes == set(), "described operations that are no route of the app"


@pytest.mark.parametrize("description", list(Description))
def test_each_description_is_valid_openapi_with_an_id_per_operation(description: Description) -> None:
    schema = schemathesis.openapi.from_dict(load(description))
    schema.validate()
    ids = [op.ok().definition.raw.get("operationId") for op in schema.get_all_operations()]
    assert all(ids) and len(ids) == len(set(ids)), ids


def test_the_api_serves_its_description_without_a_token(full_app) -> None:
    r = full_app.test_client().get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.is_json
    served = r.get_json()
    assert served == load(Description.API_V1)
    assert served["servers"] == [{"url": "/api/v1"}] and "/conversations/{conversation_id}/messages" in served["paths"]


def test_loaded_descriptions_are_copies(full_app) -> None:
    first = load(Description.API_V1)
    first["paths"].clear()
    assert load(Description.API_V1)["paths"]
