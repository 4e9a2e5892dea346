"""An agent's reply through the real WhatsApp connector to the fake Twilio API: the 24-hour window."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bots.channel_registry import build_whatsapp
from bots.desk import InvalidInput, ReplyWindow
from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN, FakeTwilioAPI

from .conftest import T0, add_conversation, add_message, desk_config, make_desk

CONTENT_SID = "HX" + "c" * 32
CID, NUMBER = "whatsapp:+31611111111", "+31611111111"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioAPI]:
    with FakeTwilioAPI() as fake:
        yield fake


def test_reply_inside_and_outside_the_window(make_settings, redis_client, sql_engine, fake_twilio, people) -> None:
    settings = make_settings(
        desk_config(
            channels={
                "webchat": {"enabled": False},
                "twilio": {
                    "enabled": True,
                    "account_sid": DEFAULT_SID,
                    "auth_token": DEFAULT_TOKEN,
                    "whatsapp_from": "whatsapp:+3120000000",
                    "api_base_url": fake_twilio.base_url,
                    "whatsapp": {"templates": {"reply": {"content_sid": CONTENT_SID, "variables": ["{text}"]}}},
                },
            }
        )
    )
    now = {"t": T0}
    connector = build_whatsapp(settings, redis_client, clock=lambda: now["t"].timestamp())
    assert isinstance(connector, ReplyWindow)
    desk = make_desk(settings, redis_client, sql_engine, {"whatsapp": connector}, lambda: now["t"])
    add_conversation(sql_engine, CID, channel="whatsapp", customer=NUMBER)
    add_message(sql_engine, CID, "hello, a person please", intent="human_handoff", at=T0)
    connector.state.note_inbound(CID, T0.timestamp())  # what the worker's resolve() does for the inbound
    ana = people["ana"]

    now["t"] = T0 + timedelta(hours=1)
    window = desk.detail(CID).window
    assert window is not None and (window.open, window.closes_at, window.templates) == (
        True,
        T0 + timedelta(hours=24),
        ("reply",),
    )
    result = desk.reply(CID, ana, "Hi, Ana here. Let me look.")
    assert result.status == "sent"
    [sent] = fake_twilio.messages()
    assert (sent["To"], sent["Body"], sent["From"]) == (
        f"whatsapp:{NUMBER}",
        "Hi, Ana here. Let me look.",
        "whatsapp:+3120000000",
    )

    now["t"] = T0 + timedelta(hours=25)
    window = desk.detail(CID).window
    assert window is not None and (window.open, window.closes_at) == (False, None)
    with pytest.raises(InvalidInput, match=r"window is closed: pick a template \(one of \['reply'\]\)"):
        desk.reply(CID, ana, "Are you still there?")
    with pytest.raises(InvalidInput, match="template 'promo' is not configured"):
        desk.reply(CID, ana, "Are you still there?", template_kind="promo")
    assert len(fake_twilio.messages()) == 1, "refused before any API call"
    result = desk.reply(CID, ana, "Are you still there?", template_kind="reply")
    assert result.status == "sent"
    templated = fake_twilio.messages()[-1]
    assert templated["ContentSid"] == CONTENT_SID and "Body" not in templated
    assert json.loads(templated["ContentVariables"]) == {"1": "Are you still there?"}
    assert desk.detail(CID).messages[-1].text == "Are you still there?"


def test_a_closed_window_without_templates_says_the_customer_must_write(
    make_settings, redis_client, sql_engine, fake_twilio, people
) -> None:
    settings = make_settings(
        desk_config(
            channels={
                "webchat": {"enabled": False},
                "twilio": {
                    "enabled": True,
                    "account_sid": DEFAULT_SID,
                    "auth_token": DEFAULT_TOKEN,
                    "whatsapp_from": "whatsapp:+3120000000",
                    "api_base_url": fake_twilio.base_url,
                },
            }
        )
    )
    at = datetime(2026, 3, 5, tzinfo=UTC)
    connector = build_whatsapp(settings, redis_client, clock=lambda: at.timestamp())
    desk = make_desk(settings, redis_client, sql_engine, {"whatsapp": connector}, lambda: at)
    add_conversation(sql_engine, CID, channel="whatsapp", customer=NUMBER)
    with pytest.raises(InvalidInput, match="no template is configured"):
        desk.reply(CID, people["ana"], "hello?")
    assert fake_twilio.messages() == []
