"""The web chat connector against a real Redis: parse, send, read, dedupe, forget."""

from __future__ import annotations

import json
import threading
import time

import pytest

from connectors.base import Connector, Inbound, Outbound, QuickReply, WebhookRequest
from connectors.errors import MalformedRequest, PermanentSendError
from connectors.webchat import VISITOR_HEADER, WebchatConnector

VISITOR = "v-0123456789abcdef"


@pytest.fixture
def chat(redis_client):
    return WebchatConnector(redis_client, "bbtest", max_text_length=50, outbox_maxlen=100, ttl_seconds=600)


def post(body: object, visitor: str | None = VISITOR) -> WebhookRequest:
    headers = {"Content-Type": "application/json"}
    if visitor is not None:
        headers[VISITOR_HEADER] = visitor
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WebhookRequest("POST", "http://localhost/chat/api/messages", headers, raw)


def test_it_is_a_connector_with_buttons(chat: WebchatConnector) -> None:
    assert isinstance(chat, Connector)
    assert chat.channel == "webchat"
    assert chat.rules.supports_buttons and chat.rules.max_buttons >= 3


def test_parse_builds_one_inbound_keyed_by_visitor_and_client_id(chat: WebchatConnector) -> None:
    [msg] = chat.parse(post({"text": "  Bonjour  ", "client_id": "c-11111111"}))
    assert msg.channel == "webchat"
    assert msg.sender_id == VISITOR
    assert msg.conversation_id == f"webchat:{VISITOR}"
    assert msg.message_id == f"{VISITOR}:c-11111111"
    assert msg.text == "Bonjour"
    assert msg.payload is None
    assert Inbound.from_dict(json.loads(json.dumps(msg.to_dict()))) == msg


def test_parse_keeps_a_button_payload(chat: WebchatConnector) -> None:
    [msg] = chat.parse(post({"text": "Oui", "payload": "/affirm", "client_id": "c-22222222"}))
    assert msg.payload == "/affirm"
    [bare] = chat.parse(post({"payload": "/affirm", "client_id": "c-33333333"}))
    assert bare.text == "" and bare.payload == "/affirm"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"{not json", "not valid UTF-8 JSON"),
        (b"\xff\xfe", "not valid UTF-8 JSON"),
        ([1, 2], "must be a JSON object, got list"),
        ({"text": "hi"}, "'client_id' is required"),
        ({"text": "hi", "client_id": "short"}, "'client_id' is required"),
        ({"text": 5, "client_id": "c-44444444"}, "'text' must be a string, got int"),
        ({"text": "   ", "client_id": "c-44444444"}, "empty message"),
        ({"text": "x" * 51, "client_id": "c-44444444"}, "51 characters; the limit is 50"),
        ({"text": "hi", "payload": "", "client_id": "c-44444444"}, "'payload' must be a string"),
        ({"text": "hi", "client_id": "c-44444444", "visitor": "someone-else"}, r"unknown field\(s\) \['visitor'\]"),
    ],
)
def test_parse_rejects_malformed_posts_naming_the_problem(chat: WebchatConnector, body: object, match: str) -> None:
    with pytest.raises(MalformedRequest, match=match):
        chat.parse(post(body))


@pytest.mark.parametrize("visitor", [None, "", "short", "has space in it", "x" * 65, "<script>alert(1)</script>"])
def test_parse_rejects_a_missing_or_bad_visitor_id(chat: WebchatConnector, visitor: str | None) -> None:
    with pytest.raises(MalformedRequest, match="visitor id"):
        chat.parse(post({"text": "hi", "client_id": "c-55555555"}, visitor=visitor))


