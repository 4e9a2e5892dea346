"""Telegram: webhook verification and parsing, sending through python-telegram-bot."""

from .connector import DEFAULT_ALLOWED_UPDATES, MAX_TEXT, TelegramConnector
from .keyboard import build_keyboard, callback_data_for
from .parse import SECRET_HEADER, decode_body, parse_update, verify_secret

__all__ = [
    "TelegramConnector",
    "MAX_TEXT",
    "DEFAULT_ALLOWED_UPDATES",
    "SECRET_HEADER",
    "verify_secret",
    "decode_body",
    "parse_update",
    "build_keyboard",
    "callback_data_for",
]
