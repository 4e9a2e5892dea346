"""Twilio Messaging webhook: real signatures, WhatsApp vs SMS, media, location, status callbacks."""

from __future__ import annotations

import pytest

from connectors.errors import ForgedRequest, MalformedRequest
from connectors.twilio import SmsConnector, parse_message_form, parse_status_form

from .conftest import DEFAULT_SID, SMS_FROM, TWILIO_TOKEN, TWILIO_URL, load_fixture, twilio_request

pytestmark = pytest.mark.integration  # real Redis and the fake channel APIs


def test_sms_message_is_channel_sms_keyed_on_message_sid(sms):
    [inb] = sms.parse(twilio_request(load_fixture("twilio_sms_text")))
    assert (inb.channel, inb.sender_id, inb.conversation_id) == ("sms", "+31612345678", "sms:+31612345678")
    assert inb.message_id == "SM1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c"
    assert inb.text == "Is flight KL1234 on time?"
    assert inb.kind == "message" and inb.event is None


def test_whatsapp_sender_goes_to_the_whatsapp_channel_whichever_connector_parses(sms, whatsapp):
    for conn in (sms, whatsapp):
        [inb] = conn.parse(twilio_request(load_fixture("twilio_whatsapp_text")))
        assert (inb.channel, inb.sender_id, inb.conversation_id) == (
            "whatsapp",
            "+31612345678",
            "whatsapp:+31612345678",
        )
        assert inb.sender_name == "Marieke"


def test_unsigned_request_is_forged(sms, whatsapp):
    for conn in (sms, whatsapp):
        with pytest.raises(ForgedRequest, match="missing X-Twilio-Signature"):
            conn.parse(twilio_request(load_fixture("twilio_sms_text"), signature=None))


def test_signature_with_another_token_is_forged(sms):
    with pytest.raises(ForgedRequest, match="does not match"):
        sms.parse(twilio_request(load_fixture("twilio_whatsapp_text"), token="someone-elses-token"))


def test_a_changed_field_breaks_the_signature(sms):
    form = load_fixture("twilio_sms_text")
    req = twilio_request(form)
    tampered = dict(form, Body="Refund me everything")
    from connectors.base import WebhookRequest

    with pytest.raises(ForgedRequest):
        sms.parse(WebhookRequest(req.method, req.url, req.headers, b"", tampered))


def test_behind_a_proxy_the_public_url_is_what_is_checked(fake_twilio, redis_client):
    form = load_fixture("twilio_sms_text")
    # Twilio signed the public URL; the app sees its internal address
    req = twilio_request(
        form,
        url="http://10.0.0.5:8000/webhooks/twilio?src=tw",
        signed_url="https://bot.example.com/webhooks/twilio?src=tw",
    )
    direct = SmsConnector(DEFAULT_SID, TWILIO_TOKEN, SMS_FROM, redis_client, "test", api_base_url=fake_twilio.base_url)
    with pytest.raises(ForgedRequest, match="public_url"):
        direct.parse(req)
    proxied = SmsConnector(
        DEFAULT_SID,
        TWILIO_TOKEN,
        SMS_FROM,
        redis_client,
        "test",
        api_base_url=fake_twilio.base_url,
        public_url="https://bot.example.com",
    )
    assert proxied.parse(req)[0].message_id == form["MessageSid"]


def test_body_is_read_from_the_raw_urlencoded_body_when_form_is_empty(sms):
    from connectors.base import WebhookRequest

    req = twilio_request(load_fixture("twilio_sms_text"))
    [inb] = sms.parse(WebhookRequest(req.method, req.url, req.headers, req.body))
    assert inb.text == "Is flight KL1234 on time?"


@pytest.mark.parametrize(
    "form, match",
    [
        ({"Body": "hi", "From": "+31612345678"}, "no MessageSid"),
        ({"MessageSid": "SM1", "Body": "hi"}, "no From"),
        ({"MessageSid": "SM1", "From": "+3161", "NumMedia": "two"}, "NumMedia"),
        ({"MessageSid": "SM1", "From": "+3161", "NumMedia": "1"}, "MediaUrl0 is missing"),
        ({"MessageSid": "SM1", "From": "whatsapp:+3161", "Latitude": "north", "Longitude": "4.7"}, "not a number"),
    ],
)
def test_signed_but_malformed_forms_are_refused(sms, form, match):
    with pytest.raises(MalformedRequest, match=match):
        sms.parse(twilio_request(form))


def test_whatsapp_image_and_location_are_typed_attachments():
    img = parse_message_form(load_fixture("twilio_whatsapp_image"))
    [att] = img.attachments
    assert (att.kind, att.mime_type) == ("image", "image/jpeg") and att.url.endswith(
        "/Media/ME0718293a4b5c6d7e8f9a0b1c2d3e4f5"
    )
    loc = parse_message_form(load_fixture("twilio_whatsapp_location"))
    [att] = loc.attachments
    assert (att.kind, att.latitude, att.longitude, att.name) == ("location", 52.308613, 4.763889, "Schiphol Plaza")


def test_whatsapp_template_button_gives_a_callback_with_payload():
    inb = parse_message_form(load_fixture("twilio_whatsapp_button"))
    assert (inb.kind, inb.payload, inb.text) == ("callback", "rebook:yes", "Yes, rebook me")


def test_status_callbacks_parse_into_status_updates(sms):
    delivered = parse_status_form(load_fixture("twilio_status_delivered"))
    assert (delivered.message_sid, delivered.status, delivered.channel, delivered.recipient, delivered.error_code) == (
        "SMaa000000000000000000000000000001",
        "delivered",
        "sms",
        "+31612345678",
        None,
    )
    read = parse_status_form(load_fixture("twilio_status_whatsapp_read"))
    assert (read.status, read.channel) == ("read", "whatsapp") and not read.failed
    failed = sms.parse_status(
        twilio_request(
            load_fixture("twilio_status_whatsapp_failed_63016"), url="https://bot.example.com/webhooks/twilio/status"
        )
    )
    assert (failed.status, failed.error_code, failed.failed) == ("failed", "63016", True)


def test_status_callback_must_be_signed_and_complete(sms):
    with pytest.raises(ForgedRequest):
        sms.parse_status(twilio_request(load_fixture("twilio_status_delivered"), signature=None))
    with pytest.raises(MalformedRequest, match="no MessageStatus"):
        sms.parse_status(twilio_request({"MessageSid": "SM1", "To": "+3161"}))


def test_signature_settings_header_selects_hmac_sha256(sms):
    from twilio.request_validator import RequestValidator

    form = load_fixture("twilio_sms_text")
    req = twilio_request(
        form, signature=RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, form, "HMAC_SHA256")
    )
    from connectors.base import WebhookRequest

    headers = dict(req.headers, **{"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256"})
    assert sms.parse(WebhookRequest(req.method, req.url, headers, req.body, req.form))[0].text
