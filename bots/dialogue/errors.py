"""Errors of the dialogue runtime (all are :class:`~bots.errors.BrandbotError`)."""

from __future__ import annotations

from ..errors import BrandbotError

__all__ = ["ConversationBusy", "StaleState", "DomainError", "ActionNotFound"]


class ConversationBusy(BrandbotError):
    """Raised when a conversation's lock stays taken longer than ``dialogue.lock_wait_seconds``.

    The inbound message is not acknowledged, so the queue hands it out again later.
    """


class StaleState(BrandbotError):
    """Raised when a save finds a newer state than the one the turn started from.

    Another worker wrote in between (our lock had expired): nothing is
    overwritten, and the turn is redone from the newer state.
    """


class DomainError(BrandbotError):
    """Raised when flows, FAQ or responses refer to something undefined (checked at start)."""


class ActionNotFound(BrandbotError):
    """Raised at start when a flow names an action the actions module does not define."""
