"""Response templates: text per language with ``{variables}``, plus buttons.

Rendering is pure. Variables missing from a template's values are left as
``{name}`` (and logged) rather than failing the customer's turn.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..settings.dialogue import Button, DomainSpec, Response

__all__ = ["Reply", "render", "render_response"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """One bot message, channel-neutral: text and (title, payload) buttons."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    #: the response key it came from (for tests and analytics).
    key: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": [list(b) for b in self.buttons], "key": self.key}


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        log.warning("response variable {%s} has no value", key)
        return "{" + key + "}"


_FMT = string.Formatter()


def _fill(template: str, values: Mapping[str, Any]) -> str:
    try:
        return _FMT.vformat(template, (), _Keep({k: "" if v is None else v for k, v in values.items()}))
    except (ValueError, IndexError, AttributeError) as exc:
        log.warning("response template %r could not be filled: %s", template, exc)
        return template


def render_response(
    resp: Response,
    language: str,
    values: Mapping[str, Any] | None = None,
    key: str = "",
    fallback_language: str | None = None,
    extra_buttons: tuple[Button, ...] | list[Button] = (),
) -> Reply:
    """Render one :class:`Response` in ``language`` (or the fallback language)."""
    values = values or {}
    text = resp.text.get(language) or (resp.text.get(fallback_language or "") if fallback_language else None)
    if text is None:
        text = next(iter(resp.text.values()), "")
    buttons = []
    for b in (*resp.buttons, *extra_buttons):
        title = b.title.get(language) or b.title.get(fallback_language or "") or next(iter(b.title.values()), b.payload)
        buttons.append((_fill(title, values), b.payload))
    return Reply(_fill(text, values), tuple(buttons), key)


def render(
    domain: DomainSpec,
    key: str,
    language: str,
    values: Mapping[str, Any] | None = None,
    fallback_language: str | None = None,
) -> Reply:
    """Render response ``key`` of the domain.

    Raises:
        KeyError: ``key`` is not a response (start-up checks make this a bug, not a config error).
    """
    return render_response(domain.responses[key], language, values, key, fallback_language)
