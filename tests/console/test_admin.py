"""The staff admin page: admins only; add, disable, enable, revoke tokens."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD, csrf_of, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def admin_client(app, staff):
    return sign_in(app.test_client(), staff.admin)


def test_agents_cannot_open_the_staff_page(app, staff) -> None:
    client = sign_in(app.test_client(), staff.agent)
    assert client.get("/console/staff").status_code == 403
    token = csrf_of(client.get("/console").get_data(as_text=True))
    r = client.post(
        "/console/staff", data={"csrf_token": token, "email": "x@example.com", "role": "admin", "password": PASSWORD}
    )
    assert r.status_code == 403


def test_admin_lists_adds_disables_enables(app, admin_client, staff, console) -> None:
    page = admin_client.get("/console/staff")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for member in (staff.agent, staff.analyst, staff.admin):
        assert member.email in html
    token = csrf_of(html)

    r = admin_client.post(
        "/console/staff",
        data={
            "csrf_token": token,
            "email": "new@example.com",
            "name": "<i>New</i>",
            "role": "agent",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 303
    html = admin_client.get("/console/staff").get_data(as_text=True)
    assert "new@example.com" in html and "&lt;i&gt;New&lt;/i&gt;" in html
    new = console.accounts.by_email("new@example.com")
    assert new is not None and new.role == "agent"
    assert sign_in(app.test_client(), new).get("/console").status_code == 200

    r = admin_client.post(
        "/console/staff", data={"csrf_token": token, "email": "short@example.com", "role": "agent", "password": "short"}
    )
    assert r.status_code == 303
    assert "at least 10" in admin_client.get("/console/staff").get_data(as_text=True)
    assert console.accounts.by_email("short@example.com") is None

    r = admin_client.post(f"/console/staff/{new.id}/disable", data={"csrf_token": token})
    assert r.status_code == 303 and console.accounts.get(new.id).disabled
    r = admin_client.post(f"/console/staff/{new.id}/enable", data={"csrf_token": token})
    assert r.status_code == 303 and not console.accounts.get(new.id).disabled
    r = admin_client.post(
        f"/console/staff/{staff.admin.id}/disable", data={"csrf_token": token}, headers={"Accept": "application/json"}
    )
    assert r.status_code == 409 and not console.accounts.get(staff.admin.id).disabled


def test_admin_revokes_tokens(admin_client, staff, console) -> None:
    first = console.accounts.issue_token(staff.agent.email)
    second = console.accounts.issue_token(staff.agent.email)
    html = admin_client.get("/console/staff").get_data(as_text=True)
    assert first[:12] in html and first not in html
    token = csrf_of(html)
    r = admin_client.post(
        f"/console/staff/{staff.agent.id}/tokens/revoke", data={"csrf_token": token, "prefix": first[:12]}
    )
    assert r.status_code == 303
    assert console.accounts.staff_for_token(first) is None
    assert console.accounts.staff_for_token(second) is not None
    r = admin_client.post(f"/console/staff/{staff.agent.id}/tokens/revoke", data={"csrf_token": token})
    assert r.status_code == 303 and console.accounts.staff_for_token(second) is None
