"""What any client can send the staff API is answered 4xx with a reason, never 500 (found by the
HTTP fuzz campaign, tests/fuzz/test_http_schemathesis.py), on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from bots.services import Services
from bots.staff.accounts import Accounts
from bots.staff.web_auth import init_auth
from bots.web import api
from bots.web.app import MAX_BODY_BYTES
from tests.desk.conftest import desk_config, make_desk
from tests.pipeline.fake_channel import FakeConnector

from .conftest import World

CID = "fake:cust9"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        # out of the described range (1 to 2**31 - 1): refused by the OpenAPI check (was 404 "no staff member")
        ("POST", "/api/v1/conversations/{cid}/assign", '{"staff_id": 1180591620717411303424}', 422, "out of range"),
        ("POST", "/api/v1/conversations/{cid}/assign", '{"staff_id": -1}', 422, "out of range"),
        ("POST", "/api/v1/conversations/{cid}/assign", '{"email": "\\ud800@nimbus.example"}', 400, "lone surrogate"),
        ("POST", "/api/v1/conversations/{cid}/assign", '{"email": "' + "a" * 300 + '"}', 422, "limit is 254"),
        (
            "POST",
            "/api/v1/conversations/{cid}/messages",
            '{"text": "hi", "template": "\\udfff"}',
            400,
            "lone surrogate",
        ),
        # numbers out of range and texts over their length break the description: 422 (were 400)
        ("GET", "/api/v1/conversations?offset=99999999999999999999", "", 422, "out of range"),
        ("GET", "/api/v1/conversations?limit=0", "", 422, "out of range"),
        ("GET", "/api/v1/conversations?channel=" + "x" * 100, "", 422, "limit is 64"),
        ("GET", "/api/v1/conversations/" + "c" * 300, "", 422, "limit is 200"),
        ("POST", "/api/v1/conversations/fake:a%01b/takeover", "", 400, "control characters"),
    ],
)
def test_bad_input_is_a_4xx_with_a_reason(
    world: World, method: str, path: str, body: str, status: int, fragment: str
) -> None:
    r = world.client.open(
        path.format(cid=CID), method=method, data=body or None, content_type="application/json", headers=world.auth()
    )
    assert r.status_code == status, r.get_data(as_text=True)
    assert fragment in r.get_json()["error"]


@pytest.fixture
def pg_client(make_settings, redis_client, pg_engine, redis_url) -> Any:
    settings = make_settings(desk_config())
    services = Services(settings, redis_client, pg_engine, redis_url)
    desk = make_desk(
        settings, redis_client, pg_engine, {"fake": FakeConnector("http://127.0.0.1:9")}, lambda: datetime.now(UTC)
    )
    accounts = Accounts(pg_engine)
    accounts.add("ana@nimbus.example", "agent", name="Ana")
    token = accounts.issue_token("ana@nimbus.example")
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret", TESTING=True)
    init_auth(app, settings, redis_url, accounts)
    api.register(app, services, desk, accounts)
    return app.test_client(), {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/conversations/fake:a%00b", 400),
        ("POST", "/api/v1/conversations/fake:a%00b/takeover", 400),
        ("GET", "/api/v1/conversations?channel=a%00b", 200),  # a filter: the NUL is removed, nothing matches
        ("GET", "/api/v1/conversations?language=e%00n", 200),
    ],
)
def test_a_nul_byte_never_reaches_postgresql(pg_client: Any, method: str, path: str, status: int) -> None:
    """PostgreSQL text cannot hold NUL: the query would fail with a 500."""
    client, auth = pg_client
    r = client.open(path, method=method, headers=auth)
    assert r.status_code == status, r.get_data(as_text=True)
    if status == 400:
        assert "control characters" in r.get_json()["error"]
    else:
        assert r.get_json()["conversations"] == []


def test_a_body_over_one_mib_is_a_json_413(world: World) -> None:
    world.client.application.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # as create_app sets it
    big = '{"text": "' + "x" * (1024 * 1024) + '"}'
    r = world.client.post(
        f"/api/v1/conversations/{CID}/notes", data=big, content_type="application/json", headers=world.auth()
    )
    assert r.status_code == 413 and "error" in r.get_json()