def test_send_appends_text_and_buttons_readable_from_a_cursor(chat: WebchatConnector) -> None:
    first = chat.send(Outbound("webchat", VISITOR, "Hello"))
    second = chat.send(
        Outbound(
            "webchat",
            VISITOR,
            "Which seat?",
            quick_replies=(QuickReply("15C", "/seat{15C}"), QuickReply("Annuler", "/cancel")),
        )
    )
    assert first.startswith("webchat:") and first != second
    entries, cursor = chat.read(VISITOR, "0")
    assert [e.text for e in entries] == ["Hello", "Which seat?"]
    assert entries[1].quick_replies == (("15C", "/seat{15C}"), ("Annuler", "/cancel"))
    assert entries[1].to_dict()["quick_replies"] == [
        {"title": "15C", "payload": "/seat{15C}"},
        {"title": "Annuler", "payload": "/cancel"},
    ]
    assert all(e.role == "bot" for e in entries)
    assert cursor == entries[-1].id == second.removeprefix("webchat:")
    assert chat.read(VISITOR, cursor) == ([], cursor)
    chat.send(Outbound("webchat", VISITOR, "third"))
    newer, _ = chat.read(VISITOR, cursor)
    assert [e.text for e in newer] == ["third"]


def test_send_with_the_same_idempotency_key_shows_once(chat: WebchatConnector) -> None:
    msg = Outbound("webchat", VISITOR, "Seat 15C confirmed", idempotency_key="m1:0")
    assert chat.send(msg) == chat.send(msg)
    entries, _ = chat.read(VISITOR, "0")
    assert [e.text for e in entries] == ["Seat 15C confirmed"]


def test_echo_records_the_customer_message_once(chat: WebchatConnector) -> None:
    [msg] = chat.parse(post({"text": "Bonjour", "client_id": "c-66666666"}))
    assert chat.echo(msg) == chat.echo(msg)
    [entry], _ = chat.read(VISITOR, "0")
    assert (entry.role, entry.text, entry.client_id) == ("customer", "Bonjour", "c-66666666")


def test_text_is_stored_verbatim_not_interpreted(chat: WebchatConnector) -> None:
    evil = '<script>alert("x")</script> & <b>'
    chat.send(Outbound("webchat", VISITOR, evil))
    [entry], _ = chat.read(VISITOR, "0")
    assert entry.text == evil


def test_outbox_is_capped_and_expires(chat: WebchatConnector, redis_client) -> None:
    for i in range(400):
        chat.send(Outbound("webchat", VISITOR, f"m{i}"))
    assert redis_client.xlen(chat.outbox_key(VISITOR)) < 250
    assert 0 < redis_client.ttl(chat.outbox_key(VISITOR)) <= 600


def test_keys_carry_the_visitor_hash_tag(chat: WebchatConnector, redis_client) -> None:
    chat.send(Outbound("webchat", VISITOR, "hi", idempotency_key="k"))
    keys = {k.decode() for k in redis_client.keys("*")}
    assert keys and all(f"{{webchat:{VISITOR}}}" in k and k.startswith("bbtest:") for k in keys)


def test_send_to_a_bad_recipient_is_permanent(chat: WebchatConnector) -> None:
    with pytest.raises(PermanentSendError, match="not a visitor id"):
        chat.send(Outbound("webchat", "bad id", "hi"))
    with pytest.raises(PermanentSendError, match="neither text nor quick replies"):
        chat.send(Outbound("webchat", VISITOR, ""))


def test_read_waits_for_a_reply_that_arrives_later(chat: WebchatConnector) -> None:
    timer = threading.Timer(0.3, lambda: chat.send(Outbound("webchat", VISITOR, "late")))
    timer.start()
    started = time.monotonic()
    entries, _ = chat.read(VISITOR, "0", wait_seconds=5)
    timer.join()
    assert [e.text for e in entries] == ["late"]
    assert time.monotonic() - started < 3


def test_read_gives_up_after_the_wait(chat: WebchatConnector) -> None:
    started = time.monotonic()
    assert chat.read(VISITOR, "0", wait_seconds=0.3) == ([], "0")
    assert 0.25 < time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("visitor", "cursor", "match"), [("bad", "0", "visitor id"), (VISITOR, "1-x", "cursor"), (VISITOR, "$", "cursor")]
)
def test_read_rejects_bad_arguments(chat: WebchatConnector, visitor: str, cursor: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        chat.read(visitor, cursor)


def test_forget_erases_the_transcript(chat: WebchatConnector, redis_client) -> None:
    chat.send(Outbound("webchat", VISITOR, "hi", idempotency_key="k"))
    assert chat.forget(VISITOR) == 2
    assert redis_client.keys("*") == []
