"""Build the enabled channels' connectors from the settings, and check their credentials.

``build_connectors(settings, redis)`` returns ``{"telegram": ..., "whatsapp": ...,
"sms": ..., "messenger": ...}`` for the channels switched on (Twilio: one connector per
configured sender number; Meta: one per configured account). The web chat connector is added by the runtime
(:func:`bots.runtime.build_connectors_for`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis as redis_lib

from connectors._ratelimit import Rate
from connectors._template_text import PLACEHOLDERS, check_placeholders
from connectors.base import ChecksCredentials, Connector
from connectors.meta import (
    CloudTemplate,
    GraphClient,
    InstagramConnector,
    MessengerConnector,
    MetaAccounts,
    MetaOptions,
    WhatsAppCloudConnector,
)
from connectors.telegram import TelegramConnector
from connectors.twilio import KeywordConfig, SmsConnector, TemplateSpec, TwilioConnector, WhatsAppConnector

from .errors import ConfigError
from .settings import Settings

log = logging.getLogger(__name__)

__all__ = ["build_connectors", "build_telegram", "build_whatsapp", "build_sms", "build_meta", "check_credentials"]


def _offline_redis() -> redis_lib.Redis:
    """For credential checks without Redis (doctor): any Redis use fails loudly."""
    return redis_lib.Redis(unix_socket_path="/nonexistent/brandbot-doctor-has-no-redis.sock")


def _check_template_variables(settings: Settings, section: str, kind: str, formats: list[str]) -> None:
    """A channel template for ``kind`` may use ``{text}``, ``{recipient}``, ``{kind}`` and, when
    ``kind`` is a notification kind (``notifications.kinds``), that kind's variables.

    Raises:
        ConfigError: naming the template's key and the placeholder nothing fills.
    """
    notify = settings.notifications.kinds.get(kind)
    allowed = PLACEHOLDERS + tuple(notify.variables if notify is not None else ())
    try:
        check_placeholders(formats, allowed=allowed)
    except ValueError as exc:
        hint = "" if notify is not None else f" (or notifications.kinds.{kind}.variables, for a notification)"
        raise ConfigError([f"{section}.{kind}: {exc}{hint}"], settings.source) from exc


def build_telegram(settings: Settings, redis: redis_lib.Redis) -> TelegramConnector:
    tg = settings.channels.telegram
    return TelegramConnector(
        tg.token,
        tg.webhook_secret,
        redis,
        settings.stores.key_prefix,
        api_base_url=tg.api_base_url,
        per_chat=Rate(tg.per_chat_messages, tg.per_chat_seconds),
        overall=Rate(tg.overall_per_second, 1),
        max_rate_wait=tg.max_rate_wait_seconds,
        timeout=tg.request_timeout_seconds,
        buttons_per_row=tg.buttons_per_row,
    )


def _twilio_kwargs(settings: Settings, clock: Callable[[], float]) -> dict[str, Any]:
    tw = settings.channels.twilio
    try:
        keywords = KeywordConfig.with_extra({lang: kw.model_dump() for lang, kw in tw.sms.keywords.items()})
    except ValueError as exc:
        raise ConfigError([f"channels.twilio.sms.keywords: {exc}"], settings.source) from exc
    return dict(
        api_base_url=tw.api_base_url,
        public_url=tw.public_url,
        status_callback_url=tw.status_callback(),
        keywords=keywords,
        window_seconds=tw.whatsapp.window_hours * 3600,
        options_ttl_seconds=tw.options_ttl_seconds,
        timeout=tw.request_timeout_seconds,
        clock=clock,
        rate=Rate(tw.messages_per_second, 1),
        max_rate_wait=tw.max_rate_wait_seconds,
    )


def build_whatsapp(
    settings: Settings, redis: redis_lib.Redis, clock: Callable[[], float] = time.time
) -> WhatsAppConnector:
    tw = settings.channels.twilio
    for kind, t in tw.whatsapp.templates.items():
        _check_template_variables(settings, "channels.twilio.whatsapp.templates", kind, t.variables)
    try:
        templates = {
            kind: TemplateSpec(t.content_sid, list(t.variables), dict(t.languages))
            for kind, t in tw.whatsapp.templates.items()
        }
    except ValueError as exc:
        raise ConfigError([f"channels.twilio.whatsapp.templates: {exc}"], settings.source) from exc
    return WhatsAppConnector(
        tw.account_sid,
        tw.auth_token,
        tw.whatsapp_from,
        redis,
        settings.stores.key_prefix,
        templates=templates,
        **_twilio_kwargs(settings, clock),
    )


def build_sms(settings: Settings, redis: redis_lib.Redis, clock: Callable[[], float] = time.time) -> SmsConnector:
    tw = settings.channels.twilio
    return SmsConnector(
        tw.account_sid,
        tw.auth_token,
        tw.sms_from,
        redis,
        settings.stores.key_prefix,
        max_text_length=tw.sms.max_text_length,
        **_twilio_kwargs(settings, clock),
    )


def build_meta(
    settings: Settings, redis: redis_lib.Redis, clock: Callable[[], float] = time.time
) -> dict[str, Connector]:
    """The Meta connectors whose account id is set: ``messenger``, ``instagram``, ``whatsapp_cloud``."""
    meta = settings.channels.meta
    accounts = MetaAccounts(meta.page_id, meta.instagram_account_id, meta.whatsapp_phone_number_id)
    options = MetaOptions(
        accounts=accounts,
        app_secret=meta.app_secret,
        key_prefix=settings.stores.key_prefix,
        get_started_payload=meta.get_started_payload,
        human_agent_seconds=meta.human_agent_days * 24 * 3600,
        overall=Rate(meta.overall_per_second, 1),
        max_rate_wait=meta.max_rate_wait_seconds,
        rate_limit_retry_seconds=meta.rate_limit_retry_seconds,
    )
    for kind, t in meta.whatsapp.templates.items():
        _check_template_variables(settings, "channels.meta.whatsapp.templates", kind, t.variables)
    try:
        templates = {
            kind: CloudTemplate(t.name, t.language, tuple(t.variables), dict(t.languages))
            for kind, t in meta.whatsapp.templates.items()
        }
    except ValueError as exc:
        raise ConfigError([f"channels.meta.whatsapp.templates: {exc}"], settings.source) from exc

    def graph() -> GraphClient:
        return GraphClient(meta.api_base_url, meta.access_token, meta.request_timeout_seconds)

    out: dict[str, Connector] = {}
    if accounts.page_id:
        out["messenger"] = MessengerConnector(graph(), accounts.page_id, redis, options, clock=clock)
    if accounts.instagram_id:
        out["instagram"] = InstagramConnector(graph(), accounts.instagram_id, redis, options, clock=clock)
    if accounts.phone_number_id:
        out["whatsapp_cloud"] = WhatsAppCloudConnector(
            graph(), accounts.phone_number_id, redis, options, clock=clock, templates=templates
        )
    return out


def build_connectors(
    settings: Settings, redis: redis_lib.Redis | None, clock: Callable[[], float] = time.time
) -> dict[str, Connector]:
    """The connectors of the enabled channels, keyed by channel name.

    Args:
        settings: validated settings.
        redis: the process's Redis client (None only for credential checks).
        clock: seconds since the epoch (the WhatsApp window; injected in tests).

    Returns:
        ``"telegram"`` when channels.telegram.enabled; ``"whatsapp"`` / ``"sms"`` when
        channels.twilio.enabled and whatsapp_from / sms_from is set; ``"messenger"`` /
        ``"instagram"`` / ``"whatsapp_cloud"`` when channels.meta.enabled and the page id /
        Instagram account id / WhatsApp phone number id is set. (``"webchat"`` is
        added by the runtime.) Close them with ``close()`` at shutdown.

    Raises:
        ConfigError: a channel's settings cannot build a connector.
    """
    client = redis if redis is not None else _offline_redis()
    out: dict[str, Connector] = {}
    channels = settings.channels
    if channels.telegram.enabled:
        out["telegram"] = build_telegram(settings, client)
    if channels.twilio.enabled:
        if not channels.twilio.whatsapp_from and not channels.twilio.sms_from:
            raise ConfigError(
                [
                    "channels.twilio: enabled but neither whatsapp_from nor sms_from is set "
                    "(export TWILIO_WHATSAPP_FROM / TWILIO_SMS_FROM)"
                ],
                settings.source,
            )
        if channels.twilio.whatsapp_from:
            out["whatsapp"] = build_whatsapp(settings, client, clock)
        if channels.twilio.sms_from:
            out["sms"] = build_sms(settings, client, clock)
    if channels.meta.enabled:
        out.update(build_meta(settings, client, clock))
    # "webchat": added by bots.runtime.build_connectors_for (connectors.webchat).
    return out


def check_credentials(connector: Connector) -> str | None:
    """Ask the channel whether our credentials work (``brandbot doctor``).

    Returns:
        None when they do, else a sentence saying what is wrong. Telegram: getMe;
        Twilio: fetch the account; Meta: read the page / account / phone number with the
        token. Other connectors: None (nothing to check).
    """
    try:
        if isinstance(connector, TelegramConnector):
            me = connector.get_me()
            if not connector.webhook_secret:
                return (
                    f"token works (@{me.get('username')}) but TELEGRAM_WEBHOOK_SECRET is empty: "
                    "every webhook is refused (run `brandbot telegram set-webhook URL`)"
                )
            return None
        if isinstance(connector, TwilioConnector):
            return connector.check_credentials()
    except Exception as exc:  # noqa: BLE001 - reported as the check's result
        return f"{type(exc).__name__}: {exc}"
    return connector.check_credentials() if isinstance(connector, ChecksCredentials) else None
