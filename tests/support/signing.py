"""Signed channel webhooks, as Twilio, Telegram and Meta send them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

__all__ = ["signed_twilio_form", "telegram_headers", "twilio_signature", "meta_signed"]


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


def meta_signed(app_secret: str, payload: dict[str, Any] | bytes) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a Meta webhook delivery (Messenger, Instagram, WhatsApp Cloud):
    ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body with the app secret.
    A dict is JSON-encoded compactly (as Meta sends it); bytes are signed as given."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode("utf-8")
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
