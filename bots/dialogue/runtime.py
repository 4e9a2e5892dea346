"""One conversation turn with its I/O: lock, state, NLU, policy, actions, transcript, live events.

Public API (used by the pipeline workers, the shell and the web chat)::

    from bots.dialogue.runtime import ConversationRuntime, TurnResult, build_runtime
    rt = ConversationRuntime(settings=settings, redis=redis_client, engine=sql_engine,
                             nlu=nlu, actions=registry, clock=lambda: datetime.now(timezone.utc))
    result = rt.handle(inbound)     # connectors.base.Inbound -> TurnResult
    result.outbounds                # list[Outbound] to send, in order
    result.nlu, result.state, result.replayed

A redelivered inbound (same ``message_id``) returns the outbounds stored the
first time, with ``replayed=True`` and no new effect: safe to redo a turn. A turn
redone because it was never saved (its worker died mid-turn) runs its actions again
with the same :func:`~bots.dialogue.actions.action_key` per step, so a backend that honours the key applies
each write once.

Handoff: when the engine asks for a mode change (``EngineOutput.mode_request``), the
runtime applies it with :func:`bots.handoff.modes.transition`, records it with
:func:`~bots.handoff.modes.record` in the transcript's SQL transaction and publishes
:func:`~bots.handoff.modes.mode_event` with the state save. Staff availability (business
hours, :class:`~bots.handoff.presence.Presence`, the queue in SQL) is looked up only on a
turn that may hand over; a plain bot turn stays at two Redis round trips.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import redis
from sqlalchemy import Engine, insert, update
from sqlalchemy.engine import Connection

from connectors.base import Attachment, Inbound, Outbound, QuickReply
from nlu.result import OUT_OF_SCOPE, NLUResult, ParseContext

from ..desk.attachments import describe
from ..handoff.hours import hours_from_settings
from ..handoff.modes import ModeChange, mode_event, record, transition
from ..handoff.presence import Presence
from ..handoff.queue import STAFFED, Availability, availability
from ..links.shortener import track_links
from ..live_events import encode, message_event, publish
from ..notifications.events import NOTIFICATION_EVENT
from ..pipeline.turn import TurnResult as PipelineTurn
from ..settings import Settings
from ..settings.dialogue import DomainSpec
from ..stores.models import audit_log, conversations
from .actions import ActionContext, ActionRegistry, ActionResult, action_key
from .attempts import IdentityAttempts
from .domain import load_domain
from .engine import Engine as Policy
from .engine import EngineOutput, merge_outputs
from .foreign import ForeignLanguage
from .privacy_step import PrivacyStep, customer_of
from .requests import MIN_REQUEST_WORDS, split_requests, words_besides_entities
from .responses import Reply
from .state import DialogueState
from .store import StateStore
from .transcript import record_turn
from .unreadable import LANGUAGE_UNSUPPORTED, is_reaction, media_key, media_kind

if TYPE_CHECKING:
    from ..notifications.turn import NotificationTurns

__all__ = ["ConversationRuntime", "TurnResult", "build_runtime", "load_nlu", "NLUParser"]

log = logging.getLogger(__name__)

#: turn kinds that run the dialogue; edits and channel events are recorded by nobody here.
DIALOGUE_KINDS = ("message", "callback")
_PAYLOAD_INTENT = re.compile(r"^/([a-z_][a-z0-9_]*)$")
MAX_ACTIONS_PER_TURN = 6
#: while a flow waits for a value, a message needs this many more words to be called foreign.
ANSWER_EXTRA_WORDS = 2


class NLUParser(Protocol):
    def parse(self, text: str, language_hint: str | None = None, context: ParseContext | None = None) -> NLUResult: ...


@dataclass(kw_only=True)
class TurnResult(PipelineTurn):
    """What one ``handle`` call did: the pipeline's outbounds, events and replay flag, plus
    the NLU result, the new dialogue state and the replies as the engine chose them."""

    nlu: NLUResult | None
    state: DialogueState
    replies: list[Reply] = field(default_factory=list)
    #: the mode change this turn made (handed over, back to the bot...), if any.
    mode_change: ModeChange | None = None
    #: run by the pipeline once the outbounds are delivered: the customer's confirmed erasure
    #: (``PrivacyStep.defer_erasure``), so the confirmation itself leaves no delivery behind.
    after_delivery: Callable[[], Any] | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ConversationRuntime:
    """Runs turns; thread-safe (share one per process), stateless between calls.

    Args:
        settings: the validated settings.
        redis: redis-py client (state, locks, live events).
        engine: SQLAlchemy engine of the migrated durable store.
        nlu: anything with ``parse(text, language_hint=None, context=ParseContext)``.
        actions: the brand's :class:`ActionRegistry`.
        clock: returns an aware ``datetime`` (tests pin it).
        domain: flows/FAQ/responses; default read from settings.
        presence: who is signed in to the console; default built on ``redis``
            (``<stores.key_prefix>:presence``, ``handoff.presence_seconds``, ``clock``).
        privacy: consent, feedback signals and erasure in the turn (:mod:`.privacy_step`);
            None: none of it (``build_runtime`` always sets it).
        notices: proactive notifications (:mod:`bots.notifications.turn`): sends a queued one as
            its event's turn, and links the references actions checked; None: neither.
        foreign: tells a message in a language the brand does not speak (answered with the
            languages it speaks); default: :class:`~bots.dialogue.foreign.ForeignLanguage` over
            ``brand.languages``.
    """

    def __init__(
        self,
        settings: Settings,
        redis: redis.Redis,
        engine: Engine,
        nlu: NLUParser,
        actions: ActionRegistry,
        clock: Callable[[], datetime] | None = None,
        domain: DomainSpec | None = None,
        presence: Presence | None = None,
        privacy: PrivacyStep | None = None,
        notices: NotificationTurns | None = None,
        foreign: ForeignLanguage | None = None,
    ) -> None:
        self.settings = settings
        self.foreign = foreign or ForeignLanguage(settings.brand.languages)
        self.privacy = privacy
        self.notices = notices
        self.redis = redis
        self.engine = engine
        self.nlu = nlu
        self.actions = actions
        self.clock = clock or _utcnow
        self.domain = domain or load_domain(settings)
        used = [n for f in self.domain.flows.values() for n in (f.check, f.action) if n]
        ident = self.domain.identity
        if ident is not None and any(f.verify for f in self.domain.flows.values()):
            used.append(ident.action)
        actions.require(used)
        self.attempts = IdentityAttempts(redis, settings.stores.key_prefix, ident) if ident is not None else None
        d = settings.dialogue
        self.policy = Policy(
            self.domain,
            settings.brand.languages,
            settings.brand.default_language,
            settings.nlu.fallback_threshold,
            triggers=settings.handoff.triggers,
        )
        self.presence = presence or Presence(
            redis, settings.stores.key_prefix, settings.handoff.presence_seconds, self.clock
        )
        self.hours = hours_from_settings(settings)
        self.store = StateStore(
            redis,
            prefix=settings.stores.key_prefix,
            state_ttl=d.state_ttl_seconds,
            lock_ttl=d.lock_ttl_seconds,
            lock_wait=d.lock_wait_seconds,
        )

    # ------------------------------------------------------------------
    def handle(self, inbound: Inbound) -> TurnResult:
        """Run one turn for ``inbound`` (see the module docstring).

        Raises:
            ConversationBusy: the conversation stayed locked (leave the message unacked).
            StaleState: another worker saved first (redo the turn).
            StoreUnavailable: Redis or SQL failed (nothing was saved).
        """
        if inbound.kind == "event" and inbound.event == NOTIFICATION_EVENT and self.notices is not None:
            return self._notification_turn(inbound, self.notices)
        if inbound.kind not in DIALOGUE_KINDS:
            loaded = self.store.load(inbound.conversation_id)
            if self.privacy is not None and inbound.kind == "event":
                self.privacy.on_event(inbound, loaded.language)  # an SMS STOP withdraws consents
            if is_reaction(inbound):
                self._record_signal(inbound, loaded)
            return TurnResult(outbounds=[], nlu=None, state=loaded)
        lease = self.store.acquire(inbound.conversation_id)
        # only a conversation with no state can be one just erased (costs a read on first contact only)
        if self.privacy is not None and lease.state.turns == 0 and self.privacy.sent_before_erasure(inbound):
            log.info("conversation %s: message sent before the customer's erasure; dropped", inbound.conversation_id)
            self.store.release(lease)
            return TurnResult(outbounds=[], nlu=None, state=lease.state)
        saved = False
        try:
            state = lease.state
            previous = state.processed_outbounds(inbound.message_id)
            if previous is not None:
                log.info(
                    "conversation %s: message %s already handled; replaying",
                    inbound.conversation_id,
                    inbound.message_id,
                )
                replay = TurnResult(
                    outbounds=[Outbound.from_dict(o) for o in previous], nlu=None, state=state, replayed=True
                )
                pending = self.privacy.pending_erasure(inbound, state) if self.privacy else None
                self.store.release(lease)
                saved = True
                return self._with_erasure(replay, pending)
            now = self.clock()
            nlu = self._understand(inbound, state, now)
            first_contact = state.turns == 0
            handled = self.privacy.before(state, inbound, nlu, now) if self.privacy else None
            if handled:
                out = handled.output
            else:
                unreadable = self._unreadable(inbound, state, nlu)
                out = (
                    self.policy.cannot_read(state, nlu, unreadable)
                    if unreadable
                    else self._policy_turn(state, nlu, inbound, now, lease)
                )
            if handled and not out.state.privacy.get("ask"):  # answered; no question of its own open
                self.policy.ask_again(out)  # the interrupted flow's question, again
            after = self.privacy.finish(inbound, nlu, out, handled, first_contact, now) if self.privacy else None
            new = out.state
            change = None
            req = out.mode_request
            if req is not None and req.new != new.mode:
                change = transition(new, req.new, channel=inbound.channel, actor=req.actor, reason=req.reason, at=now)
            outbounds = [self._outbound(inbound, i, r) for i, r in enumerate(out.replies)]
            limits = self.settings.dialogue
            new.add_history(
                {
                    "id": inbound.message_id,
                    "user": inbound.text[:500],
                    "intent": nlu.intent,
                    "sentiment": round(nlu.sentiment.score, 3),
                    "bot": [r.text[:500] for r in out.replies],
                },
                limits.history_limit,
            )
            new.remember_processed(inbound.message_id, [o.to_dict() for o in outbounds], limits.processed_limit)
            nlu_dict = nlu.to_dict()
            left = out.message_left

            def extra(conn: Connection) -> None:
                if change is not None:
                    record(conn, change)
                if left:
                    _record_left_message(conn, inbound, now)

            record_turn(
                self.engine,
                inbound,
                outbounds,
                nlu_dict,
                new.language,
                new.mode,
                now,
                extra=extra,
                inbound_data={"left_message": True} if left else None,
            )
            events = [
                self._live(
                    inbound, "in", inbound.text, nlu_dict, new, now, left_message=left, attachments=inbound.attachments
                )
            ]
            if change is not None:
                events.append(mode_event(change))
            events += [self._live(inbound, "out", o.text, None, new, now) for o in outbounds]
            self.store.save(lease, new, events)
            saved = True
            result = TurnResult(
                outbounds=outbounds,
                nlu=nlu,
                state=new,
                replies=list(out.replies),
                events=list(out.events),
                mode_change=change,
            )
            if after is not None and after.signals is not None:
                after.signals()
            return self._with_erasure(result, after.erase if after is not None else None)
        finally:
            if not saved:
                self.store.release(lease)

    def _unreadable(self, inbound: Inbound, state: DialogueState, nlu: NLUResult) -> str | None:
        """The response for a message the bot cannot read (``media_<kind>``, ``language_unsupported``),
        or None for a message the policy should see."""
        kind = media_kind(inbound)
        if kind is not None:
            return media_key(kind)
        if state.mode in ("human", "waiting") or nlu.entities or inbound.payload or not nlu.text.strip():
            return None  # a person reads it; an entity (a reference, a seat) is something to use
        # while a flow waits for a value, short answers are values ("maria garcia lopez")
        least = self.foreign.min_words + ANSWER_EXTRA_WORDS if state.flow and state.flow.awaiting else None
        return LANGUAGE_UNSUPPORTED if self.foreign.detect(nlu.text, least) else None

    def _record_signal(self, inbound: Inbound, state: DialogueState) -> None:
        """A reaction: no answer, no dialogue turn; a transcript row and a live event for the console."""
        now = self.clock()
        data = {"event": inbound.event, **{k: v for k, v in inbound.raw.items() if k in ("reacted_to", "action")}}
        record_turn(self.engine, inbound, [], None, state.language, state.mode, now, inbound_data=data)
        publish(
            self.redis,
            self.settings.stores.key_prefix,
            message_event(
                conversation_id=inbound.conversation_id,
                channel=inbound.channel,
                direction="in",
                author="customer",
                message_id=inbound.message_id,
                text=inbound.text,
                mode=state.mode,
                at=now,
                language=state.language,
                kind="event",
                event=inbound.event,
            ),
        )

    def _notification_turn(self, inbound: Inbound, notices: NotificationTurns) -> TurnResult:
        """Send a queued notification as the turn of its event: the state remembers what it is
        about, the transcript shows it (no customer message), a redone turn sends nothing twice."""
        lease = self.store.acquire(inbound.conversation_id)
        saved = False
        try:
            state = lease.state
            previous = state.processed_outbounds(inbound.message_id)
            if previous is not None:
                self.store.release(lease)
                saved = True
                return TurnResult(
                    outbounds=[Outbound.from_dict(o) for o in previous], nlu=None, state=state, replayed=True
                )
            now = self.clock()
            found = notices.outbound(inbound, state)
            outbounds = [found] if found is not None else []
            state.remember_processed(
                inbound.message_id, [o.to_dict() for o in outbounds], self.settings.dialogue.processed_limit
            )
            record_turn(self.engine, inbound, outbounds, None, state.language, state.mode, now, record_inbound=False)
            self.store.save(lease, state, [self._live(inbound, "out", o.text, None, state, now) for o in outbounds])
            saved = True
            return TurnResult(outbounds=outbounds, nlu=None, state=state)
        finally:
            if not saved:
                self.store.release(lease)

    def _policy_turn(
        self, state: DialogueState, nlu: NLUResult, inbound: Inbound, now: datetime, lease: Any
    ) -> EngineOutput:
        """The engine's turn and the actions it asks for."""
        steps: Counter[str] = Counter()
        out: EngineOutput | None = None
        for part in self._requests(nlu, state, inbound, now):
            current = state if out is None else out.state
            ready = self._availability(now) if self.policy.needs_availability(current, part) else STAFFED
            step = self.policy.turn(current, part, ready)
            for _ in range(MAX_ACTIONS_PER_TURN):
                if step.action is None:
                    break
                if time.monotonic() - lease.acquired_at > self.store.lock_ttl_ms / 3000:
                    self.store.extend(lease)  # slow actions: keep the conversation ours
                step = self._run_action(step, inbound, now, steps)
            out = step if out is None else merge_outputs(out, step)
            if step.mode_request is not None or step.state.pending:
                break  # handed over, or a yes/no question is open: the rest waits for the answer
        assert out is not None
        out.state.turns = state.turns + 1
        return out

    def _requests(self, nlu: NLUResult, state: DialogueState, inbound: Inbound, now: datetime) -> list[NLUResult]:
        """The message's requests in order: its parts when two or more of them ask for different
        things the bot acts on (:mod:`.requests`), else the message itself."""
        if inbound.payload or state.mode != "bot":
            return [nlu]
        texts = split_requests(nlu.text)
        if len(texts) < 2:
            return [nlu]
        ctx = ParseContext(now=now, timezone=self.settings.brand.timezone, language=state.language or nlu.language)
        parsed = (self.nlu.parse(t, context=ctx) for t in texts)
        parts = [p for p in parsed if self.policy.is_request(p) and words_besides_entities(p) >= MIN_REQUEST_WORDS]
        if len({p.intent for p in parts}) < 2:
            return [nlu]
        return parts

    def _with_erasure(self, result: TurnResult, erase: Callable[[], Any] | None) -> TurnResult:
        """Run a confirmed erasure now (the state is saved), or hand it to the pipeline."""
        if erase is not None:
            assert self.privacy is not None
            if self.privacy.defer_erasure:
                result.after_delivery = erase
            else:
                erase()
        return result

    # ------------------------------------------------------------------
    def _understand(self, inbound: Inbound, state: DialogueState, now: datetime) -> NLUResult:
        lang = state.language or self.settings.brand.default_language
        payload = (inbound.payload or "").strip()
        m = _PAYLOAD_INTENT.match(payload)
        if m:
            return NLUResult(text=inbound.text or payload, language=lang, intent=m.group(1), confidence=1.0)
        text = inbound.text or payload
        if not text.strip():
            return NLUResult(text="", language=lang, intent=OUT_OF_SCOPE, confidence=0.0)
        ctx = ParseContext(now=now, timezone=self.settings.brand.timezone, language=state.language)
        return self.nlu.parse(text, context=ctx)

    def _run_action(self, out: EngineOutput, inbound: Inbound, now: datetime, steps: Counter[str]) -> EngineOutput:
        req = out.action
        assert req is not None
        st = out.state
        step = f"{req.flow}:{req.name}"
        steps[step] += 1  # the n-th run of this step in this turn (almost always the first)
        ctx = ActionContext(
            conversation_id=inbound.conversation_id,
            language=st.language or self.settings.brand.default_language,
            slots=dict(req.slots),
            phase=req.phase,
            flow=req.flow,
            now=now,
            api=self.actions.api,
            memory=dict(st.memory),
            state={k: v for k, v in st.to_dict().items() if k != "processed"},
            idempotency_key=action_key(inbound.channel, inbound.message_id, step, steps[step]),
        )
        result = self._verify(req.slots, ctx) if req.phase == "verify" else self.actions.run(req.name, ctx)
        if self.notices is not None and result.remember:
            self.notices.confirmed(customer_of(inbound.channel, inbound.conversation_id), result.remember)
        ready = self._availability(now) if result.handoff and self.settings.handoff.triggers.from_actions else STAFFED
        return self.policy.resume(out, req, result, ready)

    def _verify(self, slots: dict[str, Any], ctx: ActionContext) -> ActionResult:
        """The identity action, unless its subject is locked by failures across conversations
        (then it is not even asked); a mismatch is counted."""
        attempts = self.attempts
        assert attempts is not None
        subject = slots.get(attempts.spec.subject, "")
        if attempts.locked(subject):
            return ActionResult(ok=False, response=attempts.spec.locked)
        result = self.actions.run(attempts.spec.action, ctx)
        if not result.ok and not result.error and attempts.failed(subject) >= attempts.spec.max_attempts_per_subject:
            return ActionResult(ok=False, response=attempts.spec.locked, events=result.events)
        return result

    def _availability(self, now: datetime) -> Availability:
        """Business hours + console presence + the queue: only on turns that may hand over."""
        return availability(self.settings, self.presence, self.engine, now, self.hours)

    def _outbound(self, inbound: Inbound, i: int, reply: Reply) -> Outbound:
        key = f"{inbound.channel}:{inbound.message_id}:{i}"
        # allow-listed URLs become tracked links; the code derives from ``key``: a redo gets the same
        text = track_links(
            self.engine,
            self.settings,
            reply.text,
            key=key,
            channel=inbound.channel,
            conversation_id=inbound.conversation_id,
            now=self.clock(),
        )
        return Outbound(
            channel=inbound.channel,
            recipient=inbound.sender_id,
            text=text,
            quick_replies=tuple(QuickReply(t, p) for t, p in reply.buttons),
            idempotency_key=key,
            conversation_id=inbound.conversation_id,
        )

    @staticmethod
    def _live(
        inbound: Inbound,
        direction: str,
        text: str,
        nlu: dict[str, Any] | None,
        st: DialogueState,
        now: datetime,
        left_message: bool = False,
        attachments: tuple[Attachment, ...] = (),
    ) -> str:
        extra: dict[str, Any] = {"left_message": True} if left_message else {}
        if attachments:  # a sticker, a photo...: the console shows what came, even with no text
            extra["attachments"] = [describe(a.to_dict()).to_dict() for a in attachments]
        return encode(
            message_event(
                conversation_id=inbound.conversation_id,
                channel=inbound.channel,
                direction=direction,
                author="customer" if direction == "in" else "bot",
                message_id=inbound.message_id,
                text=text,
                nlu=nlu,
                mode=st.mode,
                at=now,
                language=st.language,
                **extra,
            )
        )


def _record_left_message(conn: Connection, inbound: Inbound, now: datetime) -> None:
    """A message left for staff outside hours: the conversation stays in mode ``bot`` but gets
    ``waiting_since`` (so the staff inbox's waiting list shows it: ``waiting_since IS NOT
    NULL``) and ``handoff_reason`` "left_message"; audited as "message_left". The next mode
    change (an agent's takeover, a handoff) clears or resets ``waiting_since``."""
    conn.execute(
        update(conversations)
        .where(conversations.c.id == inbound.conversation_id)
        .values(waiting_since=now, handoff_reason="left_message", updated_at=now)
    )
    conn.execute(
        insert(audit_log).values(
            at=now,
            actor="customer",
            action="message_left",
            subject=inbound.conversation_id,
            detail={"message_id": inbound.message_id},
        )
    )


from .build import build_runtime, load_nlu  # noqa: E402  (re-exported: they build this module's runtime)
