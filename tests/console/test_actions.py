"""Staff actions through the console's forms: CSRF enforced, each action done through the Desk."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bots.stores.models import audit_log, conversations
from connectors.webchat import WebchatConnector

from .conftest import CID, csrf_of

pytestmark = pytest.mark.integration

URL = f"/console/c/{CID}"


def mode_of(app) -> tuple[str, int | None]:
    with app.extensions["brandbot"].engine.connect() as conn:
        row = conn.execute(
            select(conversations.c.mode, conversations.c.assigned_to).where(conversations.c.id == CID)
        ).one()
    return row.mode, row.assigned_to


def outbox(app) -> list[str]:
    services = app.extensions["brandbot"]
    entries, _ = WebchatConnector(services.redis, services.settings.stores.key_prefix).read("vcustomer42", "0")
    return [e.text for e in entries]


@pytest.mark.parametrize("action", ["takeover", "reply", "note", "handback", "resolve", "assign"])
def test_a_post_without_the_csrf_token_is_refused(app, agent_client, waiting_conversation, action) -> None:
    response = agent_client.post(f"{URL}/{action}", data={"text": "hello", "assignee": "1"})
    assert response.status_code == 400
    assert mode_of(app) == ("waiting", None)


def test_a_wrong_csrf_token_is_refused_for_scripts_too(app, agent_client, waiting_conversation) -> None:
    response = agent_client.post(
        f"{URL}/takeover",
        data={"csrf_token": "forged"},
        headers={"Accept": "application/json", "X-CSRFToken": "forged"},
    )
    assert response.status_code == 400 and "error" in response.get_json()
    assert mode_of(app)[0] == "waiting"


def test_takeover_reply_note_handback_resolve_with_the_token(app, agent_client, staff, waiting_conversation) -> None:
    token = csrf_of(agent_client.get(URL).get_data(as_text=True))

    r = agent_client.post(f"{URL}/takeover", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["Location"] == URL
    assert mode_of(app) == ("human", staff.agent.id)
    page = agent_client.get(URL).get_data(as_text=True)
    assert "You have taken over this conversation" in page  # the flash
    assert ">Take over<" not in page and ">Hand back to bot<" in page
    assert "vcustomer42" in agent_client.get("/console?view=mine").get_data(as_text=True)

    r = agent_client.post(
        f"{URL}/reply",
        data={"csrf_token": token, "text": "Hi, Ada here. <b>Let me check.</b>"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200, r.get_json()
    assert "Hi, Ada here. <b>Let me check.</b>" in outbox(app)
    page = agent_client.get(URL).get_data(as_text=True)
    assert "msg-staff" in page and "Hi, Ada here. &lt;b&gt;Let me check.&lt;/b&gt;" in page

    r = agent_client.post(f"{URL}/note", data={"csrf_token": token, "text": "Refund already asked on 3 March <script>"})
    assert r.status_code == 303
    page = agent_client.get(URL).get_data(as_text=True)
    assert "Refund already asked on 3 March &lt;script&gt;" in page
    assert not any("Refund already asked" in t for t in outbox(app))  # private

    r = agent_client.post(f"{URL}/handback", data={"csrf_token": token})
    assert r.status_code == 303 and mode_of(app)[0] == "bot"

    r = agent_client.post(f"{URL}/resolve", data={"csrf_token": token})
    assert r.status_code == 303 and mode_of(app)[0] == "resolved"
    assert "vcustomer42" in agent_client.get("/console?view=resolved").get_data(as_text=True)

    with app.extensions["brandbot"].engine.connect() as conn:
        actions = [
            a
            for (a,) in conn.execute(
                select(audit_log.c.action).where(audit_log.c.subject == CID).order_by(audit_log.c.id)
            )
        ]
    assert {"mode:human", "reply", "note", "mode:bot", "mode:resolved"} <= set(actions)


def test_script_posts_get_json(app, agent_client, staff, waiting_conversation) -> None:
    token = csrf_of(agent_client.get(URL).get_data(as_text=True))
    headers = {"Accept": "application/json", "X-CSRFToken": token}
    r = agent_client.post(f"{URL}/assign", data={"assignee": str(staff.agent2.id)}, headers=headers)
    assert r.status_code == 200 and r.get_json() == {"ok": True, "message": "Assigned to Bob."}
    assert mode_of(app) == ("waiting", staff.agent2.id)
    r = agent_client.post(f"{URL}/assign", data={"assignee": str(staff.analyst.id)}, headers=headers)
    assert r.status_code == 422 and "analyst" in r.get_json()["error"]
    r = agent_client.post(f"{URL}/handback", data={}, headers=headers)
    assert r.status_code == 200
    r = agent_client.post(f"{URL}/handback", data={}, headers=headers)
    assert r.status_code == 409 and "handback" in r.get_json()["error"]
    r = agent_client.post(f"{URL}/note", data={"text": "   "}, headers=headers)
    assert r.status_code == 422
    r = agent_client.post("/console/c/webchat:nobody/takeover", data={}, headers=headers)
    assert r.status_code == 404


def test_a_slash_shortcut_sent_as_is_expands_to_the_canned_reply(app, agent_client, waiting_conversation) -> None:
    token = csrf_of(agent_client.get(URL).get_data(as_text=True))
    r = agent_client.post(f"{URL}/reply", data={"csrf_token": token, "text": "/refund"})
    assert r.status_code == 303
    assert outbox(app)[-1] == "Refunds reach your card within 7 days."
    assert mode_of(app)[0] == "human"  # replying took it over


def test_the_reply_form_offers_the_canned_replies(agent_client, waiting_conversation) -> None:
    html = agent_client.get(URL).get_data(as_text=True)
    assert 'data-shortcut="refund"' in html and 'data-shortcut="hello"' in html
    assert "<code>/refund</code>" in html
    # ranked first for the customer's last intent (refund)
    suggestions = html.split('id="suggestions"', 1)[1]
    assert suggestions.index("Refund policy") < suggestions.index("</ul>")
