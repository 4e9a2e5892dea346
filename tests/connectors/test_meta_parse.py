"""Meta webhooks (Messenger, Instagram, WhatsApp Cloud): captured bodies parsed into Inbounds and statuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import Attachment
from connectors.errors import BadInput, MalformedRequest
from connectors.meta import MetaAccounts, MetaDelivery, MetaStatus, parse_delivery

from .conftest import FIXTURES

PAGE = "104857600123456"
PSID = "6925431234567890"
IG = "17841400000000001"
IGSID = "7012345678901234"
PHONE_ID = "109876543210987"
ACCOUNTS = MetaAccounts(page_id=PAGE, instagram_id=IG, phone_number_id=PHONE_ID)
AT = datetime(2025, 11, 28, 22, 46, 40, tzinfo=UTC)  # 1764370000 s
MID = "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
WAMID = "wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQUIwMDAwMDAwMDAwMDAwMDAw"


def body_of(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def data_of(name: str) -> dict[str, Any]:
    return json.loads(body_of(name))


def parse(name_or_data: str | dict[str, Any] | bytes, accounts: MetaAccounts = ACCOUNTS, **kw: Any) -> MetaDelivery:
    if isinstance(name_or_data, bytes):
        body = name_or_data
    elif isinstance(name_or_data, str):
        body = body_of(name_or_data)
    else:
        body = json.dumps(name_or_data).encode("utf-8")
    return parse_delivery(body, accounts, **kw)


def one(name_or_data: str | dict[str, Any]):
    delivery = parse(name_or_data)
    assert delivery.statuses == [] and delivery.ignored == []
    [inbound] = delivery.inbounds
    return inbound


# -- Messenger -------------------------------------------------------------------------


def test_messenger_text_is_a_message_keyed_on_mid_in_conversation_messenger_psid():
    inb = one("meta_messenger_text")
    assert (inb.channel, inb.sender_id, inb.conversation_id) == ("messenger", PSID, f"messenger:{PSID}")
    assert inb.message_id == MID
    assert (inb.kind, inb.text, inb.payload, inb.attachments) == (
        "message",
        "Can I change my seat on KL1234?",
        None,
        (),
    )
    assert inb.timestamp == AT
    assert inb.sender_name is None and inb.event is None
    assert inb.raw == {"object": "page", "account_id": PAGE}


def test_messenger_timestamp_keeps_its_milliseconds():
    data = data_of("meta_messenger_text")
    data["entry"][0]["messaging"][0]["timestamp"] = 1764370000123
    assert one(data).timestamp == datetime(2025, 11, 28, 22, 46, 40, 123000, tzinfo=UTC)


def test_quick_reply_is_a_callback_with_its_payload_and_the_button_text():
    inb = one("meta_messenger_quick_reply")
    assert (inb.kind, inb.payload, inb.text, inb.message_id) == (
        "callback",
        "/affirm",
        "Yes, rebook me",
        "m_quickreply0001",
    )


def test_postback_is_a_callback_keyed_on_its_mid_with_the_title_as_text():
    inb = one("meta_messenger_postback")
    assert (inb.kind, inb.payload, inb.text, inb.message_id) == (
        "callback",
        "/ask_baggage",
        "Baggage allowance",
        "m_postback0001",
    )


def test_get_started_postback_becomes_greet_and_without_mid_is_keyed_on_sender_and_time():
    inb = one("meta_messenger_postback_get_started")
    assert (inb.kind, inb.payload, inb.text) == ("callback", "/greet", "Get Started")
    assert inb.message_id == f"postback:{PSID}:1764370000000"


def test_get_started_payload_is_configurable():
    data = data_of("meta_messenger_postback")
    [inb] = parse(data, get_started_payload="/ask_baggage").inbounds
    assert inb.payload == "/greet"
    [default] = parse(data).inbounds
    assert default.payload == "/ask_baggage"


def test_image_attachment_without_text_is_a_message_with_empty_text():
    inb = one("meta_messenger_image")
    assert (inb.kind, inb.text, inb.message_id) == ("message", "", "m_image0001")
    assert inb.attachments == (
        Attachment(
            "image", url="https://scontent.xx.fbcdn.net/v/t1.15752-9/boarding_pass.jpg?_nc_cat=1&oh=00_AfA&oe=6790"
        ),
    )


def test_location_attachment_gives_coordinates_and_title():
    [att] = one("meta_messenger_location").attachments
    assert att == Attachment("location", latitude=52.308613, longitude=4.763889, name="Amsterdam Airport Schiphol")


def test_image_with_a_sticker_id_is_a_sticker():
    [att] = one("meta_messenger_sticker").attachments
    assert att.kind == "sticker"
    assert att.url == "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png"


@pytest.mark.parametrize(
    "meta_type, kind, name",
    [
        ("video", "video", None),
        ("audio", "audio", None),
        ("file", "document", None),
        ("fallback", "document", "fallback"),
    ],
)
def test_attachment_types_map_to_attachment_kinds(meta_type, kind, name):
    data = data_of("meta_messenger_image")
    data["entry"][0]["messaging"][0]["message"]["attachments"][0]["type"] = meta_type
    [att] = one(data).attachments
    assert (att.kind, att.name) == (kind, name)
    assert att.url is not None and att.url.startswith("https://scontent.xx.fbcdn.net/")


def test_template_attachment_without_url_is_a_document_named_by_its_type():
    data = data_of("meta_messenger_image")
    data["entry"][0]["messaging"][0]["message"]["attachments"] = [
        {"type": "template", "payload": {"template_type": "generic", "elements": []}}
    ]
    [att] = one(data).attachments
    assert att == Attachment("document", name="template")


def test_text_and_attachment_together_keep_both():
    data = data_of("meta_messenger_image")
    data["entry"][0]["messaging"][0]["message"]["text"] = "Here it is"
    inb = one(data)
    assert (inb.text, inb.attachments[0].kind) == ("Here it is", "image")


@pytest.mark.parametrize(
    "flag, kind", [("is_echo", "echo"), ("is_deleted", "deleted"), ("is_unsupported", "unsupported")]
)
def test_flagged_messages_are_ignored_by_kind(flag, kind):
    data = data_of("meta_messenger_text")
    data["entry"][0]["messaging"][0]["message"][flag] = True
    assert parse(data) == MetaDelivery([], [], [kind])


def test_echo_of_our_own_send_is_ignored():
    assert parse("meta_messenger_echo") == MetaDelivery([], [], ["echo"])


def test_read_and_delivery_are_ignored_by_name_even_without_a_timestamp():
    assert parse("meta_messenger_read_delivery") == MetaDelivery([], [], ["read", "delivery"])


@pytest.mark.parametrize("name", ["referral", "optin", "account_linking"])
def test_other_known_events_are_ignored_by_name(name):
    data = data_of("meta_messenger_text")
    event = data["entry"][0]["messaging"][0]
    del event["message"]
    event[name] = {"ref": "summer-sale"}
    assert parse(data).ignored == [name]


def test_unknown_event_shape_is_ignored_as_unknown():
    data = data_of("meta_messenger_text")
    event = data["entry"][0]["messaging"][0]
    del event["message"]
    event["game_play"] = {"game_id": "1"}
    assert parse(data) == MetaDelivery([], [], ["unknown"])


def test_message_with_nothing_in_it_is_ignored_as_empty():
    data = data_of("meta_messenger_text")
    del data["entry"][0]["messaging"][0]["message"]["text"]
    assert parse(data).ignored == ["empty"]


def test_reaction_is_an_event_with_the_emoji_and_what_it_reacted_to():
    inb = one("meta_messenger_reaction")
    assert (inb.kind, inb.event, inb.text) == ("event", "reaction", "\u2764\ufe0f")
    assert inb.message_id == f"reaction:{PSID}:m_sent0001:react:\u2764\ufe0f"
    assert inb.raw == {"object": "page", "account_id": PAGE, "reacted_to": "m_sent0001", "action": "react"}


def test_unreact_without_emoji_falls_back_to_the_reaction_name():
    data = data_of("meta_messenger_reaction")
    data["entry"][0]["messaging"][0]["reaction"] = {"mid": "m_sent0001", "action": "unreact", "reaction": "love"}
    inb = one(data)
    assert (inb.text, inb.message_id, inb.raw["action"]) == ("love", f"reaction:{PSID}:m_sent0001:unreact:", "unreact")


def test_standby_events_are_ignored_one_per_event():
    assert parse("meta_messenger_standby") == MetaDelivery([], [], ["standby"])


def test_chat_plugin_guest_without_psid_is_ignored_as_user_ref():
    data = data_of("meta_messenger_text")
    data["entry"][0]["messaging"][0]["sender"] = {"user_ref": "guest-5521"}
    assert parse(data).ignored == ["user_ref"]


def test_batched_body_gives_every_event_in_order():
    delivery = parse("meta_messenger_batch")
    assert [(i.message_id, i.sender_id, i.kind) for i in delivery.inbounds] == [
        ("m_batch0001", PSID, "message"),
        ("m_batch0002", PSID, "message"),
        ("m_batch0003", "6925431234560002", "callback"),
    ]
    assert [i.text for i in delivery.inbounds] == ["Hello", "My flight is KL1234", "Check in"]
    assert delivery.ignored == ["read"]


def test_entry_for_a_page_that_is_not_ours_is_ignored():
    assert parse("meta_messenger_not_ours") == MetaDelivery([], [], ["not_ours"])


def test_messenger_off_means_its_entries_are_not_ours():
    accounts = MetaAccounts(instagram_id=IG, phone_number_id=PHONE_ID)
    assert parse("meta_messenger_batch", accounts).ignored == ["not_ours"] * 4


# -- Instagram -------------------------------------------------------------------------


def test_instagram_text_is_channel_instagram_keyed_on_igsid():
    inb = one("meta_instagram_text")
    assert (inb.channel, inb.sender_id, inb.conversation_id) == ("instagram", IGSID, f"instagram:{IGSID}")
    assert (inb.kind, inb.text) == ("message", "Do you fly to Lisbon?")
    assert inb.message_id == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAx"
    assert inb.raw == {"object": "instagram", "account_id": IG}


def test_instagram_story_mention_is_a_document_with_its_url():
    inb = one("meta_instagram_story_mention")
    assert (inb.kind, inb.text) == ("message", "")
    assert inb.attachments == (
        Attachment(
            "document",
            url="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17900000000000001&signature=AbC",
            name="story_mention",
        ),
    )


def test_instagram_reaction_is_an_event():
    inb = one("meta_instagram_reaction")
    assert (inb.channel, inb.kind, inb.event, inb.text) == ("instagram", "event", "reaction", "\u2764")
    assert inb.raw["reacted_to"] == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAz"


def test_instagram_entry_is_not_ours_when_the_page_id_matches_but_the_ig_id_does_not():
    accounts = MetaAccounts(page_id=IG, instagram_id="17841400000000999", phone_number_id=PHONE_ID)
    assert parse("meta_instagram_text", accounts).ignored == ["not_ours"]


def test_instagram_text_is_capped_at_1000_characters():
    data = data_of("meta_instagram_text")
    data["entry"][0]["messaging"][0]["message"]["text"] = "a" * 1000
    assert one(data).text == "a" * 1000
    data["entry"][0]["messaging"][0]["message"]["text"] = "a" * 1001
    with pytest.raises(BadInput, match=r"entry\[0\]\.messaging\[0\]\.message\.text is 1001 characters long"):
        parse(data)


def test_instagram_comment_changes_are_ignored_by_field():
    data = {"object": "instagram", "entry": [{"id": IG, "time": 1764370000, "changes": [{"field": "comments"}]}]}
    assert parse(data).ignored == ["field:comments"]


# -- WhatsApp Cloud -------------------------------------------------------------------


def test_whatsapp_text_is_keyed_on_wamid_with_e164_sender_and_profile_name():
    inb = one("meta_whatsapp_text")
    assert (inb.channel, inb.sender_id, inb.conversation_id) == (
        "whatsapp_cloud",
        "+31612345678",
        "whatsapp_cloud:+31612345678",
    )
    assert inb.message_id == "wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQTdGQjI1RDlFNzg1NkE0QkZBMQA="
    assert (inb.kind, inb.text, inb.sender_name) == ("message", "Is KL1234 on time?", "Marieke de Vries")
    assert inb.timestamp == AT
    assert inb.raw == {"object": "whatsapp_business_account", "account_id": PHONE_ID}


def test_whatsapp_sender_name_is_none_without_contacts():
    data = data_of("meta_whatsapp_text")
    del data["entry"][0]["changes"][0]["value"]["contacts"]
    assert one(data).sender_name is None


def test_whatsapp_button_reply_is_a_callback_with_id_and_title():
    inb = one("meta_whatsapp_button_reply")
    assert (inb.kind, inb.payload, inb.text, inb.message_id) == ("callback", "/affirm", "Yes", WAMID + "MQA=")


def test_whatsapp_list_reply_is_a_callback_with_the_row_id_and_title():
    inb = one("meta_whatsapp_list_reply")
    assert (inb.kind, inb.payload, inb.text, inb.message_id) == (
        "callback",
        "/seat_window",
        "Window seat",
        WAMID + "MgA=",
    )


def test_whatsapp_template_button_is_a_callback_with_its_payload():
    inb = one("meta_whatsapp_button")
    assert (inb.kind, inb.payload, inb.text) == ("callback", "/rebook", "Rebook me")


def test_whatsapp_flow_reply_is_unsupported():
    data = data_of("meta_whatsapp_button_reply")
    data["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"] = {
        "type": "nfm_reply",
        "nfm_reply": {"response_json": "{}", "body": "Sent", "name": "flow"},
    }
    assert parse(data) == MetaDelivery([], [], ["unsupported"])


def test_whatsapp_image_with_caption_gives_media_id_and_caption_as_text():
    inb = one("meta_whatsapp_image")
    assert (inb.kind, inb.text) == ("message", "My boarding pass")
    assert inb.attachments == (
        Attachment("image", file_id="1479537139650973", mime_type="image/jpeg", caption="My boarding pass"),
    )


def test_whatsapp_voice_note_is_an_audio_attachment_with_empty_text():
    inb = one("meta_whatsapp_audio_voice")
    assert inb.text == ""
    assert inb.attachments == (Attachment("audio", file_id="1003383421387256", mime_type="audio/ogg; codecs=opus"),)


def test_whatsapp_document_keeps_its_file_name():
    data = data_of("meta_whatsapp_image")
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    message["type"] = "document"
    message["document"] = {"filename": "receipt.pdf", "mime_type": "application/pdf", "id": "889900112233"}
    del message["image"]
    [att] = one(data).attachments
    assert att == Attachment("document", file_id="889900112233", mime_type="application/pdf", name="receipt.pdf")


def test_whatsapp_location_gives_coordinates_name_and_address():
    inb = one("meta_whatsapp_location")
    assert (inb.kind, inb.text) == ("message", "")
    assert inb.attachments == (
        Attachment(
            "location",
            latitude=52.308613,
            longitude=4.763889,
            name="Schiphol",
            caption="Evert van de Beekstraat 202, Schiphol",
        ),
    )


def test_whatsapp_shared_contact_is_a_contact_attachment_with_name_and_phone():
    inb = one("meta_whatsapp_contacts")
    assert inb.attachments == (Attachment("contact", name="Joost Bakker", caption="+31 6 87654321"),)


def test_whatsapp_reaction_is_an_event_with_the_emoji_and_what_it_reacted_to():
    inb = one("meta_whatsapp_reaction")
    assert (inb.kind, inb.event, inb.text, inb.message_id) == ("event", "reaction", "\U0001f44d", WAMID + "OAA=")
    assert inb.raw == {
        "object": "whatsapp_business_account",
        "account_id": PHONE_ID,
        "reacted_to": "wamid.HBgLMzE2MTIzNDU2NzgVAgARGBJBQkNERUYwMTIzNDU2Nzg5AA==",
    }


def test_whatsapp_removed_reaction_has_empty_text():
    data = data_of("meta_whatsapp_reaction")
    del data["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"]["emoji"]
    assert one(data).text == ""


@pytest.mark.parametrize(
    "wa_type, kind", [("unsupported", "unsupported"), ("order", "unsupported"), ("system", "system")]
)
def test_whatsapp_unsupported_and_system_messages_are_ignored(wa_type, kind):
    data = data_of("meta_whatsapp_text")
    data["entry"][0]["changes"][0]["value"]["messages"][0]["type"] = wa_type
    assert parse(data) == MetaDelivery([], [], [kind])


def test_whatsapp_statuses_sent_delivered_read_in_order():
    delivery = parse("meta_whatsapp_statuses")
    wamid = "wamid.HBgLMzE2MTIzNDU2NzgVAgARGBJPVVQwMDAwMDAwMDAwMDAxAA=="
    assert delivery.inbounds == [] and delivery.ignored == []
    assert delivery.statuses == [
        MetaStatus(wamid, "sent", "+31612345678", datetime.fromtimestamp(1764370001, UTC)),
        MetaStatus(wamid, "delivered", "+31612345678", datetime.fromtimestamp(1764370002, UTC)),
        MetaStatus(wamid, "read", "+31612345678", datetime.fromtimestamp(1764370005, UTC)),
    ]


def test_whatsapp_failed_status_carries_the_first_error_code_and_title():
    [status] = parse("meta_whatsapp_status_failed").statuses
    assert (status.status, status.error_code, status.error_title) == ("failed", "131047", "Re-engagement message")
    assert status.failed and status.message_id == "wamid.HBgLMzE2MTIzNDU2NzgVAgARGBJPVVQwMDAwMDAwMDAwMDAyAA=="


def test_whatsapp_entry_for_another_phone_number_is_not_ours():
    assert parse("meta_whatsapp_not_ours") == MetaDelivery([], [], ["not_ours"])


def test_whatsapp_off_means_its_entries_are_not_ours():
    assert parse("meta_whatsapp_statuses", MetaAccounts(page_id=PAGE)) == MetaDelivery([], [], ["not_ours"] * 3)


def test_whatsapp_change_of_another_field_is_ignored_by_its_name():
    data = data_of("meta_whatsapp_text")
    data["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    assert parse(data).ignored == ["field:message_template_status_update"]


def test_whatsapp_text_up_to_4096_characters_is_accepted_and_longer_refused():
    data = data_of("meta_whatsapp_text")
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    message["text"]["body"] = "é" * 4096
    assert one(data).text == "é" * 4096
    message["text"]["body"] = "é" * 4097
    with pytest.raises(BadInput, match=r"messages\[0\]\.text\.body is 4097 characters long; the limit is 4096"):
        parse(data)


def test_control_characters_are_removed_and_text_normalised_to_nfc():
    data = data_of("meta_whatsapp_text")
    data["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "Cafe\u0301\x00 ok\x07"
    assert one(data).text == "Café ok"


# -- malformed bodies ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, match",
    [
        (b"not json", "not UTF-8 JSON"),
        (b"\xff\xfe{}", "not UTF-8 JSON"),
        (b'{"object": "page", "entry": [NaN]}', "not UTF-8 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not UTF-8 JSON|nested too deeply"),
        (b'[{"object": "page"}]', "must be a JSON object, not list"),
        (b'"page"', "must be a JSON object, not str"),
        (b'{"object": "user", "entry": []}', r"object 'user' is not one of"),
        (b'{"object": ["page"], "entry": []}', r"object \['page'\] is not one of"),
        (b'{"entry": []}', "object None is not one of"),
        (b'{"object": "page", "entry": {"id": "1"}}', "entry must be a list, not dict"),
        (b'{"object": "page"}', "entry must be a list, not missing"),
        (b'{"object": "page", "entry": ["x"]}', r"entry\[0\] must be an object, not str"),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(body, match):
    with pytest.raises(MalformedRequest, match=match):
        parse(body)


def messenger_event(**event: Any) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [event]}]}


MESSAGE = {"mid": "m_1", "text": "hi"}


@pytest.mark.parametrize(
    "data, match",
    [
        (messenger_event(timestamp=1, message=MESSAGE), r"messaging\[0\]\.sender must be an object, not missing"),
        (messenger_event(sender={}, timestamp=1, message=MESSAGE), r"sender\.id is missing or empty"),
        (
            messenger_event(sender={"id": 6925431234567890}, timestamp=1, message=MESSAGE),
            r"sender\.id must be a string",
        ),
        (messenger_event(sender={"id": "../x"}, timestamp=1, message=MESSAGE), "is not an id of 1 to 32 digits"),
        (messenger_event(sender={"id": PSID}, message=MESSAGE), r"timestamp None is not a non-negative integer"),
        (messenger_event(sender={"id": PSID}, timestamp=True, message=MESSAGE), "timestamp True is not"),
        (messenger_event(sender={"id": PSID}, timestamp=10**30, message=MESSAGE), "is not a time"),
        (messenger_event(sender={"id": PSID}, timestamp=1, message={"text": "hi"}), r"message\.mid is missing"),
        (messenger_event(sender={"id": PSID}, timestamp=1, message="hi"), r"message must be an object, not str"),
        (
            messenger_event(sender={"id": PSID}, timestamp=1, message={**MESSAGE, "attachments": {}}),
            r"message\.attachments must be a list",
        ),
        (
            messenger_event(
                sender={"id": PSID}, timestamp=1, message={"mid": "m", "attachments": [{"type": "location"}]}
            ),
            r"payload\.coordinates must be an object",
        ),
        (
            messenger_event(
                sender={"id": PSID},
                timestamp=1,
                message={
                    "mid": "m",
                    "attachments": [{"type": "location", "payload": {"coordinates": {"lat": 91, "long": 0}}}],
                },
            ),
            r"coordinates\.lat 91 is not a coordinate",
        ),
        (messenger_event(sender={"id": PSID}, timestamp=1, postback={"title": "x"}), r"postback\.payload is missing"),
        (messenger_event(sender={"id": PSID}, timestamp=1, reaction={"action": "react"}), r"reaction\.mid is missing"),
        ({"object": "page", "entry": [{"time": 1, "messaging": []}]}, r"entry\[0\]\.id is missing"),
        ({"object": "page", "entry": [{"id": PAGE, "messaging": {}}]}, r"entry\[0\]\.messaging must be a list"),
    ],
)
def test_messenger_events_without_the_fields_they_need_are_refused(data, match):
    with pytest.raises(MalformedRequest, match=match):
        parse(data)


def whatsapp_value(**value: Any) -> dict[str, Any]:
    change = {"field": "messages", "value": {"metadata": {"phone_number_id": PHONE_ID}, **value}}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


TEXT = {"from": "31612345678", "id": "wamid.1", "timestamp": "1764370000", "type": "text", "text": {"body": "hi"}}


@pytest.mark.parametrize(
    "data, match",
    [
        ({"object": "whatsapp_business_account", "entry": [{"id": "1"}]}, r"changes must be a list, not missing"),
        (whatsapp_value(metadata={}), r"metadata\.phone_number_id is missing"),
        (whatsapp_value(messages={}), r"value\.messages must be a list"),
        (whatsapp_value(messages=[{**TEXT, "from": "+31612345678"}]), r"from '\+31612345678' is not an id"),
        (whatsapp_value(messages=[{**TEXT, "id": ""}]), r"messages\[0\]\.id is missing or empty"),
        (whatsapp_value(messages=[{**TEXT, "timestamp": "soon"}]), r"timestamp 'soon' is not a non-negative"),
        (whatsapp_value(messages=[{**TEXT, "text": "hi"}]), r"messages\[0\]\.text must be an object"),
        (whatsapp_value(messages=[{**TEXT, "type": None}]), r"messages\[0\]\.type is missing"),
        (whatsapp_value(messages=[{**TEXT, "type": "image", "image": {"caption": "x"}}]), r"image\.id is missing"),
        (
            whatsapp_value(messages=[{**TEXT, "type": "location", "location": {"latitude": "52", "longitude": 4}}]),
            r"location\.latitude '52' is not a coordinate",
        ),
        (
            whatsapp_value(messages=[{**TEXT, "type": "interactive", "interactive": {"type": "button_reply"}}]),
            r"interactive\.button_reply must be an object",
        ),
        (whatsapp_value(statuses=[{"id": "wamid.1", "status": "sent"}]), r"statuses\[0\]\.recipient_id is missing"),
        (
            whatsapp_value(
                statuses=[
                    {"id": "w", "status": "failed", "recipient_id": "31", "timestamp": "1", "errors": [{"code": [1]}]}
                ]
            ),
            r"errors\[0\]\.code \[1\] is not a code",
        ),
        (whatsapp_value(contacts=[{"profile": "Marieke", "wa_id": "31"}]), r"contacts\[0\]\.profile must be an object"),
    ],
)
def test_whatsapp_changes_without_the_fields_they_need_are_refused(data, match):
    with pytest.raises(MalformedRequest, match=match):
        parse(data)


def test_lone_surrogate_escaped_in_json_text_is_bad_input():
    body = body_of("meta_messenger_text").replace(b"Can I change", b"Can I \\ud800change")
    with pytest.raises(BadInput, match=r"entry\[0\]\.messaging\[0\]\.message\.text holds a lone surrogate"):
        parse(body)


def test_lone_surrogate_in_a_whatsapp_sender_name_is_bad_input():
    body = body_of("meta_whatsapp_text").replace(b"Marieke", b"Mari\\udfffeke")
    with pytest.raises(BadInput, match=r"contacts\[0\]\.profile\.name holds a lone surrogate"):
        parse(body)


def test_non_string_text_is_bad_input():
    data = data_of("meta_messenger_text")
    data["entry"][0]["messaging"][0]["message"]["text"] = 42
    with pytest.raises(BadInput, match=r"message\.text must be a string, not int"):
        parse(data)


def test_messenger_text_over_2000_characters_is_bad_input():
    data = data_of("meta_messenger_text")
    data["entry"][0]["messaging"][0]["message"]["text"] = "x" * 2001
    with pytest.raises(BadInput, match="is 2001 characters long; the limit is 2000"):
        parse(data)


def test_overlong_payload_is_bad_input():
    data = data_of("meta_messenger_postback")
    data["entry"][0]["messaging"][0]["postback"]["payload"] = "p" * 1001
    with pytest.raises(BadInput, match=r"postback\.payload is 1001 characters long"):
        parse(data)


# -- property: any JSON gives a MetaDelivery or a MalformedRequest, nothing else ---------

FUZZ = settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["page", "instagram", "whatsapp_business_account", PAGE, IG, PHONE_ID, PSID, "messages"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)
FIXTURE_NAMES = sorted(p.stem for p in FIXTURES.glob("meta_*.json"))


def assert_delivery_or_malformed(body: bytes) -> None:
    try:
        delivery = parse_delivery(body, ACCOUNTS)
    except MalformedRequest:
        return
    assert isinstance(delivery, MetaDelivery)
    for inbound in delivery.inbounds:
        json.dumps(inbound.to_dict(), ensure_ascii=False, allow_nan=False).encode("utf-8")


@FUZZ
@given(JSON)
def test_any_json_value_gives_a_delivery_or_malformed_request(value):
    assert_delivery_or_malformed(json.dumps(value).encode("utf-8"))


@FUZZ
@given(JSON)
def test_any_json_under_a_known_object_gives_a_delivery_or_malformed_request(entry):
    for kind in ("page", "instagram", "whatsapp_business_account"):
        assert_delivery_or_malformed(json.dumps({"object": kind, "entry": entry}).encode("utf-8"))


def _replace(node: Any, path: list[int], value: Any) -> Any:
    """``node`` with the subtree reached by ``path`` (indexes into keys / items) replaced by ``value``."""
    if not path or not isinstance(node, dict | list) or not node:
        return value
    if isinstance(node, dict):
        key = list(node)[path[0] % len(node)]
        return {**node, key: _replace(node[key], path[1:], value)}
    i = path[0] % len(node)
    return [*node[:i], _replace(node[i], path[1:], value), *node[i + 1 :]]


@FUZZ
@given(st.sampled_from(FIXTURE_NAMES), st.lists(st.integers(0, 20), max_size=9), JSON)
def test_a_captured_body_with_any_subtree_replaced_gives_a_delivery_or_malformed_request(name, path, value):
    assert_delivery_or_malformed(json.dumps(_replace(data_of(name), path, value)).encode("utf-8"))
