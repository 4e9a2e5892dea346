"""A channel's reply window, as a capability: connectors that have one say so by shape.

WhatsApp lets a business send free text only within 24 hours of the customer's last
message; outside it, only an approved template. A connector offering
``window_open(recipient)`` satisfies :class:`ReplyWindow`; one offering ``template_kinds()``
:class:`HasTemplates`. Messenger and Instagram let staff answer for 7 days
(:class:`~connectors.base.StaffWindow`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from connectors.base import StaffWindow

from .views import WindowInfo

__all__ = ["ReplyWindow", "HasTemplates", "window_info", "template_kinds", "staff_window_open"]


@runtime_checkable
class ReplyWindow(Protocol):
    """A connector whose free-text replies are allowed only in a window (WhatsApp)."""

    def window_open(self, recipient: str) -> bool:
        """Whether free text may be sent to ``recipient`` now."""
        ...


@runtime_checkable
class HasTemplates(Protocol):
    """A connector that can send approved templates outside its window (WhatsApp)."""

    def template_kinds(self) -> tuple[str, ...]:
        """The message kinds with a configured template."""
        ...


def template_kinds(connector: object) -> tuple[str, ...]:
    """The message kinds ``connector`` has a template for (none when it has no templates)."""
    return connector.template_kinds() if isinstance(connector, HasTemplates) else ()


def staff_window_open(connector: object, recipient: str) -> bool:
    """Whether staff may answer ``recipient`` outside the bot's window (Messenger's human-agent tag)."""
    return isinstance(connector, StaffWindow) and connector.staff_may_reply(recipient)


def window_info(
    connector: object,
    recipient: str,
    last_inbound: datetime | None,
    window_seconds: int | None,
    templates: Iterable[str],
) -> WindowInfo | None:
    """The window of ``recipient`` on ``connector``; None when the channel has no window.

    Args:
        last_inbound: when the customer last wrote (from the transcript), for ``closes_at``.
        window_seconds: the channel's ``rules.reply_window_seconds``.
        templates: message kinds with a configured template.
    """
    if not isinstance(connector, ReplyWindow):
        return None
    is_open = connector.window_open(recipient) or staff_window_open(connector, recipient)
    closes_at = None
    if is_open and last_inbound is not None and window_seconds:
        closes_at = last_inbound + timedelta(seconds=window_seconds)
    return WindowInfo(open=is_open, closes_at=closes_at, templates=tuple(sorted(templates)))
