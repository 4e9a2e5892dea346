"""WhatsApp templates per message kind, for sends outside the 24-hour window (pure)."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..base import Outbound, Template

__all__ = ["TemplateSpec", "render_template", "PLACEHOLDERS"]

#: what a template variable may refer to, as ``"{text}"`` in a format string.
PLACEHOLDERS = ("text", "recipient", "kind")


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
        values = self.variables.values() if isinstance(self.variables, Mapping) else self.variables
        for v in values:
            for _, name, _, _ in string.Formatter().parse(v):
                if name is not None and name not in PLACEHOLDERS:
                    raise ValueError(
                        f"template variable {v!r} uses {{{name}}}; valid placeholders: {list(PLACEHOLDERS)}"
                    )


def render_template(spec: TemplateSpec, message: Outbound, max_variable_length: int = 1024) -> Template:
    """The Template to send for ``message`` (variables filled from its text, recipient, kind)."""
    ctx = {"text": message.text, "recipient": message.recipient, "kind": message.kind}
    items = (
        spec.variables.items()
        if isinstance(spec.variables, Mapping)
        else ((str(i), v) for i, v in enumerate(spec.variables, start=1))
    )
    variables = {}
    for name, fmt in items:
        value = fmt.format(**ctx)
        if len(value) > max_variable_length:
            value = value[: max_variable_length - 1].rstrip() + "…"
        variables[name] = value
    return Template(spec.content_sid, variables)
