"""Checks of what an agent types (pure).

The channel-neutral checks are :func:`connectors.input_text.clean_text`'s (lone surrogates
refused, other control characters removed, NFC), as for the customers' texts; the desk adds
its own stricter rules: a NUL is refused rather than dropped (the agent sees what was sent),
line breaks become LF, the text is stripped and must not be empty.
"""

from __future__ import annotations

import sys
from typing import Any

from connectors.errors import BadInput
from connectors.input_text import clean_text as clean_input

from .errors import InvalidInput

__all__ = ["clean_text", "MAX_REPLY", "MAX_NOTE", "MAX_QUERY"]

#: longest reply an agent may send (Telegram's limit; longer SMS/WhatsApp texts are split).
MAX_REPLY = 4096
MAX_NOTE = 10_000
MAX_QUERY = 200


def clean_text(value: Any, what: str = "text", limit: int = MAX_REPLY) -> str:
    """``value`` cleaned (see the module), stripped, with CR LF as LF.

    Raises:
        InvalidInput: not a string, empty, longer than ``limit``, or holding a NUL
            character or a lone UTF-16 surrogate (text no channel can carry).
    """
    if isinstance(value, str) and "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character")
    try:
        # the limit is checked below, on the stripped text, in the desk's own words
        text = clean_input(
            value.replace("\r\n", "\n") if isinstance(value, str) else value, field=what, max_chars=sys.maxsize
        )
    except BadInput as exc:
        raise InvalidInput(f"{exc.field} {exc.reason}") from exc
    text = text.replace("\r", "\n").strip()
    if not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > limit:
        raise InvalidInput(f"{what} is {len(text)} characters long; at most {limit} are allowed")
    return text
