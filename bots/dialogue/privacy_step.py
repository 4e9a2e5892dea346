"""The privacy side of a turn, at the I/O edge: consent records, feedback signals, erasure.

The runtime calls, in a turn (see :mod:`bots.dialogue.runtime`):

1. :meth:`PrivacyStep.before` after the NLU: a privacy request or the answer to an open
   consent / feedback question is handled here (:class:`~bots.dialogue.feedback.FeedbackPolicy`)
   and the engine does not run;
2. :meth:`PrivacyStep.finish` before the transcript is written: the consent question if this is
   the moment, and the consent records (:class:`~bots.privacy.consent.ConsentBook`, SQL: every
   process sees a withdrawal at once; a failure raises and the turn is redone: a consent the
   customer was thanked for is never lost);
3. what it returns (:class:`After`), once the state is saved: the CSAT / NPS / comment answers
   and this message's intent, sentiment and redacted text (:class:`~bots.privacy.signals.Signals`:
   a row with consent, a count without, never the text; a failure is logged and never breaks the customer's turn; a
   pressed button is not a message signal), or the erasure, run after the state save (so the
   turn does not write the state back) or after the replies are delivered (``defer_erasure``).

An SMS opt-out keyword (``Inbound.kind == "event"``, ``event == "opt_out"``: the Twilio
connector already stopped sending) withdraws ``marketing``, ``service_updates`` and ``feedback_analytics`` here,
``how="keyword"`` (:meth:`PrivacyStep.on_event`).

The erasure's own confirmation: with ``defer_erasure`` the runtime hands the erasure to the
pipeline (``TurnResult.after_delivery``), which runs it once the confirmation is delivered, so
its ``deliveries`` row, its transcript row and the send marks go too; only the erasure record
remains (a keyed hash). Without it (the shell, a pipeline that does not call
``after_delivery``), the erasure runs right after the state save: the confirmation's transcript
row is erased, but its delivery (``deliveries`` row, Redis send marks) is written after.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import Inbound
from nlu.result import NLUResult

from ..privacy.consent import ConsentBook, Wording
from ..privacy.customer import Customer
from ..privacy.signals import Signals
from .choices import next_language
from .engine import EngineOutput
from .feedback import FEEDBACK, OPT_OUT_PURPOSES, Effect, FeedbackPolicy
from .state import DialogueState

__all__ = ["After", "PrivacyStep", "PrivacyTurn", "customer_of", "consent_answered"]

log = logging.getLogger(__name__)


def customer_of(inbound_channel: str, conversation_id: str) -> Customer:
    """The customer of a conversation (``"<channel>:<id>"``, as the connectors build it)."""
    channel, _, ident = conversation_id.partition(":")
    return Customer(channel or inbound_channel, ident or conversation_id)


def consent_answered(book: ConsentBook, who: Customer) -> bool:
    """Whether ``who`` has any feedback-analytics answer on record (granted or not)."""
    return FEEDBACK in book.current(who)


@dataclass(frozen=True)
class After:
    """What the runtime runs once the turn's state is saved."""

    #: this turn's feedback signals (failures logged, never raised).
    signals: Callable[[], None] | None = None
    #: the customer's confirmed erasure (see the module docstring for when it runs).
    erase: Callable[[], Any] | None = None


@dataclass
class PrivacyTurn:
    """A turn handled by the privacy step: the engine-shaped output and what to record."""

    output: EngineOutput
    effects: list[Effect]


