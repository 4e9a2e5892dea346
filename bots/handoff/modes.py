"""The one place a conversation's mode changes: ``bot`` -> ``waiting`` -> ``human`` -> ``bot`` / ``resolved``.

A change is validated and applied to the dialogue state by :func:`transition` (pure),
then recorded by :func:`record` (the ``conversations`` row and an ``audit_log`` row, in
one SQL transaction) and announced by :func:`mode_event` (published with the state
save). The dialogue runtime does the three inside a customer's turn (the engine asked
for a person); :class:`Modes` does them for everyone else (an agent's takeover,
hand-back or resolve, the waiting-time sweeper), under the conversation's lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..dialogue.state import MODES, DialogueState, Mode
from ..dialogue.store import StateStore
from ..errors import StoreUnavailable
from ..live_events import encode
from ..stores.models import audit_log, conversations

__all__ = ["ModeChange", "InvalidTransition", "transition", "record", "mode_event", "Modes", "UNCHANGED"]

#: the feedback questions (``DialogueState.privacy["ask"]``) a handover to a person closes.
FEEDBACK_QUESTIONS = ("csat", "comment", "nps")


class InvalidTransition(ValueError):
    """Raised when a mode change is not allowed (unknown mode, or already in that mode)."""


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


#: ``assigned_to`` value meaning "leave the assignment as it is".
UNCHANGED: Any = _Unchanged()


@dataclass(frozen=True)
class ModeChange:
    """One change of mode, as recorded and published."""

    conversation_id: str
    channel: str
    old: str
    new: str
    #: who did it: "customer", "bot", "system", or "staff:<id>".
    actor: str
    #: why: "human_request", "misses", "negative_sentiment", "intent:complaint", "action",
    #: "takeover", "handback", "resolve", "wait_timeout", "customer_cancel", "customer_returned"...
    reason: str
    at: datetime
    assigned_to: Any = UNCHANGED

    @property
    def waiting_since(self) -> datetime | None:
        return self.at if self.new == "waiting" else None


def _is_mode(value: str) -> TypeGuard[Mode]:
    return value in MODES


def transition(
    state: DialogueState, new: str, *, channel: str, actor: str, reason: str, at: datetime, assigned_to: Any = UNCHANGED
) -> ModeChange:
    """Set ``state.mode`` to ``new`` and describe the change.

    Leaving the bot drops its open flow and question (a person now leads); every mode
    but ``bot`` keeps the dialogue silent.

    Raises:
        InvalidTransition: ``new`` is not a mode, or the conversation is already in it.
    """
    if not _is_mode(new):
        raise InvalidTransition(f"mode {new!r} is not one of {', '.join(MODES)}")
    old = state.mode
    if new == old:
        raise InvalidTransition(f"conversation {state.conversation_id!r} is already in mode {old!r}")
    state.mode = new
    state.misses = 0
    if new != "bot":
        state.pending = None
        state.flow = None
        state.stack.clear()
    if new in ("waiting", "human") and state.privacy.get("ask") in FEEDBACK_QUESTIONS:
        state.privacy.pop("ask")  # a rating typed to a person is a message for them, not a score
    return ModeChange(state.conversation_id, channel, old, new, actor, reason, at, assigned_to)


def record(conn: Connection, change: ModeChange) -> None:
    """Write the change to ``conversations`` and ``audit_log`` (inside the caller's transaction)."""
    values: dict[str, Any] = {"mode": change.new, "updated_at": change.at}
    if change.new == "waiting":
        values["waiting_since"] = change.at
        values["handoff_reason"] = change.reason[:64]
        values["resolved_at"] = None
    elif change.new == "bot":
        values["waiting_since"] = None
    elif change.new == "resolved":
        values["waiting_since"] = None
        values["resolved_at"] = change.at
    elif change.new == "human":
        values["waiting_since"] = None
        values["resolved_at"] = None
    if change.assigned_to is not UNCHANGED:
        values["assigned_to"] = change.assigned_to
    conn.execute(update(conversations).where(conversations.c.id == change.conversation_id).values(**values))
    detail: dict[str, Any] = {"from": change.old, "to": change.new, "reason": change.reason}
    if change.assigned_to is not UNCHANGED:
        detail["assigned_to"] = change.assigned_to
    conn.execute(
        insert(audit_log).values(
            at=change.at, actor=change.actor, action=f"mode:{change.new}", subject=change.conversation_id, detail=detail
        )
    )


def mode_event(change: ModeChange) -> str:
    """The live event (JSON) announcing ``change``."""
    return encode(
        {
            "type": "mode",
            "conversation_id": change.conversation_id,
            "channel": change.channel,
            "mode": change.new,
            "old": change.old,
            "actor": change.actor,
            "reason": change.reason,
            "assigned_to": None if change.assigned_to is UNCHANGED else change.assigned_to,
            "waiting_since": change.waiting_since,
            "at": change.at,
        }
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Modes:
    """Mode changes made outside a customer's turn (staff, sweeper), under the conversation lock.

    Args:
        store: the dialogue state store (lock, state, live channel).
        engine: the SQL engine of the durable record.
        clock: returns an aware ``datetime``.
    """

    def __init__(self, store: StateStore, engine: Engine, clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.engine = engine
        self.clock = clock

    def change(
        self,
        conversation_id: str,
        channel: str,
        new: str,
        *,
        actor: str,
        reason: str,
        assigned_to: Any = UNCHANGED,
        expect: tuple[str, ...] | None = None,
        extra_events: tuple[str, ...] = (),
        then: Callable[[DialogueState], None] | None = None,
    ) -> ModeChange:
        """Change the mode of ``conversation_id`` and record, audit and publish it.

        Args:
            expect: modes the conversation must be in (else InvalidTransition), e.g. the
                sweeper only returns conversations still ``waiting``.
            extra_events: more live events (JSON) to publish with the save.
            then: changes the state after the transition, under the same lock and in the same
                save (the desk opens the CSAT question of a hand-back or a resolve with it).

        Raises:
            InvalidTransition: not allowed from the current mode.
            ConversationBusy: a turn held the conversation for too long.
            StoreUnavailable: Redis or SQL failed (nothing was changed).
        """
        lease = self.store.acquire(conversation_id)
        saved = False
        try:
            state = lease.state
            if state.version == 0:
                # the dialogue state expired (or was never saved): the durable record knows the mode
                state.mode = self._recorded_mode(conversation_id) or state.mode
            if expect is not None and state.mode not in expect:
                raise InvalidTransition(
                    f"conversation {conversation_id!r} is in mode {state.mode!r}, not {' or '.join(expect)}"
                )
            change = transition(
                state, new, channel=channel, actor=actor, reason=reason, at=self.clock(), assigned_to=assigned_to
            )
            if then is not None:
                then(state)
            try:
                with self.engine.begin() as conn:
                    record(conn, change)
            except SQLAlchemyError as exc:
                raise StoreUnavailable(f"cannot record the mode change of {conversation_id!r}: {exc}") from exc
            self.store.save(lease, state, [mode_event(change), *extra_events])
            saved = True
            return change
        finally:
            if not saved:
                self.store.release(lease)

    def _recorded_mode(self, conversation_id: str) -> Any:
        try:
            with self.engine.connect() as conn:
                mode = conn.execute(select(conversations.c.mode).where(conversations.c.id == conversation_id)).scalar()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read the mode of {conversation_id!r}: {exc}") from exc
        return mode if mode in MODES else None
