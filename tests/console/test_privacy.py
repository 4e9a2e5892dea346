"""The console's privacy side: the consent panel, and the admin's export and erasure of a customer.

Real app, real Redis (the test db index) and SQLite (one erasure again on PostgreSQL).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, insert, select

from bots.live_events import live_channel
from bots.privacy import ConsentBook, Pseudonyms, Wording, customer
from bots.privacy.redis_traces import dump_key
from bots.privacy.tables import erasures
from bots.services import build_services
from bots.stores.models import conversations, messages, metadata
from bots.web import create_app
from bots.web.console.events import matcher
from bots.web.console.privacy import ConsentLine, confirmed, consent_lines, erased_message, export_filename

from .conftest import CANNED, CID, REPO, XSS, csrf_of, make_staff, seed_waiting_conversation, sign_in

pytestmark = pytest.mark.integration

URL = f"/console/c/{CID}"
RAW_ID = "vcustomer42"
WHO = customer("webchat", RAW_ID)
FEEDBACK = Wording("feedback-1", "May we learn from this conversation (anonymised)?", "en")
SERVICE = Wording("service-1", "We use your messages to answer you.", "en")


def admin_client(app: Flask, staff) -> FlaskClient:
    return sign_in(app.test_client(), staff.admin)


def engine_of(app: Flask) -> Engine:
    return app.extensions["brandbot"].engine


def consent_panel(html: str) -> str:
    m = re.search(r'<section class="panel" aria-labelledby="consent-heading".*?</section>', html, re.S)
    assert m, "no consent panel on the page"
    return m.group(0)


def purpose_line(panel: str, purpose: str) -> str:
    m = re.search(rf'<li class="consent [^"]*" data-purpose="{purpose}">.*?</li>', panel, re.S)
    assert m, f"no line for {purpose}"
    return re.sub(r"\s+", " ", m.group(0))


def traces_in_sql(engine: Engine, needle: str) -> list[str]:
    """Tables with a row whose values mention ``needle`` (every table of the schema)."""
    found = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)).all():
                if needle in json.dumps([str(v) for v in row]):
                    found.append(table.name)
                    break
    return found


def traces_in_redis(client, needle: str) -> list[str]:
    """Keys whose name or value mentions ``needle`` (every key of the test database)."""
    found = []
    for raw in client.scan_iter(count=1000):
        key = raw.decode()
        if needle in key or needle in json.dumps(dump_key(client, key), default=str):
            found.append(key)
    return found


# -- pure helpers ----------------------------------------------------------------------


def test_consent_lines_list_every_purpose_and_never_asked_ones() -> None:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    from bots.privacy import ConsentState

    lines = consent_lines({"feedback_analytics": ConsentState("feedback_analytics", False, "words", "feedback-1", at)})
    assert [(ln.purpose, ln.status) for ln in lines] == [
        ("service", "never asked"),
        ("service_updates", "never asked"),
        ("feedback_analytics", "withdrawn"),
        ("marketing", "never asked"),
    ]
    assert lines[2] == ConsentLine(
        "feedback_analytics", "Feedback analytics", "withdrawn", at, "in their own words", "feedback-1"
    )


def test_confirmation_takes_the_word_or_the_customer_id_only() -> None:
    assert confirmed("ERASE", WHO) and confirmed("  vcustomer42 ", WHO)
    assert not any(confirmed(typed, WHO) for typed in ("", "  ", "erase", "yes", "vcustomer4", "ERASE vcustomer42"))


def test_the_erasure_flash_counts_what_was_removed() -> None:
    from bots.privacy.erasure import ErasureReport

    at = datetime(2026, 11, 30, tzinfo=UTC)
    report = ErasureReport(
        7, at, {"sql:messages": 1, "sql:notes": 0, "sql:deliveries": 2, "redis:dedupe keys": 1, "redis:x": 0}
    )
    assert (
        erased_message(report)
        == "Customer erased (erasure record 7): removed 1 message, 2 deliveries, 1 Redis key and entries."
    )
    assert erased_message(ErasureReport(8, at, {})).endswith("removed nothing (no data was stored).")


def test_the_export_file_name_has_the_channel_but_not_the_id() -> None:
    name = export_filename(WHO, "ab" * 32, datetime(2026, 11, 30, tzinfo=UTC))
    assert name == "brandbot-export-webchat-abababababababab-20261130.json" and RAW_ID not in name


# -- the consent panel -----------------------------------------------------------------


def test_the_panel_shows_a_granted_and_a_withdrawn_purpose_to_an_agent(app, agent_client, waiting_conversation) -> None:
    book = ConsentBook(engine_of(app), clock=lambda: datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    book.grant(WHO, "service", how="button", wording=SERVICE)
    book.grant(WHO, "feedback_analytics", how="button", wording=FEEDBACK)
    book.withdraw(WHO, "feedback_analytics", how="words", wording=Wording("feedback-2", "stop analysing", "en"))

    html = agent_client.get(URL).get_data(as_text=True)
    panel = consent_panel(html)
    service = purpose_line(panel, "service")
    assert "Granted" in service and "by a button" in service and "<code>service-1</code>" in service
    assert 'datetime="2026-03-01T09:30:00Z"' in service
    feedback = purpose_line(panel, "feedback_analytics")
    assert "Withdrawn" in feedback and "in their own words" in feedback and "<code>feedback-2</code>" in feedback
    marketing = purpose_line(panel, "marketing")
    assert "Never asked" in marketing and "<time" not in marketing
    # agents see consent, not the admin's data actions; the customer's words stay text
    assert "Export data" not in html and "erase-form" not in html and "/erase" not in html
    assert XSS not in html


def test_the_panel_of_a_customer_never_asked_shows_never_asked(app, agent_client, waiting_conversation) -> None:
    panel = consent_panel(agent_client.get(URL).get_data(as_text=True))
    assert panel.count("Never asked") == 4 and "Granted" not in panel and "Withdrawn" not in panel


def test_an_admin_sees_export_and_erase(app, staff, waiting_conversation) -> None:
    html = admin_client(app, staff).get(URL).get_data(as_text=True)
    assert f'href="{URL}/export"' in html and f'action="{URL}/erase"' in html
    assert 'name="confirm" required' in html


# -- export ----------------------------------------------------------------------------


def test_export_as_admin_downloads_the_customer_json(app, staff, waiting_conversation, caplog) -> None:
    ConsentBook(engine_of(app)).grant(WHO, "feedback_analytics", how="button", wording=FEEDBACK)
    client = admin_client(app, staff)
    with caplog.at_level(logging.INFO, logger="bots.web.console"):
        r = client.get(f"{URL}/export")
    assert r.status_code == 200 and r.mimetype == "application/json"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="brandbot-export-webchat-') and RAW_ID not in disposition
    doc = r.get_json()
    assert doc["format"] == "brandbot-export/1"
    assert doc["profile"]["channel"] == "webchat" and doc["profile"]["id"] == RAW_ID
    assert [m["text"] for m in doc["messages"]] == [XSS, "Let me find a person for you."]
    assert [(c["purpose"], c["wording"]) for c in doc["consents"]["history"]] == [("feedback_analytics", FEEDBACK.text)]
    pseudonym = Pseudonyms(app.extensions["brandbot"].settings.privacy.analytics_secret).subject(WHO)
    logged = [rec.getMessage() for rec in caplog.records if "exported" in rec.getMessage()]
    assert logged == [f"staff:{staff.admin.id} exported the data of webchat customer {pseudonym} (pseudonym)"]
    assert all(RAW_ID not in rec.getMessage() for rec in caplog.records)


@pytest.mark.parametrize("role", ["agent", "analyst"])
def test_export_and_erase_are_refused_to_agents_and_analysts(app, staff, waiting_conversation, role) -> None:
    client = sign_in(app.test_client(), getattr(staff, role))
    token = csrf_of(client.get("/console/", follow_redirects=True).get_data(as_text=True))
    export = client.get(f"{URL}/export")
    assert export.status_code == 403 and RAW_ID not in export.get_data(as_text=True)
    erase = client.post(f"{URL}/erase", data={"csrf_token": token, "confirm": "ERASE"})
    assert erase.status_code == 403
    with engine_of(app).connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 2


def test_export_of_an_unknown_conversation_is_404(app, staff, waiting_conversation) -> None:
    assert admin_client(app, staff).get("/console/c/webchat:nobody-here/export").status_code == 404


# -- erasure ---------------------------------------------------------------------------


def test_erase_without_the_csrf_token_is_refused(app, staff, waiting_conversation) -> None:
    r = admin_client(app, staff).post(f"{URL}/erase", data={"confirm": "ERASE"})
    assert r.status_code == 400
    assert traces_in_sql(engine_of(app), RAW_ID)


@pytest.mark.parametrize("typed", [None, "", "yes", "erase"])
def test_erase_without_the_confirmation_is_refused_and_says_why(app, staff, waiting_conversation, typed) -> None:
    client = admin_client(app, staff)
    token = csrf_of(client.get(URL).get_data(as_text=True))
    data = {"csrf_token": token} if typed is None else {"csrf_token": token, "confirm": typed}
    r = client.post(f"{URL}/erase", data=data)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'id="erase-error"' in html and "Nothing was erased: type ERASE" in html
    assert 'aria-label="Transcript"' in html and "Let me find a person for you." in html  # the page again
    assert '<details class="erase" id="erase" open>' in html
    assert client.post(f"{URL}/erase", data=data, headers={"Accept": "application/json"}).status_code == 400
    with engine_of(app).connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 2


def _erase_and_check(app: Flask, staff, confirm: str) -> None:
    """Reply (a delivery, an outbox in Redis), consent, then erase as admin: nothing of the customer is left."""
    services = app.extensions["brandbot"]
    client = admin_client(app, staff)
    token = csrf_of(client.get(URL).get_data(as_text=True))
    assert client.post(f"{URL}/reply", data={"csrf_token": token, "text": "Hello from the desk"}).status_code == 303
    ConsentBook(services.engine).grant(WHO, "feedback_analytics", how="button", wording=FEEDBACK)
    assert traces_in_redis(services.redis, RAW_ID), "the reply left the customer's outbox in Redis"

    r = client.post(f"{URL}/erase", data={"csrf_token": token, "confirm": confirm})
    assert r.status_code == 303 and r.headers["Location"] == "/console"
    inbox = client.get("/console?view=open").get_data(as_text=True)
    flashes = re.findall(r'<p class="flash flash-ok">(Customer erased.*?)</p>', inbox, re.S)
    assert len(flashes) == 1, inbox[:2000]
    said = flashes[0]
    assert re.fullmatch(r"Customer erased \(erasure record \d+\): removed .+ and entries\.", said), said
    for part in ("3 messages", "1 conversation", "1 consent record,", "1 delivery,", "Redis key"):
        assert part in said, (part, said)
    assert RAW_ID not in inbox and "Nobody" in client.get("/console").get_data(as_text=True)
    assert client.get(URL).status_code == 404

    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(conversations)).scalar_one() == 0
        [record] = conn.execute(select(erasures)).all()
    assert record.actor == f"staff:{staff.admin.id}" and record.channel == "webchat"
    assert traces_in_sql(services.engine, RAW_ID) == []
    assert traces_in_redis(services.redis, RAW_ID) == []


def test_erase_confirmed_removes_the_customer_everywhere_and_says_what(app, staff, waiting_conversation) -> None:
    _erase_and_check(app, staff, "ERASE")


def test_erase_confirmed_by_typing_the_customer_id_answers_the_script_with_counts(
    app, staff, waiting_conversation
) -> None:
    services = app.extensions["brandbot"]
    client = admin_client(app, staff)
    token = csrf_of(client.get(URL).get_data(as_text=True))
    listener = services.redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(live_channel(services.settings.stores.key_prefix))
    r = client.post(
        f"{URL}/erase",
        data={"confirm": RAW_ID},
        headers={"Accept": "application/json", "X-CSRFToken": token},
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["ok"] is True and body["removed"]["sql:messages"] == 2 and body["removed"]["sql:conversations"] == 1
    assert body["message"].startswith(f"Customer erased (erasure record {body['erasure_id']}): removed 2 messages")
    assert client.get(URL).status_code == 404
    # open consoles hear of it (the channel is shared across test databases: look for ours)
    deadline = time.monotonic() + 5
    heard: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not heard:
        got = listener.get_message(timeout=0.5)
        if got is not None:
            event = json.loads(got["data"])
            if event.get("type") == "erased" and event.get("conversation_id") == CID:
                heard.append(event)
    listener.close()
    assert heard and heard[0]["actor"] == f"staff:{staff.admin.id}"
    assert matcher(None)(heard[0]) and matcher(CID)(heard[0])


@pytest.fixture
def pg_app(make_settings, pg_engine, redis_client) -> Iterator[Flask]:
    """The console on a fresh PostgreSQL database (the conftest's app runs on SQLite)."""
    settings = make_settings(
        {
            "console": {"canned_replies": CANNED},
            "dialogue": {"domain_file": str(REPO / "bots" / "airline" / "domain.yml")},
            "stores": {"database_url": pg_engine.url.render_as_string(hide_password=False)},
        }
    )
    services = build_services(settings)
    app = create_app(settings, services)
    app.config["TESTING"] = True
    yield app
    app.extensions["console"].hub.stop(timeout=2)
    services.close()


def test_erase_on_postgresql(pg_app) -> None:
    console = pg_app.extensions["console"]
    staff = make_staff(console)
    seed_waiting_conversation(pg_app, console)
    _erase_and_check(pg_app, staff, "ERASE")


def test_a_customer_the_privacy_duties_cannot_name_gets_a_note_and_no_actions(app, staff) -> None:
    """An id no channel could have (here with markup in it): the panel says why, export and erase refuse."""
    from urllib.parse import quote

    odd = "x<b>"
    now = datetime.now(UTC)
    with engine_of(app).begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=f"webchat:{odd}", channel="webchat", customer_id=odd, mode="bot", created_at=now, updated_at=now
            )
        )
    url = f"/console/c/{quote('webchat:' + odd)}"
    client = admin_client(app, staff)
    html = client.get(url).get_data(as_text=True)
    panel = consent_panel(html)
    assert "is not a web chat visitor id" in panel and "&lt;b&gt;" in panel and "<b>" not in panel
    assert "erase-form" not in html and "brandbot forget" in html
    assert client.get(f"{url}/export").status_code == 409
    token = csrf_of(html)
    assert client.post(f"{url}/erase", data={"csrf_token": token, "confirm": "ERASE"}).status_code == 409
