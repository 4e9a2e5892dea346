"""Settings of the channels. Secrets come from the environment (``${VAR}``)."""

from __future__ import annotations

from pydantic import Field

from ._base import Section


class WebchatSettings(Section):
    enabled: bool = True


class TelegramSettings(Section):
    enabled: bool = False
    token: str = ""
    webhook_secret: str = ""
    #: Bot API base; Telegram's self-hosted server or a local fake in tests.
    api_base_url: str = "https://api.telegram.org/bot"


class TwilioSettings(Section):
    enabled: bool = False
    account_sid: str = ""
    auth_token: str = ""
    whatsapp_from: str = ""
    sms_from: str = ""
    #: the base URL Twilio signs (the public one, when behind a proxy).
    public_url: str = ""
    api_base_url: str = "https://api.twilio.com"


class ChannelsSettings(Section):
    webchat: WebchatSettings = Field(default_factory=WebchatSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
