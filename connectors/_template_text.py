"""Filling a channel template's variables from an Outbound (pure; Twilio's Content API, Meta's templates)."""

from __future__ import annotations

import string
from collections.abc import Iterable

from .base import Outbound

__all__ = ["PLACEHOLDERS", "check_placeholders", "fill"]

#: what a template variable may refer to, as ``"{text}"`` in a format string.
PLACEHOLDERS = ("text", "recipient", "kind")


def check_placeholders(formats: Iterable[str]) -> None:
    """Raises ValueError naming a placeholder that is not one of :data:`PLACEHOLDERS`."""
    for value in formats:
        for _, name, _, _ in string.Formatter().parse(value):
            if name is not None and name not in PLACEHOLDERS:
                raise ValueError(
                    f"template variable {value!r} uses {{{name}}}; valid placeholders: {list(PLACEHOLDERS)}"
                )


def fill(fmt: str, message: Outbound, max_length: int) -> str:
    """``fmt`` filled from ``message``'s text, recipient and kind, cut to ``max_length`` characters."""
    value = fmt.format(text=message.text, recipient=message.recipient, kind=message.kind)
    if len(value) > max_length:
        value = value[: max_length - 1].rstrip() + "…"
    return value
