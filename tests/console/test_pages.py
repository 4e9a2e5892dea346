"""Console pages: who may see them, what they show, and that customer text stays text."""

from __future__ import annotations

import pytest

from .conftest import CID, XSS, sign_in

pytestmark = pytest.mark.integration

DESK_PAGES = ["/console", "/console/inbox/rows", f"/console/c/{CID}", "/console/events"]


@pytest.mark.parametrize("path", [*DESK_PAGES, "/console/staff", "/console/"])
def test_anonymous_is_sent_to_the_login_page(app, staff, path) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("path", [*DESK_PAGES, "/console/staff"])
def test_analyst_gets_403_on_conversation_pages(app, staff, waiting_conversation, path) -> None:
    client = sign_in(app.test_client(), staff.analyst)
    response = client.get(path)
    assert response.status_code == 403
    assert XSS not in response.get_data(as_text=True) and "vcustomer42" not in response.get_data(as_text=True)


def test_analyst_lands_on_a_page_pointing_to_the_dashboard(app, staff, waiting_conversation) -> None:
    client = sign_in(app.test_client(), staff.analyst)
    page = client.get("/console/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "dashboard" in html and "vcustomer42" not in html and "onerror" not in html


def test_analyst_cannot_act_on_a_conversation(app, staff, waiting_conversation) -> None:
    client = sign_in(app.test_client(), staff.analyst)
    token = _token(client, "/console/")
    for action in ("takeover", "reply", "note", "handback", "resolve", "assign"):
        response = client.post(f"/console/c/{CID}/{action}", data={"csrf_token": token, "text": "hi"})
        assert response.status_code == 403, action


def _token(client, path: str) -> str:
    from .conftest import csrf_of

    return csrf_of(client.get(path).get_data(as_text=True))


def test_agent_sees_the_waiting_conversation_with_its_preview_escaped(agent_client, waiting_conversation) -> None:
    page = agent_client.get("/console")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/console/c/webchat:vcustomer42">vcustomer42</a>' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert XSS not in html
    assert 'data-count-for="waiting">1<' in html
    assert "7 min" in html  # the wait, ticking in the page's script
    headers = page.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"]


def test_inbox_filters_and_search(agent_client, waiting_conversation) -> None:
    assert "vcustomer42" in agent_client.get("/console?view=waiting&channel=webchat&language=en").get_data(as_text=True)
    assert "vcustomer42" not in agent_client.get("/console?view=waiting&language=fr").get_data(as_text=True)
    assert "vcustomer42" in agent_client.get("/console?view=open&q=ONERROR").get_data(as_text=True)
    assert "vcustomer42" not in agent_client.get("/console?view=open&q=nothing-like-it").get_data(as_text=True)
    assert "vcustomer42" not in agent_client.get("/console?view=mine").get_data(as_text=True)
    rows = agent_client.get("/console/inbox/rows?view=waiting")
    assert rows.status_code == 200
    fragment = rows.get_data(as_text=True)
    assert (
        fragment.lstrip().startswith("<table>\n<tbody") and 'data-count-waiting="1"' in fragment
    )  # a parser keeps a tbody only inside a table
    assert "&lt;img" in fragment and XSS not in fragment


def test_conversation_shows_transcript_nlu_and_canned_replies(agent_client, waiting_conversation) -> None:
    page = agent_client.get(f"/console/c/{CID}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "msg-customer" in html and "msg-bot" in html
    assert "refund" in html and "87%" in html and "negative" in html and "-0.62" in html
    assert "/refund" in html and "Refunds reach your card within 7 days." in html  # canned, listed
    assert "Suggested replies" in html
    for button in (">Take over<", ">Send<", ">Hand back to bot<", ">Resolve<", ">Add note<"):
        assert button in html
    assert '<label for="reply-text">Reply</label>' in html
    assert 'aria-live="polite"' in html
    assert " style=" not in html and " onclick=" not in html and "<script>" not in html


def test_unknown_conversation_is_404(agent_client) -> None:
    assert agent_client.get("/console/c/webchat:nobody").status_code == 404


def test_static_files_are_served(app) -> None:
    client = app.test_client()
    for name in ("console.css", "console.js", "inbox.js", "conversation.js"):
        response = client.get(f"/console/static/{name}")
        assert response.status_code == 200, name
        response.close()


def test_signing_out_drops_the_agents_presence(app, staff, console) -> None:
    from .conftest import csrf_of, sign_in

    client = sign_in(app.test_client(), staff.agent)
    console.presence.beat(staff.agent.id)  # what an open console tab's event stream does
    assert console.presence.online() == 1
    page = client.get("/console").get_data(as_text=True)
    assert client.post("/console/logout", data={"csrf_token": csrf_of(page)}).status_code == 302
    assert console.presence.online() == 0, "customers must not be told an agent is online"
