"""WhatsApp templates per message kind, for sends outside the 24-hour window (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .._template_text import PLACEHOLDERS, check_placeholders, fill
from ..base import Outbound, Template

__all__ = ["TemplateSpec", "render_template", "PLACEHOLDERS"]


@dataclass(frozen=True)
class TemplateSpec:
    """An approved Content API template: ``content_sid`` (``HX...``) and its variables.

    ``variables`` is a list (numbered ``"1"``, ``"2"``... as Twilio's Content API
    numbers them) or a mapping of names, whose values are format strings over
    ``{text}``, ``{recipient}`` and ``{kind}``, e.g. ``["{text}"]``.
    """

    content_sid: str
    variables: Sequence[str] | Mapping[str, str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.content_sid.startswith("HX"):
            raise ValueError(
                f"content_sid {self.content_sid!r} is not a Content API sid (HX followed by 32 hex digits)"
            )
        check_placeholders(self.variables.values() if isinstance(self.variables, Mapping) else self.variables)


def render_template(spec: TemplateSpec, message: Outbound, max_variable_length: int = 1024) -> Template:
    """The Template to send for ``message`` (variables filled from its text, recipient, kind)."""
    items = (
        spec.variables.items()
        if isinstance(spec.variables, Mapping)
        else ((str(i), v) for i, v in enumerate(spec.variables, start=1))
    )
    return Template(spec.content_sid, {name: fill(fmt, message, max_variable_length) for name, fmt in items})
