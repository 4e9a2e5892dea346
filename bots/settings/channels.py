"""Settings of the channels. Secrets come from the environment (``${VAR}``)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from ._base import Section

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_WHATSAPP_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


def _check_languages(value: dict[str, str], pattern: re.Pattern[str], what: str) -> dict[str, str]:
    """Raises ValueError naming the first key that is not a language code or whose value does not match."""
    for language, variant in value.items():
        if not _LANGUAGE.match(language):
            raise ValueError(f"key {language!r} is not a language code (2 or 3 lower-case letters, e.g. fr)")
        if not pattern.match(variant):
            raise ValueError(f"languages.{language}: {variant!r} is not {what}")
    return value


class WebchatSettings(Section):
    enabled: bool = True


class TelegramSettings(Section):
    enabled: bool = False
    token: str = ""
    webhook_secret: str = ""
    #: Bot API base; Telegram's self-hosted server or a local fake in tests.
    api_base_url: str = "https://api.telegram.org/bot"
    #: messages per chat per ``per_chat_seconds`` (Telegram: about 1 per second).
    per_chat_messages: int = Field(default=1, ge=1)
    per_chat_seconds: int = Field(default=1, ge=1)
    #: messages per second over all chats (Telegram: about 30).
    overall_per_second: int = Field(default=30, ge=1)
    #: a send waits this long for a rate slot, then is retried later by the pipeline.
    max_rate_wait_seconds: float = Field(default=5.0, ge=0)
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    #: quick-reply buttons per keyboard row.
    buttons_per_row: int = Field(default=1, ge=1, le=8)

    @model_validator(mode="after")
    def _token_when_enabled(self) -> TelegramSettings:
        if self.enabled and not self.token:
            raise ValueError("telegram is enabled but token is empty: set TELEGRAM_BOT_TOKEN")
        return self


class WhatsAppTemplate(Section):
    """An approved Content API template: ``content_sid`` HX... and its variables.

    ``variables`` are format strings over ``{text}``, ``{recipient}``, ``{kind}`` and a
    notification's variables (``{flight}``), numbered 1, 2... in order, e.g. ``["{text}"]``.
    ``languages`` maps a language (``fr``) to the content sid of the template approved in it.
    """

    content_sid: str = Field(pattern=r"^HX[0-9a-fA-F]{32}$")
    variables: list[str] = Field(default_factory=list)
    languages: dict[str, str] = Field(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_languages(value, _CONTENT_SID, "a Content API sid (HX followed by 32 hex digits)")


class WhatsAppSettings(Section):
    #: the customer service window: free text only this long after the customer's last message.
    window_hours: int = Field(default=24, ge=1, le=24)
    #: message kind (reply, notification, handoff...) -> template used outside the window.
    templates: dict[str, WhatsAppTemplate] = Field(default_factory=dict)


class SmsKeywords(Section):
    opt_out: list[str] = Field(default_factory=list)
    opt_in: list[str] = Field(default_factory=list)
    help: list[str] = Field(default_factory=list)


class SmsSettings(Section):
    #: longest body of one SMS send; longer replies go out as several messages (Twilio max 1600).
    max_text_length: int = Field(default=1600, ge=160, le=1600)
    #: keywords in other languages, added to Twilio's (STOP, START, HELP...): {fr: {opt_out: [ARRET]}}.
    keywords: dict[str, SmsKeywords] = Field(default_factory=dict)


class TwilioSettings(Section):
    enabled: bool = False
    account_sid: str = ""
    auth_token: str = ""
    whatsapp_from: str = ""
    sms_from: str = ""
    #: the base URL Twilio signs (the public one, when behind a proxy).
    public_url: str = ""
    api_base_url: str = "https://api.twilio.com"
    #: where Twilio posts delivery statuses; empty: public_url + /webhooks/twilio/status (none without public_url).
    status_callback_url: str = ""
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    #: messages per second per sender number (each part of a split text counts), over every process.
    messages_per_second: int = Field(default=10, ge=1)
    #: a send waits this long for a rate slot, then is retried later by the pipeline.
    max_rate_wait_seconds: float = Field(default=5.0, ge=0)
    #: how long numbered options ("1. Yes") stay answerable by their number.
    options_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> TwilioSettings:
        if not self.enabled:
            return self
        if not self.account_sid.startswith("AC"):
            raise ValueError(
                f"twilio is enabled but account_sid {self.account_sid!r} is not an AC... sid: set TWILIO_ACCOUNT_SID"
            )
        if not self.auth_token:
            raise ValueError("twilio is enabled but auth_token is empty: set TWILIO_AUTH_TOKEN")
        if self.whatsapp_from and not self.whatsapp_from.startswith(("whatsapp:+", "MG")):
            raise ValueError(
                f"whatsapp_from {self.whatsapp_from!r} must look like 'whatsapp:+14155238886' "
                "(or a Messaging Service MG...)"
            )
        if self.sms_from and not self.sms_from.startswith(("+", "MG")):
            raise ValueError(
                f"sms_from {self.sms_from!r} must be an E.164 number like '+14155550100' (or a Messaging Service MG...)"
            )
        return self

    def status_callback(self) -> str:
        """The StatusCallback URL to request, or "" for none."""
        if self.status_callback_url:
            return self.status_callback_url
        return f"{self.public_url.rstrip('/')}/webhooks/twilio/status" if self.public_url else ""


class CloudTemplateSettings(Section):
    """An approved WhatsApp template: its ``name`` and ``language`` as approved in WhatsApp
    Manager, and its body variables (format strings over ``{text}``, ``{recipient}``, ``{kind}``
    and a notification's variables). ``languages`` maps a customer's language (``fr``) to the
    WhatsApp language code the template is approved in (``fr``, ``en_US``); others get ``language``."""

    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    variables: list[str] = Field(default_factory=list)
    languages: dict[str, str] = Field(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_languages(value, _WHATSAPP_LANGUAGE, "a WhatsApp language code (fr, en_US...)")


class MetaWhatsAppSettings(Section):
    #: message kind (reply, notification, handoff...) -> template used outside the 24-hour window.
    templates: dict[str, CloudTemplateSettings] = Field(default_factory=dict)


class MetaSettings(Section):
    """Messenger, Instagram and WhatsApp on Meta's Graph API (one app, one webhook).

    Each product is on when its id is set: ``page_id`` (Messenger), ``instagram_account_id``,
    ``whatsapp_phone_number_id``.
    """

    enabled: bool = False
    #: signs every webhook (``X-Hub-Signature-256``): the app's secret.
    app_secret: str = ""
    #: what the subscription check (``GET /webhooks/meta``) must present.
    verify_token: str = ""
    #: a page or system-user token allowed to send for the accounts below.
    access_token: str = ""
    api_base_url: str = "https://graph.facebook.com/v21.0"
    page_id: str = Field(default="", pattern=r"^[0-9]*$")
    instagram_account_id: str = Field(default="", pattern=r"^[0-9]*$")
    whatsapp_phone_number_id: str = Field(default="", pattern=r"^[0-9]*$")
    #: the payload of the page's "Get Started" button (answered like a greeting).
    get_started_payload: str = "GET_STARTED"
    #: staff may answer on Messenger and Instagram this long after the customer's last message
    #: (the human-agent tag); the bot 24 hours.
    human_agent_days: int = Field(default=7, ge=1, le=7)
    #: sends per second per account over all customers (our side; Meta's own limits are honoured too).
    overall_per_second: int = Field(default=80, ge=1)
    max_rate_wait_seconds: float = Field(default=5.0, ge=0)
    #: when Meta says "rate limited" without a Retry-After, retry after this long.
    rate_limit_retry_seconds: float = Field(default=60.0, gt=0)
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    whatsapp: MetaWhatsAppSettings = Field(default_factory=MetaWhatsAppSettings)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> MetaSettings:
        if not self.enabled:
            return self
        missing = [
            f"{key} (export {var})"
            for key, var, value in (
                ("app_secret", "META_APP_SECRET", self.app_secret),
                ("verify_token", "META_VERIFY_TOKEN", self.verify_token),
                ("access_token", "META_ACCESS_TOKEN", self.access_token),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"meta is enabled but these are empty: {', '.join(missing)}")
        if not (self.page_id or self.instagram_account_id or self.whatsapp_phone_number_id):
            raise ValueError(
                "meta is enabled but no account is set: set page_id (META_PAGE_ID), instagram_account_id "
                "(META_INSTAGRAM_ACCOUNT_ID) or whatsapp_phone_number_id (META_WHATSAPP_PHONE_NUMBER_ID)"
            )
        return self


class ChannelsSettings(Section):
    webchat: WebchatSettings = Field(default_factory=WebchatSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    meta: MetaSettings = Field(default_factory=MetaSettings)
