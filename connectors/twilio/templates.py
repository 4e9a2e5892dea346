"""WhatsApp templates per message kind, for sends outside the 24-hour window (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .._template_text import PLACEHOLDERS, check_placeholders, fill, pick_language
from ..base import Outbound, Template

__all__ = ["TemplateSpec", "render_template", "PLACEHOLDERS"]

_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


def _check_sid(sid: str, where: str) -> None:
    if not _CONTENT_SID.match(sid):
        raise ValueError(f"{where} {sid!r} is not a Content API sid (HX followed by 32 hex digits)")


@dataclass(frozen=True)
class TemplateSpec:
    """An approved Content API template: ``content_sid`` (``HX...``) and its variables.

    ``variables`` is a list (numbered ``"1"``, ``"2"``... as Twilio's Content API
    numbers them) or a mapping of names, whose values are format strings over
    ``{text}``, ``{recipient}``, ``{kind}`` and the Outbound's own ``variables``
    (``{flight}``), e.g. ``["{text}"]``.

    ``languages`` maps a language (``"fr"``) to the content sid of the same template approved
    in that language (same variables); a message in another language, or in none, gets
    ``content_sid``.
    """

    content_sid: str
    variables: Sequence[str] | Mapping[str, str] = field(default_factory=tuple)
    languages: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_sid(self.content_sid, "content_sid")
        for language, sid in self.languages.items():
            _check_sid(sid, f"languages.{language}")
        check_placeholders(
            self.variables.values() if isinstance(self.variables, Mapping) else self.variables, allowed=None
        )

    def content_sid_for(self, language: str | None) -> str:
        """The content sid of ``language``'s variant, else the default one."""
        return pick_language(self.languages, language) or self.content_sid


def render_template(spec: TemplateSpec, message: Outbound, max_variable_length: int = 1024) -> Template:
    """The Template to send for ``message``: its language's variant, variables filled from its
    ``variables``, text, recipient and kind.

    Raises:
        ValueError: a variable names a value the message does not have.
    """
    items = (
        spec.variables.items()
        if isinstance(spec.variables, Mapping)
        else ((str(i), v) for i, v in enumerate(spec.variables, start=1))
    )
    return Template(
        spec.content_sid_for(message.language),
        {name: fill(fmt, message, max_variable_length) for name, fmt in items},
    )
