"""Telegram webhook: secret check, every update kind parsed on purpose."""

from __future__ import annotations

import pytest

from connectors.base import WebhookRequest
from connectors.errors import ForgedRequest, MalformedRequest
from connectors.telegram import parse_update

from .conftest import load_fixture, telegram_request

pytestmark = pytest.mark.integration  # real Redis and the fake channel APIs


def test_text_message_becomes_an_inbound_keyed_on_update_id(telegram):
    [inb] = telegram.parse(telegram_request(load_fixture("telegram_message_text")))
    assert inb.channel == "telegram"
    assert inb.message_id == "815400001"
    assert inb.sender_id == "5123456789"
    assert inb.conversation_id == "telegram:5123456789"
    assert inb.text == "Can I change my seat on KL1234?"
    assert inb.kind == "message"
    assert inb.sender_name == "Marieke de Vries"
    assert inb.timestamp.timestamp() == 1764370000
    assert inb.raw["update_id"] == 815400001


def test_missing_secret_header_is_forged(telegram):
    with pytest.raises(ForgedRequest, match="missing X-Telegram-Bot-Api-Secret-Token"):
        telegram.parse(telegram_request(load_fixture("telegram_message_text"), secret=None))


def test_wrong_secret_is_forged(telegram):
    with pytest.raises(ForgedRequest, match="does not match"):
        telegram.parse(telegram_request(load_fixture("telegram_message_text"), secret="guess"))


def test_secret_is_checked_before_the_body(telegram):
    with pytest.raises(ForgedRequest):
        telegram.parse(telegram_request(b"not json", secret="guess"))


@pytest.mark.parametrize(
    "body, match",
    [
        (b"not json", "not UTF-8 JSON"),
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"message": {"text": "hi"}}', "no integer update_id"),
        (b'{"update_id": "7"}', "no integer update_id"),
        (b'{"update_id": 7, "message": {"text": "no chat, no date"}}', "Bot API shape"),
    ],
)
def test_malformed_bodies_are_refused(telegram, body, match):
    with pytest.raises(MalformedRequest, match=match):
        telegram.parse(telegram_request(body))


def test_photo_keeps_the_largest_size_and_the_caption_as_text():
    [inb] = parse_update(load_fixture("telegram_message_photo"))
    assert inb.text == "My boarding pass"
    [att] = inb.attachments
    assert (att.kind, att.file_id, att.caption) == ("image", "AgACAgQAAxkBAAIBsmLarge", "My boarding pass")


def test_document_and_location_are_typed_attachments():
    [doc] = parse_update(load_fixture("telegram_message_document"))[0].attachments
    assert (doc.kind, doc.name, doc.mime_type) == ("document", "receipt.pdf", "application/pdf")
    [loc] = parse_update(load_fixture("telegram_message_location"))[0].attachments
    assert (loc.kind, loc.latitude, loc.longitude) == ("location", 52.308613, 4.763889)


def test_sticker_is_a_message_with_a_sticker_attachment():
    [inb] = parse_update(load_fixture("telegram_message_sticker"))
    assert inb.kind == "message" and inb.text == ""
    assert inb.attachments[0].kind == "sticker" and inb.attachments[0].name == "👍"


def test_edited_message_is_kind_edit_with_the_edit_time():
    [inb] = parse_update(load_fixture("telegram_edited_message"))
    assert inb.kind == "edit"
    assert inb.text.endswith("KL1235?")
    assert inb.timestamp.timestamp() == 1764370099


def test_callback_query_gives_payload_and_button_title(telegram, redis_client):
    [raw] = telegram.parse(telegram_request(load_fixture("telegram_callback_query")))
    inb = telegram.resolve(raw)  # in the worker, before the turn
    assert inb.kind == "callback"
    assert inb.payload == "seat_change:yes"
    assert inb.text == "Yes, please"
    assert inb.conversation_id == "telegram:5123456789"


def test_joins_and_blocks_are_events():
    [join] = parse_update(load_fixture("telegram_new_chat_members"))
    assert (join.kind, join.event, join.conversation_id) == ("event", "member_joined", "telegram:-1001234567890")
    [blocked] = parse_update(load_fixture("telegram_my_chat_member_blocked"))
    assert (blocked.kind, blocked.event) == ("event", "bot_blocked")


@pytest.mark.parametrize("name", ["telegram_inline_query", "telegram_message_pinned"])
def test_updates_that_are_not_customer_messages_give_nothing(name):
    assert parse_update(load_fixture(name)) == []


def test_unknown_future_update_kind_is_ignored_not_a_crash():
    assert parse_update({"update_id": 99, "some_future_kind": {"id": 1}}) == []


def test_inbound_survives_a_json_round_trip():
    from connectors.base import Inbound

    [inb] = parse_update(load_fixture("telegram_message_photo"))
    assert Inbound.from_dict(inb.to_dict()) == inb


def test_header_lookup_is_case_insensitive(telegram):
    req = telegram_request(load_fixture("telegram_message_text"))
    lower = WebhookRequest(req.method, req.url, {k.lower(): v for k, v in req.headers.items()}, req.body)
    assert telegram.parse(lower)[0].message_id == "815400001"
