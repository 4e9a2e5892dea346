"""One conversation turn with its I/O: lock, state, NLU, policy, actions, transcript, live events.

Public API (used by the pipeline workers, the shell and the web chat)::

    from bots.dialogue.runtime import ConversationRuntime, TurnResult, build_runtime
    rt = ConversationRuntime(settings=settings, redis=redis_client, engine=sql_engine,
                             nlu=nlu, actions=registry, clock=lambda: datetime.now(timezone.utc))
    result = rt.handle(inbound)     # connectors.base.Inbound -> TurnResult
    result.outbounds                # list[Outbound] to send, in order
    result.nlu, result.state, result.replayed

A redelivered inbound (same ``message_id``) returns the outbounds stored the
first time, with ``replayed=True`` and no new effect: safe to redo a turn.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

import redis
from sqlalchemy import Engine

from connectors.base import Inbound, Outbound, QuickReply
from nlu.result import OUT_OF_SCOPE, NLUResult, ParseContext

from ..errors import ModelNotTrained
from ..settings import Settings
from ..settings.dialogue import DomainSpec
from .actions import ActionContext, ActionRegistry, load_actions
from .domain import load_domain
from .engine import Engine as Policy
from .engine import EngineOutput
from .responses import Reply
from .state import DialogueState
from .store import StateStore
from .transcript import record_turn

__all__ = ["ConversationRuntime", "TurnResult", "build_runtime", "NLUParser"]

log = logging.getLogger(__name__)

#: turn kinds that run the dialogue; edits and channel events are recorded by nobody here.
DIALOGUE_KINDS = ("message", "callback")
_PAYLOAD_INTENT = re.compile(r"^/([a-z_][a-z0-9_]*)$")
MAX_ACTIONS_PER_TURN = 6


class NLUParser(Protocol):
    def parse(self, text: str, language_hint: str | None = None, context: ParseContext | None = None) -> NLUResult: ...


@dataclass
class TurnResult:
    """What one ``handle`` call did."""

    outbounds: list[Outbound]
    nlu: NLUResult | None
    state: DialogueState
    replayed: bool = False
    replies: list[Reply] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.engine = engine
        self.nlu = nlu
        self.actions = actions
        self.clock = clock or _utcnow
        self.domain = domain or load_domain(settings)
        used = [n for f in self.domain.flows.values() for n in (f.check, f.action) if n]
        actions.require(used)
        d = settings.dialogue
        self.policy = Policy(
            self.domain,
            settings.brand.languages,
            settings.brand.default_language,
            settings.nlu.fallback_threshold,
        )
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
        if inbound.kind not in DIALOGUE_KINDS:
            return TurnResult([], None, self.store.load(inbound.conversation_id))
        lease = self.store.acquire(inbound.conversation_id)
        saved = False
        try:
            state = lease.state
            previous = state.processed_outbounds(inbound.message_id)
            if previous is not None:
                log.info("conversation %s: message %s already handled; replaying", inbound.conversation_id, inbound.message_id)
                return TurnResult([Outbound.from_dict(o) for o in previous], None, state, replayed=True)
            now = self.clock()
            nlu = self._understand(inbound, state, now)
            out = self.policy.turn(state, nlu)
            for _ in range(MAX_ACTIONS_PER_TURN):
                if out.action is None:
                    break
                if time.monotonic() - lease.acquired_at > self.store.lock_ttl_ms / 3000:
                    self.store.extend(lease)  # slow actions: keep the conversation ours
                out = self._run_action(out, inbound, now)
            new = out.state
            outbounds = [self._outbound(inbound, i, r) for i, r in enumerate(out.replies)]
            limits = self.settings.dialogue
            new.add_history(
                {"id": inbound.message_id, "user": inbound.text[:500], "intent": nlu.intent,
                 "bot": [r.text[:500] for r in out.replies]},
                limits.history_limit,
            )
            new.remember_processed(inbound.message_id, [o.to_dict() for o in outbounds], limits.processed_limit)
            nlu_dict = nlu.to_dict()
            record_turn(self.engine, inbound, outbounds, nlu_dict, new.language, new.mode, now)
            events = [self._live(inbound, "in", inbound.text, nlu_dict, new, now)]
            events += [self._live(inbound, "out", o.text, None, new, now) for o in outbounds]
            self.store.save(lease, new, events)
            saved = True
            return TurnResult(outbounds, nlu, new, False, list(out.replies), list(out.events))
        finally:
            if not saved:
                self.store.release(lease)

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

    def _run_action(self, out: EngineOutput, inbound: Inbound, now: datetime) -> EngineOutput:
        req = out.action
        assert req is not None
        st = out.state
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
        )
        result = self.actions.run(req.name, ctx)
        return self.policy.resume(out, req, result)

    def _outbound(self, inbound: Inbound, i: int, reply: Reply) -> Outbound:
        return Outbound(
            channel=inbound.channel,
            recipient=inbound.sender_id,
            text=reply.text,
            quick_replies=tuple(QuickReply(t, p) for t, p in reply.buttons),
            idempotency_key=f"{inbound.channel}:{inbound.message_id}:{i}",
            conversation_id=inbound.conversation_id,
        )

    @staticmethod
    def _live(inbound: Inbound, direction: str, text: str, nlu: dict[str, Any] | None, st: DialogueState, now: datetime) -> str:
        return json.dumps(
            {"conversation_id": inbound.conversation_id, "channel": inbound.channel, "direction": direction,
             "message_id": inbound.message_id, "text": text, "nlu": nlu, "mode": st.mode,
             "language": st.language, "at": now.isoformat()},
            ensure_ascii=False,
        )


def build_runtime(
    services: Any,
    nlu: NLUParser | None = None,
    clock: Callable[[], datetime] | None = None,
    train_if_needed: bool = False,
) -> ConversationRuntime:
    """A runtime from :class:`~bots.services.Services`: NLU loaded from ``nlu.model_dir``,
    actions from ``dialogue.actions_module``; the SQL schema is migrated if needed.

    Raises:
        ModelNotTrained: no trained NLU at ``nlu.model_dir`` (run ``brandbot nlu train``).
        ConfigError / DomainError / ActionNotFound: the dialogue config is wrong.
    """
    from ..stores.sql import upgrade

    settings: Settings = services.settings
    if nlu is None:
        nlu = load_nlu(settings, train_if_needed)
    d = settings.dialogue
    actions = load_actions(d.actions_module, settings, d.actions_options, d.action_timeout_seconds)
    upgrade(services.engine)
    return ConversationRuntime(settings=settings, redis=services.redis, engine=services.engine, nlu=nlu,
                               actions=actions, clock=clock)


def load_nlu(settings: Settings, train_if_needed: bool = False) -> NLUParser:
    """Load the trained NLU named by the settings (training it first if asked and needed).

    Raises:
        ModelNotTrained: no usable model at ``nlu.model_dir`` (run ``brandbot nlu train``).
    """
    import nlu
    from nlu.errors import NLUError

    model_dir = settings.path(settings.nlu.model_dir)
    languages = list(settings.brand.languages)
    try:
        if train_if_needed and nlu.needs_training(settings.path(settings.nlu.data_dir), model_dir, languages,
                                                  seed=settings.nlu.seed):
            log.warning("training the NLU into %s (first run or data changed)", model_dir)
            nlu.train(settings.path(settings.nlu.data_dir), model_dir, languages, seed=settings.nlu.seed)
        return nlu.NLU.load(model_dir, languages, settings.brand.default_language)
    except NLUError as exc:
        raise ModelNotTrained(f"{exc} (model_dir {model_dir}; run `brandbot nlu train`)") from exc
