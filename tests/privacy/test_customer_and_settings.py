"""Who a privacy command is about (channel names, E.164), the pseudonyms and the privacy settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bots.privacy import PrivacyError, Pseudonyms, customer
from bots.settings.privacy import DEV_ANALYTICS_SECRET, PrivacySettings, production_problems


@pytest.mark.parametrize(
    ("channel", "raw", "conversation"),
    [
        ("sms", "+33 6 12 34 56 78", "sms:+33612345678"),
        ("SMS", "0033612345678", "sms:+33612345678"),
        ("whatsapp", "whatsapp:+31 (6) 1234-5678", "whatsapp:+31612345678"),
        ("telegram", "123456789", "telegram:123456789"),
        ("webchat", "vAbc_def-12345", "webchat:vAbc_def-12345"),
    ],
)
def test_ids_are_normalised_to_the_conversation_ids_the_connectors_build(channel, raw, conversation) -> None:
    assert customer(channel, raw).conversation_id == conversation


@pytest.mark.parametrize(
    ("channel", "raw", "reason"),
    [
        ("email", "a@b.c", "unknown channel 'email'; valid channels: telegram, whatsapp, sms, webchat"),
        ("sms", "06 12 34 56 78", "start with \\+ and the country code"),
        ("sms", "+33 6 12 AB", "only digits may follow the \\+"),
        ("whatsapp", "+0612345678", "a country code never starts with 0"),
        ("sms", "+3361", "has 4 digits; an E.164 number has 8 to 15"),
        ("telegram", "@someone", "not a Telegram chat id"),
        ("webchat", "short", "not a web chat visitor id"),
    ],
)
def test_a_bad_channel_or_id_is_refused_with_the_reason(channel, raw, reason) -> None:
    with pytest.raises(PrivacyError, match=reason):
        customer(channel, raw)


def test_pseudonyms_are_keyed_stable_and_distinct_from_erasure_hashes() -> None:
    who = customer("sms", "+33612345678")
    a, b = Pseudonyms("secret-number-one-0123"), Pseudonyms("secret-number-two-0123")
    assert a.subject(who) == a.subject(customer("sms", "+33 6 12 34 56 78"))
    assert a.subject(who) != b.subject(who), "without the secret the key cannot be recomputed"
    assert a.erasure_hash(who) != a.subject(who)
    assert "+33612345678" not in a.subject(who) and len(a.subject(who)) == 64
    with pytest.raises(ValueError, match="at least 16"):
        Pseudonyms("short")


def test_the_development_secret_is_refused_in_production_only() -> None:
    assert production_problems(PrivacySettings(), "development") == []
    [(key, why)] = production_problems(PrivacySettings(), "production")
    assert key == "privacy.analytics_secret" and "BRANDBOT_ANALYTICS_SECRET" in why
    assert production_problems(PrivacySettings(analytics_secret="a-real-secret-of-32-characters!!"), "production") == []
    assert PrivacySettings().analytics_secret == DEV_ANALYTICS_SECRET


def test_wordings_cover_every_purpose_and_unknown_keys_are_refused() -> None:
    s = PrivacySettings()
    version, text = s.wording("feedback_analytics", "fr")
    assert version == "feedback-1" and "Pouvons-nous" in text
    assert s.wording("marketing", "de")[1].startswith("May we"), "an unknown language falls back to the first"
    with pytest.raises(ValidationError, match="unknown consent purpose"):
        PrivacySettings.model_validate({"consent": {"wordings": {"spam": {"version": "1", "text": {"en": "x"}}}}})
    with pytest.raises(ValidationError, match="no wording for purpose"):
        PrivacySettings.model_validate({"consent": {"wordings": {"service": {"version": "1", "text": {"en": "x"}}}}})
    with pytest.raises(ValidationError, match="Extra inputs"):
        PrivacySettings.model_validate({"retention": {"message_days": 3}})
    with pytest.raises(ValidationError, match="empty consent text"):
        PrivacySettings.model_validate(
            {
                "consent": {
                    "wordings": {
                        p: {"version": "1", "text": {"en": " "}}
                        for p in ("service", "service_updates", "feedback_analytics", "marketing")
                    }
                }
            }
        )
