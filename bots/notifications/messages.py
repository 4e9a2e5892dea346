"""A notification's text from its kind, variables and the customer's language (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..settings.notifications import NotificationKind

__all__ = ["render", "pick_language"]


def pick_language(kind: NotificationKind, wanted: Sequence[str | None], default: str) -> str:
    """The first of ``wanted`` (asked for, the conversation's) the kind has a text in, else
    ``default`` when it has one, else the kind's first language."""
    for language in wanted:
        if language and language in kind.text:
            return language
    return default if default in kind.text else next(iter(kind.text))


def render(kind: NotificationKind, variables: Mapping[str, str], language: str) -> str:
    """The kind's text in ``language`` with ``variables`` filled in (every one was checked present)."""
    return kind.text[language].format_map(dict(variables))
