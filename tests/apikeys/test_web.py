"""require_api_key on a tiny Flask app: real SQL (both backends) and a real Redis for the throttle."""

from __future__ import annotations

import pytest
from flask import Flask, g, jsonify
from flask.testing import FlaskClient

from bots.apikeys import ApiKeyError, ApiKeys, KeyThrottle
from bots.apikeys.web import current_api_key, register, require_api_key

from .conftest import OTHER_SCOPE

ATTEMPTS = 3
CHALLENGE = 'Bearer realm="brandbot", error="invalid_token"'


@pytest.fixture
def throttle(redis_url: str, redis_client) -> KeyThrottle:
    return KeyThrottle(redis_url, attempts=ATTEMPTS, window_minutes=15, key_prefix="test")


@pytest.fixture
def app(apikeys: ApiKeys, throttle: KeyThrottle) -> Flask:
    app = Flask(__name__)
    register(app, apikeys, throttle)

    @app.post("/api/v1/notifications")
    @require_api_key("notify")
    def notify():
        assert current_api_key() is g.api_key
        return jsonify(key=g.api_key.name, scopes=list(g.api_key.scopes)), 202

    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_right_key_passes_in_either_header(client: FlaskClient, apikeys: ApiKeys) -> None:
    key = apikeys.create("crm", ["notify"]).key
    for headers in (
        bearer(key),
        {"Authorization": f"bearer  {key} "},
        {"X-Api-Key": key},
        {**bearer(key), "X-Api-Key": key},
    ):
        response = client.post("/api/v1/notifications", headers=headers)
        assert response.status_code == 202, response.json
        assert response.json == {"key": "crm", "scopes": ["notify"]}
    assert apikeys.list()[0].last_used_at is not None


def test_no_key_is_401_without_an_error_code(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}, {"X-Api-Key": " "}):
        response = client.post("/api/v1/notifications", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="brandbot"'  # RFC 6750 3.1: no error code
        assert response.headers["Cache-Control"] == "no-store"
        assert "missing API key" in response.json["error"] and "X-Api-Key" in response.json["error"]


@pytest.mark.parametrize("which", ["malformed", "unknown", "revoked"])
def test_a_bad_key_is_401_invalid_token(client: FlaskClient, apikeys: ApiKeys, which: str) -> None:
    created = apikeys.create("crm", ["notify"])
    key = {
        "malformed": "not-a-key",
        "unknown": created.key[:-1] + ("A" if created.key[-1] != "A" else "B"),
        "revoked": created.key,
    }[which]
    if which == "revoked":
        assert apikeys.revoke(created.id)
    response = client.post("/api/v1/notifications", headers=bearer(key))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert which in response.json["error"] or (which == "malformed" and "not an API key" in response.json["error"])
    assert created.key not in response.get_data(as_text=True)


def test_a_key_without_the_scope_is_403(client: FlaskClient, apikeys: ApiKeys, two_scopes) -> None:
    created = apikeys.create("bi", [OTHER_SCOPE])
    response = client.post("/api/v1/notifications", headers={"X-Api-Key": created.key})
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="brandbot", error="insufficient_scope", scope="notify"'
    )
    assert response.json["error"].startswith(f"the API key 'bi' (bbk_{created.prefix}) lacks the scope 'notify'")


def test_two_different_keys_are_refused(client: FlaskClient, apikeys: ApiKeys) -> None:
    key = apikeys.create("crm", ["notify"]).key
    other = apikeys.create("erp", ["notify"]).key
    response = client.post("/api/v1/notifications", headers={**bearer(key), "X-Api-Key": other})
    assert response.status_code == 401 and "send one" in response.json["error"]


def test_repeated_bad_keys_from_one_address_are_throttled(client: FlaskClient, apikeys: ApiKeys, two_scopes) -> None:
    good = apikeys.create("crm", ["notify"]).key
    lacking = apikeys.create("bi", [OTHER_SCOPE]).key
    # neither a missing key nor a valid key lacking the scope counts as a failed attempt
    for _ in range(ATTEMPTS + 1):
        assert client.post("/api/v1/notifications").status_code == 401
        assert client.post("/api/v1/notifications", headers=bearer(lacking)).status_code == 403
    for _ in range(ATTEMPTS):
        assert client.post("/api/v1/notifications", headers=bearer("bbk_guess")).status_code == 401

    blocked = client.post("/api/v1/notifications", headers=bearer(good))  # even a good key waits
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 15 * 60 + 1
    assert "too many refused API keys" in blocked.json["error"]

    elsewhere = client.post("/api/v1/notifications", headers=bearer(good), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 202


def test_the_decorator_refuses_an_unknown_scope_at_once() -> None:
    with pytest.raises(ApiKeyError, match="unknown scope 'notfy'; valid scopes: notify"):
        require_api_key("notfy")


def test_a_view_without_register_says_what_is_missing(apikeys: ApiKeys) -> None:
    app = Flask(__name__)

    @app.get("/x")
    @require_api_key("notify")
    def x() -> str:
        return "x"

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError, match=r"register\(app, apikeys, throttle\)"):
        app.test_client().get("/x", headers={"X-Api-Key": apikeys.create("crm", ["notify"]).key})


def test_current_api_key_outside_a_checked_view(app: Flask) -> None:
    with app.test_request_context("/"), pytest.raises(RuntimeError, match="require_api_key"):
        current_api_key()
