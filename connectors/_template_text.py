"""Filling a channel template's variables from an Outbound (pure; Twilio's Content API, Meta's templates)."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping

from .base import Outbound

__all__ = ["PLACEHOLDERS", "check_placeholders", "fill", "pick_language"]

#: what every template variable may refer to, as ``"{text}"`` in a format string; an Outbound's
#: own ``variables`` (``{flight}``) come on top.
PLACEHOLDERS = ("text", "recipient", "kind")


def check_placeholders(formats: Iterable[str], allowed: Iterable[str] | None = PLACEHOLDERS) -> None:
    """Check the ``{names}`` of format strings.

    Args:
        formats: the format strings (``"{text}"``, ``"Flight {flight}"``).
        allowed: the names they may use; None: any identifier (an Outbound's ``variables``
            are checked against the notification kinds elsewhere).

    Raises:
        ValueError: naming the format string and a placeholder that is not an identifier
            (``{0}``, ``{}``, ``{a.b}``) or not allowed.
    """
    valid = None if allowed is None else tuple(allowed)
    for value in formats:
        try:
            fields = list(string.Formatter().parse(value))
        except ValueError as exc:  # "{" without "}", "}" alone
            raise ValueError(f"template variable {value!r} is not a valid format string ({exc})") from exc
        for _, name, _, _ in fields:
            if name is None:
                continue
            if not name.isidentifier():
                raise ValueError(
                    f"template variable {value!r} uses {{{name}}}; a placeholder is a name like {{text}} or {{flight}}"
                )
            if valid is not None and name not in valid:
                raise ValueError(f"template variable {value!r} uses {{{name}}}; valid placeholders: {list(valid)}")


def fill(fmt: str, message: Outbound, max_length: int) -> str:
    """``fmt`` filled from ``message``'s ``variables`` and its text, recipient and kind (these
    three win over a variable of the same name), cut to ``max_length`` characters.

    Raises:
        ValueError: ``fmt`` names a value the message does not have (the connectors refuse
            the send: :class:`~connectors.errors.PermanentSendError`, code ``"template_variables"``).
    """
    values = {**message.variables, "text": message.text, "recipient": message.recipient, "kind": message.kind}
    for _, name, _, _ in string.Formatter().parse(fmt):
        if name is not None and name not in values:
            raise ValueError(f"template variable {{{name}}} has no value (the message has {sorted(values)})")
    try:
        value = fmt.format_map(values)
    except (KeyError, IndexError, AttributeError, ValueError) as exc:  # a nested {name} in a format spec
        raise ValueError(f"template variable {fmt!r} cannot be filled ({type(exc).__name__}: {exc})") from exc
    if len(value) > max_length:
        value = value[: max_length - 1].rstrip() + "…"
    return value


def pick_language(variants: Mapping[str, str], language: str | None) -> str | None:
    """The variant of ``language`` (``"fr"``; ``"fr-BE"`` falls back to ``"fr"``), or None."""
    if not language:
        return None
    if language in variants:
        return variants[language]
    return variants.get(language.replace("_", "-").split("-")[0].lower())
