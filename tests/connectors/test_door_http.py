"""Issue 14: every input checked at the door, and valid deliveries neither refused nor misrouted.

Through the real app (Flask test client) on real Redis and SQLite, with the real connectors
pointed at the fake channel APIs: what a client can send gets a 400 with a reason (never a
500), what is queued is clean, and a valid delivery the bot does not act on gets 200, is not
queued and is counted.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from twilio.request_validator import RequestValidator

from bots.pipeline import keys_for
from bots.services import Services
from bots.web.webhooks import EMPTY_TWIML
from connectors.base import Inbound
from connectors.telegram import SECRET_HEADER

from .conftest import SMS_FROM, TG_SECRET, TWILIO_TOKEN, WHATSAPP_FROM, load_fixture

pytestmark = pytest.mark.integration  # real Redis, SQL and the fake channel APIs

PUBLIC = "https://bot.example.com"
CHAT_API = "/chat/api/messages"


@pytest.fixture
def world(app_services) -> World:
    app, services = app_services
    return World(app.test_client(), services)


class World:
    def __init__(self, client: FlaskClient, services: Services) -> None:
        self.client, self.services = client, services

    def queued(self) -> list[Inbound]:
        """Every Inbound waiting in the pipeline's streams."""
        out: list[Inbound] = []
        for stream in keys_for(self.services.settings).all_streams():
            for _id, fields in self.services.redis.xrange(stream):
                out.append(Inbound.from_dict(json.loads(fields[b"m"])))
        return out

    def telegram(self, update: dict[str, Any] | bytes) -> Any:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        return self.client.post(
            "/webhooks/telegram", data=body, content_type="application/json", headers={SECRET_HEADER: TG_SECRET}
        )

    def twilio(self, form: dict[str, str]) -> Any:
        """A signed Twilio message webhook."""
        sig = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)
        return self.client.post(
            "/webhooks/twilio",
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": sig},
        )

    def twilio_raw(self, body: bytes) -> Any:
        """A Twilio webhook whose body is given as bytes (a signature over what can be read of it)."""
        return self.client.post(
            "/webhooks/twilio",
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": "c2lnbmF0dXJl"},
        )


def ignored(channel: str, kind: str) -> float:
    return REGISTRY.get_sample_value("brandbot_webhook_ignored_total", {"channel": channel, "kind": kind}) or 0.0


def text_update(text: str, update_id: int = 815400101) -> dict[str, Any]:
    update = load_fixture("telegram_message_text")
    update["update_id"] = update_id
    update["message"]["text"] = text
    return update


# -- the web chat -----------------------------------------------------------------------------


def test_a_web_chat_message_holding_nul_is_queued_without_it(world: World) -> None:
    """The finding: accepted with its NUL, it later broke PostgreSQL and stalled the workers."""
    answer = world.client.post(CHAT_API, json={"text": "change my seat\x00 to 12A\x00", "client_id": "c-nul-00001"})
    assert answer.status_code == 202
    [msg] = world.queued()
    assert msg.text == "change my seat to 12A"
    assert "\\u0000" not in json.dumps(msg.to_dict())


def test_a_web_chat_message_is_cleaned_of_controls_and_normalised(world: World) -> None:
    answer = world.client.post(CHAT_API, json={"text": "\x1b[31mcafe\u0301\x07 ", "client_id": "c-nfc-00001"})
    assert answer.status_code == 202
    assert [m.text for m in world.queued()] == ["[31mcafé"]


