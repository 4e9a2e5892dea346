"""Checks of what an agent types (pure)."""

from __future__ import annotations

from typing import Any

from .errors import InvalidInput

__all__ = ["clean_text", "MAX_REPLY", "MAX_NOTE", "MAX_QUERY"]

#: longest reply an agent may send (Telegram's limit; longer SMS/WhatsApp texts are split).
MAX_REPLY = 4096
MAX_NOTE = 10_000
MAX_QUERY = 200


def clean_text(value: Any, what: str = "text", limit: int = MAX_REPLY) -> str:
    """``value`` stripped, with CR LF as LF.

    Raises:
        InvalidInput: not a string, empty, longer than ``limit``, or holding a NUL
            character or a lone UTF-16 surrogate (text no channel can carry).
    """
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, not {type(value).__name__}")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in text:
        raise InvalidInput(f"{what} contains a NUL character")
    bad = next((i for i, ch in enumerate(text) if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if bad is not None:
        raise InvalidInput(f"{what} contains a lone surrogate (U+{ord(text[bad]):04X} at {bad}); send valid Unicode")
    if not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > limit:
        raise InvalidInput(f"{what} is {len(text)} characters long; at most {limit} are allowed")
    return text
