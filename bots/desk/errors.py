"""Errors of the agent desk (all are :class:`~bots.errors.BrandbotError`).

The JSON API maps them to HTTP: NotFound -> 404, Conflict -> 409, InvalidInput -> 422.
"""

from __future__ import annotations

from ..errors import BrandbotError

__all__ = ["DeskError", "NotFound", "Conflict", "InvalidInput"]


class DeskError(BrandbotError):
    """Base class of the desk's errors: an agent asked for something that cannot be done."""


class NotFound(DeskError):
    """Raised when a conversation (or a staff member to assign) does not exist."""


class Conflict(DeskError):
    """Raised when an action does not fit the conversation's current mode (e.g. hand back a
    conversation the bot already leads), or another worker holds the conversation."""


class InvalidInput(DeskError):
    """Raised when an agent's input is refused: empty or too long text, a NUL or a lone
    surrogate, an unknown template, a free-text reply outside the WhatsApp window."""