@pytest.mark.parametrize("field", ["text", "payload"])
def test_a_lone_surrogate_in_the_chat_api_is_a_400_naming_the_field(world: World, field: str) -> None:
    """The finding: ``\\ud800`` in the chat API's JSON gave a 500 page."""
    body = json.dumps({field: "hi MARK there", "client_id": "c-sur-00001"}).replace("MARK", "\\ud800")
    assert "\\ud800" in body
    answer = world.client.post(CHAT_API, data=body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json["field"] == field
    assert "lone surrogate (U+D800)" in answer.json["error"]
    assert world.queued() == []


def test_an_oversized_web_chat_text_is_a_400_naming_the_field(world: World) -> None:
    answer = world.client.post(CHAT_API, json={"text": "x" * 2001, "client_id": "c-big-00001"})
    assert (answer.status_code, answer.json["field"]) == (400, "text")
    assert "2001 characters; the limit is 2000" in answer.json["error"]
    assert world.queued() == []


def test_a_control_only_payload_is_a_400(world: World) -> None:
    answer = world.client.post(CHAT_API, json={"payload": "\x00\x01", "client_id": "c-pay-00001"})
    assert answer.status_code == 400 and answer.json["field"] == "payload"


# -- Telegram -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "path"),
    [
        ("telegram_message_text", ("message", "text")),
        ("telegram_message_text", ("message", "from", "first_name")),
        ("telegram_message_text", ("message", "chat", "username")),  # a field the bot does not read: still kept raw
        ("telegram_callback_query", ("callback_query", "data")),
        ("telegram_message_document", ("message", "document", "file_name")),
    ],
)
def test_a_lone_surrogate_in_a_signed_telegram_update_is_a_400_with_the_reason(
    world: World, fixture: str, path: tuple[str, ...]
) -> None:
    """The finding: a signed update holding the JSON escape ``\\ud800`` gave a 500."""
    update = load_fixture(fixture)
    node = update
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = "MARK"
    body = json.dumps(update).replace("MARK", "x\\ud800y").encode()
    answer = world.telegram(body)
    assert answer.status_code == 400
    reason = answer.get_data(as_text=True)
    assert "lone surrogate (U+D800)" in reason and ".".join(path) in reason
    assert world.queued() == []


def test_nul_and_controls_in_a_telegram_update_are_removed_everywhere(world: World) -> None:
    update = text_update("seat\x00 12A\x07 please")
    update["message"]["from"]["first_name"] = "Mari\x00eke"
    update["message"]["chat"]["first_name"] = "Mari\x00eke"
    assert world.telegram(update).status_code == 200
    [msg] = world.queued()
    assert msg.text == "seat 12A please"
    assert msg.sender_name == "Marieke de Vries"
    assert "\\u0000" not in json.dumps(msg.to_dict())  # the raw update kept on the Inbound too


def test_an_oversized_telegram_text_is_a_400_naming_the_field(world: World) -> None:
    answer = world.telegram(text_update("x" * 4097))
    assert answer.status_code == 400
    assert "message.text is 4097 characters long; the limit is 4096" in answer.get_data(as_text=True)
    assert world.telegram(text_update("x" * 4096, 815400102)).status_code == 200


def test_nan_in_a_telegram_update_is_a_400(world: World) -> None:
    update = load_fixture("telegram_message_location")
    body = json.dumps(update).replace(str(update["message"]["location"]["latitude"]), "NaN", 1).encode()
    assert b"NaN" in body
    assert world.telegram(body).status_code == 400


POLL_ANSWER = {
    "update_id": 815400200,
    "poll_answer": {
        "poll_id": "5432167890123456789",
        "user": {"id": 5123456789, "is_bot": False, "first_name": "Marieke"},
        "option_ids": [1],
    },
}
UNHANDLED = [
    POLL_ANSWER,
    {
        "update_id": 815400201,
        "poll": {
            "id": "5432167890123456789",
            "question": "Window or aisle?",
            "options": [{"text": "Window", "voter_count": 1}, {"text": "Aisle", "voter_count": 0}],
            "total_voter_count": 1,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        },
    },
    {
        "update_id": 815400202,
        "chat_join_request": {
            "chat": {"id": -1001234567890, "title": "Nimbus fans", "type": "supergroup"},
            "from": {"id": 5123456789, "is_bot": False, "first_name": "Marieke"},
            "user_chat_id": 5123456789,
            "date": 1764370000,
        },
    },
    {
        "update_id": 815400203,
        "message_reaction_count": {
            "chat": {"id": -1001234567890, "title": "Nimbus news", "type": "channel"},
            "message_id": 11,
            "date": 1764370000,
            "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 3}],
        },
    },
    {
        "update_id": 815400204,
        "edited_channel_post": {
            "message_id": 7,
            "chat": {"id": -1001234567890, "title": "Nimbus news", "type": "channel"},
            "date": 1764370000,
            "edit_date": 1764370060,
            "text": "Gate change: B12",
        },
    },
    {"update_id": 815400205, "some_future_kind": {"anything": [1, 2, 3]}},
]


