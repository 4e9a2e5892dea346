"""Connectors built from settings, and the credential checks of `brandbot doctor`."""

from __future__ import annotations

import pytest

from bots.channel_registry import build_connectors, check_credentials
from bots.errors import ConfigError
from bots.runtime import close_connectors
from connectors.base import Connector, Outbound
from connectors.errors import PermanentSendError
from connectors.telegram import TelegramConnector
from connectors.twilio import SmsConnector, WhatsAppConnector

from .conftest import channels_config as channels
from .conftest import load_fixture, telegram_request, twilio_request

pytestmark = pytest.mark.integration  # real Redis and the fake channel APIs


def test_enabled_channels_get_connectors_that_talk_to_the_configured_apis(
    make_settings, redis_client, fake_telegram, fake_twilio
):
    settings = make_settings(channels(fake_telegram, fake_twilio, sms={"keywords": {"fr": {"opt_out": ["ARRET"]}}}))
    conns = build_connectors(settings, redis_client)
    try:
        assert set(conns) == {"telegram", "whatsapp", "sms"}
        assert isinstance(conns["telegram"], TelegramConnector)
        assert isinstance(conns["whatsapp"], WhatsAppConnector) and isinstance(conns["sms"], SmsConnector)
        assert all(isinstance(c, Connector) and c.channel == name for name, c in conns.items())
        assert conns["whatsapp"].rules.reply_window_seconds == 24 * 3600
        assert conns["telegram"].rules.supports_buttons and not conns["sms"].rules.supports_buttons

        assert conns["telegram"].parse(telegram_request(load_fixture("telegram_message_text")))[0].text
        [arret] = conns["sms"].parse(twilio_request(load_fixture("twilio_sms_arret")))
        assert arret.event == "opt_out"  # configured French keyword
        with pytest.raises(PermanentSendError, match="opted out"):
            conns["sms"].send(Outbound("sms", "+33612345678", "Bonjour"))

        conns["sms"].send(Outbound("sms", "+31612345678", "hello"))
        assert fake_twilio.messages()[0]["StatusCallback"] == "https://bot.example.com/webhooks/twilio/status"
        conns["telegram"].send(Outbound("telegram", "42", "hello"))
        assert fake_telegram.sent_texts(42) == ["hello"]
    finally:
        close_connectors(conns)


def test_disabled_channels_get_nothing(make_settings, redis_client):
    assert build_connectors(make_settings(), redis_client) == {}


def test_only_configured_twilio_senders_get_a_connector(make_settings, redis_client, fake_telegram, fake_twilio):
    cfg = channels(fake_telegram, fake_twilio)
    cfg["channels"]["telegram"]["enabled"] = False
    cfg["channels"]["twilio"]["whatsapp_from"] = ""
    assert set(build_connectors(make_settings(cfg), redis_client)) == {"sms"}


def test_whatsapp_templates_come_from_the_settings(make_settings, redis_client, fake_telegram, fake_twilio):
    sid = "HX" + "0123456789abcdef" * 2
    settings = make_settings(
        channels(
            fake_telegram, fake_twilio, whatsapp={"templates": {"reply": {"content_sid": sid, "variables": ["{text}"]}}}
        )
    )
    conns = build_connectors(settings, redis_client)
    try:
        conns["whatsapp"].send(Outbound("whatsapp", "+31612345678", "Your flight is on time."))  # window never opened
        assert fake_twilio.messages()[0]["ContentSid"] == sid
    finally:
        close_connectors(conns)


@pytest.mark.parametrize(
    "twilio, match",
    [
        ({"whatsapp_from": "+14155238886"}, "whatsapp:"),
        ({"account_sid": "XX1"}, "AC... sid"),
        ({"whatsapp": {"templates": {"reply": {"content_sid": "HX-not-a-sid"}}}}, "content_sid"),
    ],
)
def test_bad_channel_settings_name_the_key(make_settings, fake_telegram, fake_twilio, twilio, match):
    with pytest.raises(ConfigError, match=match):
        make_settings(channels(fake_telegram, fake_twilio, **twilio))


def test_twilio_without_any_sender_is_a_config_error(make_settings, redis_client, fake_telegram, fake_twilio):
    settings = make_settings(channels(fake_telegram, fake_twilio, whatsapp_from="", sms_from=""))
    with pytest.raises(ConfigError, match="neither whatsapp_from nor sms_from"):
        build_connectors(settings, redis_client)


def test_keyword_clash_is_a_config_error(make_settings, redis_client, fake_telegram, fake_twilio):
    settings = make_settings(channels(fake_telegram, fake_twilio, sms={"keywords": {"en": {"opt_in": ["STOP"]}}}))
    with pytest.raises(ConfigError, match=r"sms.keywords.*two kinds"):
        build_connectors(settings, redis_client)


def test_check_credentials_without_redis(make_settings, fake_telegram, fake_twilio):
    conns = build_connectors(make_settings(channels(fake_telegram, fake_twilio)), None)
    try:
        assert {name: check_credentials(c) for name, c in conns.items()} == {
            "telegram": None,
            "whatsapp": None,
            "sms": None,
        }
    finally:
        close_connectors(conns)


def test_check_credentials_reports_what_is_wrong(make_settings, fake_telegram, fake_twilio):
    cfg = channels(fake_telegram, fake_twilio)
    cfg["channels"]["telegram"]["token"] = "999:wrong"
    cfg["channels"]["twilio"]["auth_token"] = "wrong"
    conns = build_connectors(make_settings(cfg), None)
    try:
        assert "token was rejected" in check_credentials(conns["telegram"])
        assert "refused the credentials" in check_credentials(conns["sms"])
    finally:
        close_connectors(conns)


def test_missing_webhook_secret_is_reported(make_settings, fake_telegram, fake_twilio):
    cfg = channels(fake_telegram, fake_twilio)
    cfg["channels"]["telegram"]["webhook_secret"] = ""
    conns = build_connectors(make_settings(cfg), None)
    try:
        assert "TELEGRAM_WEBHOOK_SECRET is empty" in check_credentials(conns["telegram"])
    finally:
        close_connectors(conns)
