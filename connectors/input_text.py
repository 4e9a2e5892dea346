"""Checking a customer's or an agent's text at the door, before it is queued or stored.

Every channel's parser and every HTTP endpoint that takes free text calls :func:`clean_text`:

- a lone surrogate (``\\ud800``: not a character, cannot be encoded as UTF-8) is refused;
- NUL and the other C0/C1 control characters are removed, except tab and line breaks
  (PostgreSQL text cannot hold NUL; the others are invisible and break logs and terminals);
- Unicode is normalised to NFC (an "é" typed as e + accent equals the one-character "é");
- what remains is capped at ``max_chars`` (refused above it, never cut silently).

A refusal is a :class:`~connectors.errors.BadInput` naming the field and the reason; HTTP
handlers answer it with 400.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import BadInput

__all__ = ["clean_text", "BadInput"]

# C0 controls except \t \n \r, DEL, and the C1 controls
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: object, *, field: str, max_chars: int, required: bool = False) -> str:
    """The text ``value`` made safe to queue and store, or :class:`BadInput`.

    Args:
        value: what the client sent (anything: a non-string is refused).
        field: the field's name, for the message ("text", "message.text", "Body").
        max_chars: the longest text accepted (after cleaning).
        required: refuse a text that is empty once cleaned and stripped.

    Returns:
        The cleaned text (NFC, controls removed; surrounding whitespace kept).
    """
    if not isinstance(value, str):
        raise BadInput(field, f"must be a string, not {type(value).__name__}")
    found = _SURROGATE.search(value)
    if found:
        raise BadInput(field, f"holds a lone surrogate (U+{ord(found.group()):04X}) at position {found.start()}")
    text = unicodedata.normalize("NFC", _CONTROLS.sub("", value))
    if len(text) > max_chars:
        raise BadInput(field, f"is {len(text)} characters long; the limit is {max_chars}")
    if required and not text.strip():
        raise BadInput(field, "is empty")
    return text
