"""Numbers any client can type into the console's forms and URLs are answered 4xx, never 500
(found by the HTTP fuzz campaign, tests/fuzz/test_http_schemathesis.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert

from bots.services import build_services
from bots.stores.models import conversations
from bots.web import create_app
from bots.web.console._shared import staff_id_of

pytestmark = pytest.mark.integration

CID = "webchat:vcustomer42"
PASSWORD = "correct horse battery"


@pytest.fixture
def admin(make_settings, sql_engine, redis_client) -> Iterator[FlaskClient]:
    """A signed-in admin on the real app (CSRF off: the forms' tokens are tested elsewhere)."""
    settings = make_settings()
    services = build_services(settings)
    app = create_app(settings, services)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    app.extensions["console"].accounts.add("root@example.com", "admin", password=PASSWORD, name="Root")
    now = datetime.now(UTC)
    with services.engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=CID, channel="webchat", customer_id="vcustomer42", mode="waiting", created_at=now, updated_at=now
            )
        )
    client = app.test_client()
    signed_in = client.post("/console/login", data={"email": "root@example.com", "password": PASSWORD})
    assert signed_in.status_code == 302
    yield client
    app.extensions["console"].hub.stop(timeout=2)
    services.close()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3), ("0003", 3), ("²", None), ("٣", None), ("-1", None), ("0", None), ("", None), ("9" * 30, None)],
)
def test_a_typed_staff_id_is_ascii_digits_within_the_integer_columns(raw: str, expected: int | None) -> None:
    assert staff_id_of(raw) == expected


@pytest.mark.parametrize("assignee", ["²", "99999999999999999999999"])
def test_assigning_to_an_impossible_id_is_refused_not_a_500(admin: FlaskClient, assignee: str) -> None:
    r = admin.post(f"/console/c/{CID}/assign", data={"assignee": assignee}, headers={"Accept": "application/json"})
    assert r.status_code == 422 and "choose the person" in r.get_json()["error"]


@pytest.mark.parametrize("action", ["disable", "enable", "tokens/revoke"])
def test_a_staff_id_beyond_the_integer_columns_is_a_404(admin: FlaskClient, action: str) -> None:
    assert admin.post(f"/console/staff/{'9' * 25}/{action}").status_code == 404