@pytest.mark.parametrize("update", UNHANDLED, ids=lambda u: next(k for k in u if k != "update_id"))
def test_a_telegram_update_kind_the_bot_does_not_handle_gets_200_and_is_counted(
    world: World, update: dict[str, Any]
) -> None:
    """The finding: a well-formed ``poll_answer`` got 400, so Telegram retried it."""
    kind = next(k for k in update if k != "update_id")
    label = "other" if kind == "some_future_kind" else kind
    before = ignored("telegram", label)
    assert world.telegram(update).status_code == 200
    assert world.queued() == []
    assert ignored("telegram", label) == before + 1


def test_a_blocked_bot_update_over_http_marks_the_chat_blocked(world: World) -> None:
    assert world.telegram(load_fixture("telegram_my_chat_member_blocked")).status_code == 200
    [event] = world.queued()
    assert (event.kind, event.event) == ("event", "bot_blocked")
    telegram = world.services.connectors["telegram"]
    assert telegram.blocked("5123456789") is not None


# -- Twilio ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("escape", ["%ED%A0%80", "%FF", "%C3"])
def test_a_twilio_body_with_percent_escapes_that_are_not_utf8_is_a_400(world: World, escape: str) -> None:
    form = load_fixture("twilio_sms_text")
    body = urlencode(form).replace(quote(form["Body"]).replace("%20", "+"), "hi" + escape)
    assert escape.encode() in body.encode()
    answer = world.twilio_raw(body.encode())
    assert answer.status_code == 400
    assert "not application/x-www-form-urlencoded UTF-8" in answer.get_data(as_text=True)
    assert world.queued() == []


def test_nul_in_a_twilio_body_is_removed(world: World) -> None:
    form = load_fixture("twilio_sms_text") | {"Body": "Is KL1234\x00 on time?\x1b", "ProfileName": "Ana\x00"}
    assert world.twilio(form).status_code == 200
    [msg] = world.queued()
    assert msg.text == "Is KL1234 on time?"
    assert "\\u0000" not in json.dumps(msg.to_dict())


@pytest.mark.parametrize(
    ("fixture", "size", "status"),
    [
        ("twilio_sms_text", 1600, 200),
        ("twilio_sms_text", 1601, 400),
        ("twilio_whatsapp_text", 4096, 200),
        ("twilio_whatsapp_text", 4097, 400),
    ],
)
def test_twilio_bodies_are_capped_per_channel(world: World, fixture: str, size: int, status: int) -> None:
    answer = world.twilio(load_fixture(fixture) | {"Body": "x" * size})
    assert answer.status_code == status
    if status == 400:
        assert f"Body is {size} characters long" in answer.get_data(as_text=True)
    assert len(world.queued()) == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("fixture", "to"),
    [
        ("twilio_sms_text", "+14155559999"),
        ("twilio_sms_stop", "+14155559999"),  # not even a STOP is recorded for a number that is not ours
        ("twilio_whatsapp_text", "whatsapp:+14155559999"),
        ("twilio_whatsapp_text", f"whatsapp:{SMS_FROM}"),  # our SMS number, but not our WhatsApp sender
    ],
)
def test_a_twilio_message_to_a_number_that_is_not_ours_is_not_answered(
    world: World, caplog: pytest.LogCaptureFixture, fixture: str, to: str
) -> None:
    """The finding: an SMS sent to a number that is not one of ours was answered from ours."""
    form = load_fixture(fixture) | {"To": to}
    channel = "whatsapp" if to.startswith("whatsapp:") else "sms"
    before = ignored(channel, "not_our_number")
    with caplog.at_level(logging.WARNING, logger="bots.web.webhooks"):
        answer = world.twilio(form)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, EMPTY_TWIML)
    assert world.queued() == []
    assert ignored(channel, "not_our_number") == before + 1
    assert SMS_FROM in caplog.text and WHATSAPP_FROM in caplog.text
    sms = world.services.connectors["sms"]
    assert not sms.is_opted_out(form["From"])


def test_a_forged_or_malformed_message_to_another_number_is_still_refused(world: World) -> None:
    form = load_fixture("twilio_sms_text") | {"To": "+14155559999"}
    forged = world.client.post(
        "/webhooks/twilio",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "Zm9yZ2Vk"},
    )
    assert forged.status_code == 403
    del form["MessageSid"], form["SmsMessageSid"], form["SmsSid"]
    assert world.twilio(form).status_code == 400
    assert world.queued() == []
