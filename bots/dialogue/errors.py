"""Errors of the dialogue runtime (all are :class:`~bots.errors.BrandbotError`)."""

from __future__ import annotations

from ..errors import BrandbotError, StoreUnavailable

__all__ = ["ConversationBusy", "StaleState", "DomainError", "ActionNotFound"]


class ConversationBusy(StoreUnavailable):
    """Raised when a conversation's lock stays taken longer than ``dialogue.lock_wait_seconds``.

    A :class:`~bots.errors.StoreUnavailable` on purpose: like an unreachable store, it
    means "not now": the inbound is left unacknowledged and redone later, never
    dead-lettered.
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