class PrivacyStep:
    """Args:
    policy: the pure consent / feedback policy.
    consents: the consent records (SQL).
    signals: the feedback signals (SQL, consent-checked there).
    erase: erases one customer everywhere (``bots.privacy.erase`` bound to the stores).
    languages, default_language, switch_min_words: as the engine's (the language of a handled turn).
    defer_erasure: hand the erasure to the pipeline, run after delivery (see the module docstring).
    erased_at: when a customer was erased (epoch seconds, within the tombstone's hour), else None.
    """

    def __init__(
        self,
        policy: FeedbackPolicy,
        consents: ConsentBook,
        signals: Signals,
        erase: Callable[[Customer], Any],
        languages: tuple[str, ...],
        default_language: str,
        switch_min_words: int = 3,
        defer_erasure: bool = False,
        erased_at: Callable[[Customer], float | None] | None = None,
    ) -> None:
        self.policy = policy
        self.consents = consents
        self.signals = signals
        self.erase = erase
        self.languages = languages
        self.default_language = default_language
        self.switch_min_words = switch_min_words
        self.defer_erasure = defer_erasure
        self.erased_at = erased_at

    def sent_before_erasure(self, inbound: Inbound) -> bool:
        """True for a message sent before its customer was erased (a worker read it, then waited
        for the conversation's lock while the erasure ran): its turn would bring the customer back."""
        if self.erased_at is None:
            return False
        at = self.erased_at(customer_of(inbound.channel, inbound.conversation_id))
        return at is not None and inbound.timestamp.timestamp() < at

    def before(self, state: DialogueState, inbound: Inbound, nlu: NLUResult, now: datetime) -> PrivacyTurn | None:
        """The turn, if it is a privacy request or an answer to an open question; else None."""
        st = copy.deepcopy(state)
        st.language = next_language(st.language, nlu, self.languages, self.default_language, self.switch_min_words)
        said = self.policy.phrases.find(inbound.text or "")
        if said is not None and said[1] in self.languages:
            st.language = said[1]  # "je refuse": too short to detect, but a French phrase: answered in French
        step = self.policy.answer(st, inbound.text or "", (inbound.payload or "").strip(), now)
        if step is None:
            state.privacy = st.privacy  # a lapsed question stays closed for the engine's turn
            return None
        st.turns += 1
        return PrivacyTurn(EngineOutput(st, replies=step.replies, events=step.events), step.effects)

    def finish(
        self,
        inbound: Inbound,
        nlu: NLUResult,
        out: EngineOutput,
        turn: PrivacyTurn | None,
        first_contact: bool,
        now: datetime,
    ) -> After:
        """Ask for consent if due and record this turn's consents; what to do once the state is saved.

        Consents are recorded here, before the turn is saved: a failure redoes the turn, so an
        answer the customer was thanked for is never lost. Signals wait for the save (a turn
        redone after a crash does not count a message twice; a lost signal costs nothing).

        Raises:
            StoreUnavailable: a consent could not be recorded (redo the turn).
        """
        who = customer_of(inbound.channel, inbound.conversation_id)
        st = out.state
        leaving = out.mode_request is not None and out.mode_request.new != "bot"
        if turn is None and not leaving:  # never on top of a handover to a person
            out.replies.extend(
                self.policy.after_turn(st, first_contact, out.events, now, lambda: consent_answered(self.consents, who))
            )
        effects = turn.effects if turn is not None else []
        if any(e.kind == "erase" for e in effects):
            st.privacy["erasing"] = inbound.message_id  # a redelivery erases again (pending_erasure)
            return After(erase=lambda: self.erase(who))
        for effect in effects:
            if effect.kind in ("grant", "withdraw"):
                self._consent(who, effect)
        language = st.language
        answers = [e for e in effects if e.kind in ("csat", "nps", "comment")]
        pressed = bool((inbound.payload or "").strip())  # a button is not the customer's words

        def signals() -> None:
            for effect in answers:
                self._answer(who, effect, nlu, language)
            if not pressed:
                self._message_signal(who, nlu, language)

        return After(signals=signals)

    def pending_erasure(self, inbound: Inbound, state: DialogueState) -> Callable[[], Any] | None:
        """The erasure a redelivered ``inbound`` confirmed, if the worker died before it ran."""
        if state.privacy.get("erasing") != inbound.message_id:
            return None
        who = customer_of(inbound.channel, inbound.conversation_id)
        return lambda: self.erase(who)

    def on_event(self, inbound: Inbound, language: str | None) -> None:
        """An SMS opt-out keyword: withdraw marketing, service updates and feedback analytics (``how="keyword"``)."""
        if inbound.event != "opt_out":
            return
        who = customer_of(inbound.channel, inbound.conversation_id)
        current = self.consents.current(who)
        for purpose in OPT_OUT_PURPOSES:
            if purpose in current and not current[purpose].granted:
                continue  # withdrawn already: a redelivered STOP records nothing twice
            version, text = self.policy.privacy.wording(purpose, language or self.default_language)
            self.consents.withdraw(who, purpose, how="keyword", wording=Wording(version, text, language))

    def _consent(self, who: Customer, effect: Effect) -> None:
        assert effect.wording is not None
        wording = Wording(*effect.wording)
        for purpose in effect.purposes:
            record = self.consents.grant if effect.kind == "grant" else self.consents.withdraw
            record(who, purpose, how=effect.how, wording=wording)

    def _answer(self, who: Customer, effect: Effect, nlu: NLUResult, language: str | None) -> None:
        """A CSAT, NPS or comment answer (Signals checks the consent); a failure is logged."""
        try:
            if effect.kind == "csat" and effect.score is not None:
                self.signals.csat(who, effect.score, language=language)
            elif effect.kind == "nps" and effect.score is not None:
                self.signals.nps(who, effect.score, language=language)
            elif effect.kind == "comment":
                s = nlu.sentiment
                self.signals.comment(who, effect.text, sentiment=s.score, sentiment_label=s.label, language=language)
        except Exception:  # after the save: nothing may fail the turn now
            log.exception("conversation on %s: the %s answer could not be stored", who.channel, effect.kind)

    def _message_signal(self, who: Customer, nlu: NLUResult, language: str | None) -> None:
        """This message's intent, sentiment and redacted text (kept only with consent: :class:`Signals`);
        a failure is logged, the turn goes on."""
        try:
            s = nlu.sentiment
            self.signals.message(
                who,
                intent=nlu.intent,
                sentiment=s.score,
                sentiment_label=s.label,
                language=nlu.language or language,
                text=nlu.text,
            )
        except Exception:  # a signal must never cost the customer their answer
            log.exception("conversation on %s: the message signal could not be stored", who.channel)
