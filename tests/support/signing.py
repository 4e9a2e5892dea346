"""Signed channel webhooks, as Twilio and Telegram send them."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

__all__ = ["signed_twilio_form", "telegram_headers", "twilio_signature"]


def twilio_signature(auth_token: str, url: str, form: Mapping[str, str]) -> str:
    """``X-Twilio-Signature`` for a form POSTed to ``url`` (twilio's own ``RequestValidator``)."""
    from twilio.request_validator import RequestValidator

    return RequestValidator(auth_token).compute_signature(url, dict(form))


def signed_twilio_form(auth_token: str, url: str, form: Mapping[str, str]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a signed Twilio webhook (``application/x-www-form-urlencoded``)."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(auth_token, url, form),
    }
    return urlencode(form).encode(), headers


def telegram_headers(secret: str) -> dict[str, str]:
    """The header Telegram sends with every update when the webhook was set with ``secret_token``."""
    return {"X-Telegram-Bot-Api-Secret-Token": secret}
