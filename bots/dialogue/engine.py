"""The dialogue policy: one turn = state + NLU result -> replies, new state, events.

Pure: no I/O, no clock reads, no globals. When a flow needs brand code, the
engine stops and returns an :class:`ActionRequest`; the runtime runs the action
and hands its :class:`~bots.dialogue.actions.ActionResult` back to
:meth:`Engine.resume`, which continues the same turn.

The engine never sets ``state.mode``: it asks for a change with
:attr:`EngineOutput.mode_request` and the runtime applies it (``bots.handoff.modes``).
Modes: ``human`` -> silent; ``waiting`` -> silent, except "cancel" / "back to the bot"
(back to ``bot``); ``resolved`` -> back to ``bot`` and a normal turn.

Handing over depends on :class:`~bots.handoff.queue.Availability` (an argument): staffed
-> mode ``waiting`` and the customer's place and expected wait; not staffed -> stays in
``bot``, told when staff are back, offered to leave a message (the next message is then
marked :attr:`EngineOutput.message_left`).

Order of the policy on each message (bot mode):
  0. an accepted offer to leave a message: this message is the message;
  1. cancel words / ``abort`` -> leave the active flow (or the open question);
  1b. no request in it ("?", "...", or an emoji alone with nothing open): the open question
     again, else "How can I help?" (an emoji alone later in the conversation: no answer);
  2. an open "shall I get you a human?" question -> yes (or the button): hand over;
  3. ``human_handoff`` (``handoff.triggers.human_request``) -> hand over;
  4. the active flow: confirmation yes/no, slot values and corrections from entities;
  5. otherwise an FAQ answer or a flow trigger (a digression when a flow is active:
     answered, then the active flow's question is asked again; a new flow suspends
     the active one, which resumes when the new one ends);
  6. a bare "inform" whose entities fit one flow starts it ("move me to 15C on X7K9QZ");
  7. otherwise fallback: rephrase with suggestions; ``handoff.triggers.misses`` misses in a
     row offer a person.
Messages the bot cannot read (a photo, a voice note, a location, a language it does not speak)
go to :meth:`Engine.cannot_read` instead (the runtime tells them, :mod:`.unreadable`).
After the turn, with no flow active and nothing offered yet: an intent of
``handoff.triggers.intents`` or a customer turning negative (average sentiment of the last
``negative_messages`` messages at or below ``negative_threshold``) offers a person.
Actions hand over with ``ActionResult(handoff="reason")`` (``triggers.from_actions``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from nlu.result import OUT_OF_SCOPE, NLUResult

from ..handoff.hours import describe_back
from ..handoff.queue import STAFFED, Availability, describe_wait
from ..settings.dialogue import DomainSpec, FlowSpec, SlotSpec
from ..settings.handoff import HandoffTriggers
from .actions import ActionResult
from .choices import SUGGESTION_EXCLUDED, extract_slots, flow_for_entities, loose_slot_value, next_language, suggestions
from .identity import flow_slots, free_text_value, marked_value, name_beside, subject_key
from .responses import Reply, render, render_response
from .rules import is_back_to_bot, is_cancel, is_no, is_yes, wants_other, word_count
from .state import CONFIRM, DialogueState, FlowState
from .unreadable import HOW_CAN_I_HELP, LANGUAGE_UNSUPPORTED, Unreadable, only_emoji, only_punctuation

__all__ = [
    "Engine",
    "EngineOutput",
    "ActionRequest",
    "ModeRequest",
    "SUGGESTION_EXCLUDED",
    "NON_TASK_INTENTS",
    "OFFER_HUMAN",
    "OFFER_MESSAGE",
    "TAKE_MESSAGE",
]

#: intents that do not interrupt a flow by themselves.
NON_TASK_INTENTS = {OUT_OF_SCOPE, "affirm", "deny", "inform"}
#: ``state.pending`` values: "shall I get you a person?" (``offer_human:<why>``, the why
#: becomes the handoff reason), "leave them a message?", and "write your message".
OFFER_HUMAN = "offer_human"
OFFER_MESSAGE = "offer_message"
TAKE_MESSAGE = "take_message"
#: while waiting, a classifier "abort" returns to the bot only on a short message (a long one
#: is more likely meant for the agent).
ABORT_MAX_WORDS = 6
MAX_STACK = 2
#: an asked free-text slot (a surname) takes the message unless the NLU is at least this sure it
#: is another request ("baggage allowance?" while the surname is asked).
FREE_TEXT_YIELDS = 0.8
#: questions on the side in a row after which a waiting flow stops asking its question.
DORMANT_AFTER = 2
#: memory key of what a remembered booking is about (entity type -> values), set by actions.
ABOUT = "about"
#: subjects (booking references) kept as verified in one conversation.
MAX_VERIFIED = 5
#: a message that fills the awaited slot is an answer, not another request, when the NLU
#: gives "inform" at least this weight ("the booking code is X7K9QZ" read as booking_status).
INFORM_AS_ANSWER = 0.2
#: optional response: a confident out-of-scope message in the middle of a flow (else the
#: slot's "invalid" message is said, as for any unusable answer).
OUT_OF_SCOPE_IN_FLOW = "out_of_scope_in_flow"


#: FAQ intents that are manners, not requests (never split out of a message on their own).
SMALL_TALK = {"greet", "goodbye", "thanks"}


@dataclass(frozen=True)
class ActionRequest:
    """The engine asks the runtime to run brand code."""

    name: str
    phase: str  # "check" | "run"
    flow: str
    slots: dict[str, Any]


@dataclass(frozen=True)
class ModeRequest:
    """The engine asks the runtime to change the conversation's mode."""

    new: str  # "bot" | "waiting"
    #: recorded as the handoff reason: "human_request", "misses", "negative_sentiment",
    #: "intent:complaint", "action:<why>", "customer_cancel", "customer_returned"...
    reason: str
    #: "customer" (asked, accepted, cancelled, came back) or "bot" (an action asked).
    actor: str = "customer"


@dataclass
class EngineOutput:
    state: DialogueState
    replies: list[Reply] = field(default_factory=list)
    action: ActionRequest | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    #: a mode change for the runtime to apply (the engine never sets ``state.mode``).
    mode_request: ModeRequest | None = None
    #: this turn's customer message is a message left for staff (outside hours).
    message_left: bool = False


def merge_outputs(first: EngineOutput, then: EngineOutput) -> EngineOutput:
    """Two requests of one message as one turn: replies in order, except that a question asked
    twice (a flow's prompt after each answer) is kept only where it comes last."""
    replies = [*first.replies, *then.replies]
    kept = [r for i, r in enumerate(replies) if r not in replies[i + 1 :]]
    return EngineOutput(
        state=then.state,
        replies=kept,
        action=then.action,
        events=[*first.events, *then.events],
        mode_request=first.mode_request or then.mode_request,
        message_left=first.message_left or then.message_left,
    )


class Engine:
    """The policy over one domain.

    Args:
        domain: flows, FAQ, responses (see :func:`bots.dialogue.domain.load_domain`).
        languages: languages the brand speaks; default_language: used until one is detected.
        fallback_threshold: below this intent confidence a message is a miss.
        switch_min_words: a message in another language switches the conversation's
            language only when it has at least this many words (short ones are ambiguous).
        triggers: what hands over or offers a person (``settings.handoff.triggers``).
    """

    def __init__(
        self,
        domain: DomainSpec,
        languages: list[str] | tuple[str, ...],
        default_language: str,
        fallback_threshold: float = 0.5,
        switch_min_words: int = 3,
        triggers: HandoffTriggers | None = None,
    ) -> None:
        self.domain = domain
        self.languages = tuple(languages)
        self.default_language = default_language
        self.threshold = fallback_threshold
        self.switch_min_words = switch_min_words
        self.triggers = triggers or HandoffTriggers()
        self.trigger: dict[str, str] = {i: name for name, f in domain.flows.items() for i in f.intents}
        self.identity = domain.identity
        #: each flow's slots in the order asked (the identity step's first when the flow verifies).
        self.slots: dict[str, list[SlotSpec]] = {name: flow_slots(domain, f) for name, f in domain.flows.items()}
        self.unreadable = Unreadable(domain.responses, self.languages, default_language)

    # ------------------------------------------------------------------ entry points
    def turn(self, state: DialogueState, nlu: NLUResult, availability: Availability = STAFFED) -> EngineOutput:
        """Decide one turn. ``state`` is not modified (the output holds a new one).

        Args:
            availability: whether a handoff can reach a person now (the runtime computes it
                when :meth:`needs_availability` says this message may hand over).
        """
        st = copy.deepcopy(state)
        out = EngineOutput(st)
        self._language(st, nlu)
        st.turns += 1
        if st.mode == "human":
            return out  # a person is answering; the bot stays silent
        if st.mode == "waiting":
            # silent (the message goes to the agents), unless the customer wants the bot back
            if self._wants_bot(nlu):
                out.mode_request = ModeRequest("bot", "customer_cancel")
                out.events.append({"type": "handoff_cancelled"})
                self._say(out, "handoff_cancelled")
            return out
        if st.mode == "resolved":
            out.mode_request = ModeRequest("bot", "customer_returned")
            out.events.append({"type": "customer_returned"})
        self._bot_turn(out, nlu, availability)
        self._offer_if_asked(out)
        self._offer_on_triggers(out, nlu)
        return out

    def cannot_read(self, state: DialogueState, nlu: NLUResult, key: str) -> EngineOutput:
        """A turn for a message the bot cannot read: a photo, a voice note, a sticker, a location
        (``key`` ``media_<kind>``) or a language it does not speak (``language_unsupported``).

        One reply saying so (the latter in each of the brand's languages), then the open flow's
        question again; the flow itself does not move, the language does not change. Silent
        while a person has the conversation (the message reaches them through the transcript).
        """
        st = copy.deepcopy(state)
        out = EngineOutput(st)
        st.turns += 1
        if st.mode in ("human", "waiting"):
            return out
        if st.mode == "resolved":
            out.mode_request = ModeRequest("bot", "customer_returned")
            out.events.append({"type": "customer_returned"})
        out.events.append({"type": "unreadable", "what": key})
        lang = st.language or self.default_language
        if key == LANGUAGE_UNSUPPORTED:
            out.replies.append(self.unreadable.languages_reply())
        else:
            out.replies.append(self.unreadable.reply(key, lang))
        self.ask_again(out)
        return out

    def is_request(self, nlu: NLUResult) -> bool:
        """A confident request the bot acts on (an FAQ answer or a flow), not small talk."""
        intent = nlu.intent
        acts = intent in self.domain.faq or intent in self.trigger
        return acts and intent not in SMALL_TALK and self._confident(nlu)

    def needs_availability(self, state: DialogueState, nlu: NLUResult) -> bool:
        """True when this message may hand the customer over (the runtime then looks up the
        real :class:`Availability`; other turns use the default and never consult it)."""
        if state.mode in ("waiting", "human"):
            return False
        if self._offering(state):
            return True
        return self.triggers.human_request and self._is(nlu, "human_handoff")

    def resume(
        self, out: EngineOutput, request: ActionRequest, result: ActionResult, availability: Availability = STAFFED
    ) -> EngineOutput:
        """Continue a turn after the action ``request`` returned ``result``.

        Args:
            availability: used when ``result.handoff`` asks for a person.
        """
        st = out.state
        out.action = None
        fs = st.flow
        if fs is None or fs.name != request.flow:  # defensive: the flow vanished
            return out
        spec = self.domain.flows[fs.name]
        fs.slots.update(result.slots)
        st.memory.update(result.remember)
        out.events.extend(result.events)
        values = {**st.memory, **fs.slots, **result.values}
        if result.error:
            out.events.append({"type": "action_failed", "action": request.name, "error": result.error})
            st.flow = None
            st.stack.clear()
            self._say(out, "action_error", values)
            st.pending = f"{OFFER_HUMAN}:action_error"
            return out
        if request.phase == "verify":
            self._after_verify(out, result, values)
            return out
        if result.handoff and self.triggers.from_actions:
            # the brand's code asks for a person (a cancelled flight to rebook...): say its
            # response, close the flows, hand over
            key = result.response or (None if result.ok else spec.failure)
            if key:
                self._say(out, key, values)
            out.replies.extend(Reply(t, (), f"action:{request.name}") for t in result.texts if t)
            out.events.append({"type": "flow_completed" if result.ok else "flow_failed", "flow": fs.name})
            st.flow = None
            st.stack.clear()
            self._hand_over(out, f"action:{result.handoff}", availability, actor="bot")
            return out
        if not result.ok and result.reask:
            # a value the brand's system refused (unknown booking, taken seat): say why, ask again
            self._say(out, result.response or spec.failure or "action_error", values)
            fs.slots.pop(result.reask, None)
            fs.checked = False
            fs.retries += 1
            slot = self._slot(fs, result.reask)
            if slot is not None and fs.retries > slot.max_retries:
                self._give_up(out, slot.name)
                return out
            self._advance(out)
            return out
        if request.phase == "check":
            if result.ok:
                fs.checked = True
                self._advance(out)
                return out
            self._say(out, result.response or spec.failure or "action_error", values)
            out.events.append({"type": "flow_failed", "flow": fs.name})
            self._end_flow(out)
            return out
        key = result.response or (spec.success if result.ok else spec.failure)
        if key:
            self._say(out, key, values)
        out.replies.extend(Reply(t, (), f"action:{request.name}") for t in result.texts if t)
        out.events.append({"type": "flow_completed" if result.ok else "flow_failed", "flow": fs.name})
        self._end_flow(out)
        self._offer_if_asked(out)
        return out

    # ------------------------------------------------------------------ identity
    def _verified(self, st: DialogueState, fs: FlowState) -> bool:
        assert self.identity is not None
        return subject_key(fs.slots.get(self.identity.subject, "")) in st.verified

    def _identity_locked(self, st: DialogueState) -> bool:
        return self.identity is not None and st.identity_failures >= self.identity.max_attempts

    def _after_verify(self, out: EngineOutput, result: ActionResult, values: dict[str, Any]) -> None:
        """The identity action answered: go on with the flow, or say the details do not match and
        ask them again; after ``max_attempts`` failures (or a subject locked by the runtime's
        count across conversations) stop the flows and offer a person."""
        st = out.state
        fs = st.flow
        ident = self.identity
        assert fs is not None and ident is not None
        subject = subject_key(fs.slots.get(ident.subject, ""))
        if result.ok:
            st.verified = [*(v for v in st.verified if v != subject), subject][-MAX_VERIFIED:]
            st.memory.update({s.name: fs.slots[s.name] for s in ident.slots if s.name in fs.slots})
            out.events.append({"type": "identity_verified", "flow": fs.name})
            self._advance(out)
            return
        st.identity_failures += 1
        locked = result.response == ident.locked or self._identity_locked(st)
        out.events.append(
            {"type": "identity_failed", "flow": fs.name, "attempts": st.identity_failures, "locked": locked}
        )
        for s in ident.slots:
            fs.slots.pop(s.name, None)
            st.memory.pop(s.name, None)
        if locked:
            self._say(out, ident.locked, values)
            out.events.append({"type": "flow_failed", "flow": fs.name})
            st.flow = None
            st.stack.clear()
            st.pending = f"{OFFER_HUMAN}:identity_locked"
            return
        self._say(out, result.response or ident.failed, values)
        fs.checked = False
        self._advance(out)

    # ------------------------------------------------------------------ policy
    def _bot_turn(self, out: EngineOutput, nlu: NLUResult, availability: Availability) -> None:
        st = out.state
        text = nlu.text
        ruled_cancel = is_cancel(text)
        if st.pending == TAKE_MESSAGE and not ruled_cancel and text.strip():
            # the message the customer offered to leave for staff (outside hours)
            st.pending = None
            st.misses = 0
            out.message_left = True
            out.events.append({"type": "message_left"})
            self._say(out, "handoff_left_message")
            return
        if ruled_cancel or (self._is(nlu, "abort") and (st.flow is not None or st.pending)):
            # a classifier "abort" with nothing in progress is more likely a miss than a request
            st.misses = 0
            if st.flow is not None:
                out.events.append({"type": "flow_cancelled", "flow": st.flow.name})
                self._say(out, "flow_cancelled")
                self._end_flow(out)
            elif st.pending:
                st.pending = None
                self._say(out, "anything_else")
            else:
                self._say(out, "nothing_to_cancel")
            return
        emoji = only_emoji(text) and st.flow is None and not st.pending  # in a flow "👍" may be a yes
        if emoji or only_punctuation(text):
            # "?", "...", "👍": no request in it; never the last answer again, never "didn't get that"
            self._no_request(out, silent=emoji)
            return
        if st.pending == OFFER_MESSAGE:
            st.pending = None
            if not nlu.entities and (is_yes(text) or self._is(nlu, "affirm") or self._is(nlu, "leave_message")):
                st.pending = TAKE_MESSAGE
                self._say(out, "handoff_ask_message")
                return
            if not nlu.entities and (is_no(text) or self._is(nlu, "deny")):
                self._say(out, "anything_else")
                return
        if st.pending == TAKE_MESSAGE:
            st.pending = None  # an empty message: nothing left
        if self._offering(st):
            reason = (st.pending or "").partition(":")[2] or "offer_accepted"
            st.pending = None
            if not nlu.entities and (is_yes(text) or self._is(nlu, "affirm") or self._is(nlu, "human_handoff")):
                self._hand_over(out, reason, availability)
                return
            if not nlu.entities and (is_no(text) or self._is(nlu, "deny")):
                st.misses = 0
                self._say(out, "handoff_declined")
                return
        if self.triggers.human_request and self._is(nlu, "human_handoff"):
            self._hand_over(out, "human_request", availability)
            return
        if st.flow is not None and self._in_flow(out, nlu):
            st.misses = 0
            return
        intent = nlu.intent if self._confident(nlu) else None
        if intent in self.domain.faq:
            st.misses = 0
            resp = self.domain.faq[intent]
            if intent == "goodbye" and st.flow is not None:
                # leaving mid-flow: the flow ends (nothing done), no question asked after the farewell
                out.events.append({"type": "flow_cancelled", "flow": st.flow.name})
                st.flow = None
                st.stack.clear()
            out.replies.append(
                render_response(
                    resp, st.language or self.default_language, st.memory, f"faq:{intent}", self.default_language
                )
            )
            if st.flow is not None:
                self._aside(out)
            return
        if intent in self.trigger:
            st.misses = 0
            self._start_flow(out, self.trigger[intent], nlu)
            return
        if st.flow is None and intent in (None, "inform") and nlu.entities:
            chosen = flow_for_entities(self.domain, self.trigger, nlu)
            if chosen:
                st.misses = 0
                self._start_flow(out, chosen, nlu)
                return
            self._remember_entities(st, nlu)
        if intent is not None and intent not in NON_TASK_INTENTS and intent != "abort" and st.flow is None:
            # understood but nothing configured for it: not a miss, but say so
            st.misses = 0
            self._say(out, "anything_else")
            return
        if st.flow is not None and not self._dormant(st.flow) and intent in ("affirm", "deny"):
            st.misses = 0
            self._reprompt(out)
            return
        if intent in ("affirm", "deny"):
            st.misses = 0
            self._say(out, "anything_else")
            return
        self._fallback(out, nlu)

    def _in_flow(self, out: EngineOutput, nlu: NLUResult) -> bool:
        """Handle the message inside the active flow; False = not for the flow (a digression)."""
        st = out.state
        fs = st.flow
        assert fs is not None
        spec = self.domain.flows[fs.name]
        slots = self.slots[fs.name]
        found, invalid = extract_slots(slots, nlu)
        awaited = self._slot(fs, fs.awaiting)
        if not found and not invalid and awaited is not None and not awaited.free_text:
            loose = loose_slot_value(awaited, nlu.text)
            if loose is not None:
                found = {awaited.name: loose}
        found.update(self._free_text(slots, fs, awaited, found, nlu))
        if self._dormant(fs) and not found:
            return False  # the customer moved on: this message is not for the waiting flow
        confident = self._confident(nlu)
        other_task = confident and nlu.intent not in NON_TASK_INTENTS and nlu.intent not in spec.intents
        if awaited is not None and awaited.free_text and awaited.name in found:
            other_task = False  # a surname, already told apart from another request by _free_text
        if (
            other_task
            and fs.awaiting in found
            and any(r.name == "inform" and r.confidence >= INFORM_AS_ANSWER for r in nlu.ranking)
        ):
            other_task = False  # "the booking code is X7K9QZ": the answer to the question asked, not a new request
        if other_task and nlu.intent in self.trigger:
            return False  # another flow: started (and this one suspended) by the caller
        if found:
            self._new_subject(fs, found)
            fs.slots.update(found)
            fs.checked = False
            fs.asides = 0
            if fs.awaiting == CONFIRM:
                out.events.append({"type": "slot_corrected", "flow": fs.name, "slots": sorted(found)})
            self._advance(out)
            return True
        if fs.awaiting == CONFIRM:
            if is_yes(nlu.text) or self._is(nlu, "affirm"):
                fs.awaiting = None
                self._run(out, spec)
                return True
            if is_no(nlu.text) or self._is(nlu, "deny"):
                out.events.append({"type": "flow_declined", "flow": fs.name})
                self._say(out, "flow_cancelled")
                self._end_flow(out)
                return True
            if spec.slots and wants_other(nlu.text) and (not other_task or nlu.intent in spec.intents):
                # "could I have another seat instead?" at the confirmation: ask the flow's last value again
                last = spec.slots[-1].name
                fs.slots.pop(last, None)
                fs.checked = False
                out.events.append({"type": "slot_reopened", "flow": fs.name, "slot": last})
                self._advance(out)
                return True
            if other_task:
                return False
            return self._retry(out, spec, None, "confirm_yes_no")
        if other_task:
            return False
        if confident and nlu.intent in spec.intents:
            self._reprompt(out)
            return True
        if (
            nlu.intent == OUT_OF_SCOPE
            and nlu.confidence >= self.threshold
            and not invalid
            and OUT_OF_SCOPE_IN_FLOW in self.domain.responses
        ):
            # "tell me a joke" while a seat is asked: say it can't be done here, ask again (a retry)
            return self._retry(out, spec, awaited, OUT_OF_SCOPE_IN_FLOW, reprompt=True)
        # nothing usable: a value refused by the slot's pattern, or no value at all
        return self._retry(out, spec, awaited, (awaited.invalid or awaited.prompt) if awaited else "anything_else")

    def _free_text(
        self, slots: list[SlotSpec], fs: FlowState, awaited: SlotSpec | None, found: dict[str, Any], nlu: NLUResult
    ) -> dict[str, Any]:
        """A free-text slot's value (a surname): the answer when it is asked (unless the message is
        clearly another request), or the name beside the awaited value ("X7K9QZ, Dupont")."""
        for i, slot in enumerate(slots):
            if not slot.free_text or slot.name in fs.slots or slot.name in found:
                continue
            if slot is awaited:
                sure = nlu.confidence >= FREE_TEXT_YIELDS
                other = sure and nlu.intent not in NON_TASK_INTENTS and self._confident(nlu)
                value = None if other else free_text_value(slot, nlu.text)
                if value is not None and (is_yes(value) or is_no(value)):
                    value = None  # "d'accord", "no": an answer to something else, not a name
            elif awaited is not None and awaited.name in found and i > 0 and slots[i - 1].name == awaited.name:
                value = name_beside(slot, nlu) if nlu.entities else None
            else:
                continue
            if value is not None:
                return {slot.name: value}
        return {}

    def _new_subject(self, fs: FlowState, found: dict[str, Any]) -> None:
        """Another booking reference than the one verified: its surname is asked again (unless given)."""
        ident = self.identity
        if ident is None or ident.subject not in found or ident.subject not in fs.slots:
            return
        if subject_key(found[ident.subject]) != subject_key(fs.slots[ident.subject]):
            for s in ident.slots:
                if s.name not in found:
                    fs.slots.pop(s.name, None)

    def _aside(self, out: EngineOutput) -> None:
        """A question answered while a flow waits: its question again the first time; from the
        second in a row the flow waits silently (its values are still taken when given)."""
        fs = out.state.flow
        assert fs is not None
        fs.asides += 1
        if fs.asides == 1:
            self._reprompt(out)
        else:
            out.events.append({"type": "flow_waiting", "flow": fs.name})

    def _slot(self, fs: FlowState, name: str | None) -> SlotSpec | None:
        """The flow's slot of that name (None for the confirmation or no name)."""
        return next((s for s in self.slots[fs.name] if s.name == name), None)

    @staticmethod
    def _dormant(fs: FlowState) -> bool:
        return fs.asides >= DORMANT_AFTER

    def _retry(
        self, out: EngineOutput, spec: FlowSpec, slot: SlotSpec | None, key: str, reprompt: bool = False
    ) -> bool:
        st = out.state
        fs = st.flow
        assert fs is not None
        fs.retries += 1
        limit = slot.max_retries if slot else 2
        if fs.retries > limit:
            self._give_up(out, slot.name if slot else CONFIRM)
            return True
        self._say(out, key, {**st.memory, **fs.slots})
        if slot is None or reprompt:
            self._reprompt(out)
        return True

    # ------------------------------------------------------------------ flows
    def _start_flow(self, out: EngineOutput, name: str, nlu: NLUResult) -> None:
        st = out.state
        spec = self.domain.flows[name]
        if st.flow is not None:
            if st.flow.name == name or self._dormant(st.flow):
                st.flow = None  # the same request again, or a flow the customer had left: not resumed
            else:
                st.flow.asides += 1  # resumed once with its question; a second detour leaves it waiting
                st.stack.append(st.flow)
                del st.stack[:-MAX_STACK]
        if spec.verify and self.identity is not None and self._identity_locked(st):
            st.flow = st.stack.pop() if st.stack else None
            self._say(out, self.identity.locked)
            if st.flow is None:
                st.pending = f"{OFFER_HUMAN}:identity_locked"
            return
        fs = FlowState(name=name)
        if not self._contradicts_memory(st, nlu):
            for s in self.slots[name]:
                if s.ask and s.name in st.memory:
                    fs.slots[s.name] = st.memory[s.name]
        found, _ = extract_slots(self.slots[name], nlu)
        for slot in self.slots[name]:
            value = marked_value(slot, nlu.text) if slot.free_text and slot.name not in found else None
            if value is not None:
                found[slot.name] = value
        self._new_subject(fs, found)
        fs.slots.update(found)
        st.flow = fs
        out.events.append({"type": "flow_started", "flow": name})
        self._advance(out)

    def _advance(self, out: EngineOutput) -> None:
        """Ask the next missing slot, or check, confirm, run."""
        st = out.state
        fs = st.flow
        assert fs is not None
        spec = self.domain.flows[fs.name]
        identity = {s.name for s in self.identity.slots} if spec.verify and self.identity is not None else set()
        for s in [*self.slots[fs.name], None]:
            if identity and (s is None or s.name not in identity) and not self._verified(st, fs):
                # the identity step's slots are all in: check them before asking anything else
                assert self.identity is not None
                out.action = ActionRequest(self.identity.action, "verify", fs.name, dict(fs.slots))
                return
            if s is not None and s.ask and s.name not in fs.slots:
                if fs.awaiting != s.name:
                    fs.retries = 0
                fs.awaiting = s.name
                self._say(out, s.prompt, {**st.memory, **fs.slots})
                return
        if spec.check and not fs.checked:
            out.action = ActionRequest(spec.check, "check", fs.name, dict(fs.slots))
            return
        if spec.confirm:
            if fs.awaiting != CONFIRM:
                fs.retries = 0
            fs.awaiting = CONFIRM
            self._say(out, spec.confirm, {**st.memory, **fs.slots})
            return
        self._run(out, spec)

    def _run(self, out: EngineOutput, spec: FlowSpec) -> None:
        fs = out.state.flow
        assert fs is not None
        fs.awaiting = None
        if spec.action:
            out.action = ActionRequest(spec.action, "run", fs.name, dict(fs.slots))
            return
        if spec.success:
            self._say(out, spec.success, {**out.state.memory, **fs.slots})
        out.events.append({"type": "flow_completed", "flow": fs.name})
        self._end_flow(out)

    def _end_flow(self, out: EngineOutput) -> None:
        """Close the active flow and resume a suspended one, asking its question again."""
        st = out.state
        st.flow = st.stack.pop() if st.stack else None
        if st.flow is not None:
            out.events.append({"type": "flow_resumed", "flow": st.flow.name})
            if not self._dormant(st.flow):
                self._reprompt(out)

    def ask_again(self, out: EngineOutput) -> None:
        """After a turn the flow did not see (a consent or an opt-out answered by the privacy
        step), ask the open flow's question again, so the customer knows where they were.

        Only a slot's prompt or the confirmation: nothing that would move the flow on.
        """
        st = out.state
        fs = st.flow
        if self._mode(out) != "bot" or fs is None or st.pending or self._dormant(fs):
            return
        spec = self.domain.flows[fs.name]
        if fs.awaiting == CONFIRM and spec.confirm:
            self._say(out, spec.confirm, {**st.memory, **fs.slots})
            return
        slot = self._slot(fs, fs.awaiting)
        if slot is not None:
            self._say(out, slot.prompt, {**st.memory, **fs.slots})

    def _no_request(self, out: EngineOutput, silent: bool) -> None:
        """A message with no request in it ("?", "...", an emoji alone): the open question again
        if there is one, else "How can I help?"; an emoji alone later in a conversation with
        nothing open is a reaction (a signal, no answer)."""
        st = out.state
        out.events.append({"type": "no_request"})
        if st.flow is not None and st.flow.awaiting is not None and not st.pending and not self._dormant(st.flow):
            self._reprompt(out)
            return
        if st.pending and self._offering(st):
            self._say(out, "handoff_offer")
            return
        if silent and st.turns > 1:
            return
        out.replies.append(self.unreadable.reply(HOW_CAN_I_HELP, st.language or self.default_language))

    def _reprompt(self, out: EngineOutput) -> None:
        st = out.state
        fs = st.flow
        if fs is None:
            return
        spec = self.domain.flows[fs.name]
        values = {**st.memory, **fs.slots}
        if fs.awaiting == CONFIRM and spec.confirm:
            self._say(out, spec.confirm, values)
            return
        slot = self._slot(fs, fs.awaiting)
        if slot is not None:
            self._say(out, slot.prompt, values)
            return
        self._advance(out)

    @staticmethod
    def _contradicts_memory(st: DialogueState, nlu: NLUResult) -> bool:
        """The message names another airport, date... than the remembered booking's (its
        ``ActionResult.remember`` ``about``): "my flight to Nice" after a Madrid booking was looked
        up is about another booking, so nothing is pre-filled from memory (the flow asks)."""
        about = st.memory.get(ABOUT)
        if not isinstance(about, dict):
            return False
        for e in nlu.entities:
            known = about.get(e.type)
            if isinstance(known, list) and e.value not in known:
                return True
        return False

    def _remember_entities(self, st: DialogueState, nlu: NLUResult) -> None:
        """Keep slot values given out of context so the next flow does not ask again."""
        for slots in self.slots.values():
            found, _ = extract_slots(slots, nlu)
            # only from a slot's own (first) entity type: a booking reference a flight-number
            # slot also accepts is not remembered as a flight number
            own = {s.name for s in slots if s.entities and any(e.type == s.entities[0] for e in nlu.entities)}
            st.memory.update({k: v for k, v in found.items() if k in own})

    # ------------------------------------------------------------------ helpers
    def _offer_if_asked(self, out: EngineOutput) -> None:
        """A last reply offering a person (a "/human_handoff" button) opens the yes/no question,
        so a typed "yes please" after "Would you like me to pass you to our team?" is understood."""
        st = out.state
        if self._mode(out) != "bot" or st.pending or st.flow is not None or not out.replies:
            return
        last = out.replies[-1]
        if last.key != "fallback_rephrase" and any(payload == "/human_handoff" for _t, payload in last.buttons):
            why = last.key.removeprefix("action:")
            st.pending = f"{OFFER_HUMAN}:" + (f"intent:{why[4:]}" if why.startswith("faq:") else why or "offer")

    def _offer_on_triggers(self, out: EngineOutput, nlu: NLUResult) -> None:
        """Offer a person (never force it) on a configured intent or a customer turning negative."""
        st = out.state
        if self._mode(out) != "bot" or st.pending or st.flow is not None:
            return
        intent = nlu.intent if self._confident(nlu) else None
        if intent is not None and intent in self.triggers.intents and intent != "human_handoff":
            self._offer(out, f"intent:{intent}")
        elif self._turned_negative(st, nlu):
            out.events.append({"type": "negative_sentiment"})
            self._offer(out, "negative_sentiment")

    def _turned_negative(self, st: DialogueState, nlu: NLUResult) -> bool:
        """The average sentiment of the last N customer messages (this one included) just went
        at or below the threshold (it was above, or unknown, one message earlier): so a customer
        who stays upset after declining is not asked again at every message."""
        n = self.triggers.negative_messages
        if n <= 0:
            return False
        past = [float(h["sentiment"]) for h in st.history if isinstance(h.get("sentiment"), (int, float))]
        window = [*past, nlu.sentiment.score][-n:]
        limit = self.triggers.negative_threshold
        if len(window) < n or sum(window) / n > limit:
            return False
        before = past[-n:]
        return len(before) < n or sum(before) / n > limit

    def _offer(self, out: EngineOutput, reason: str) -> None:
        out.state.pending = f"{OFFER_HUMAN}:{reason}"
        self._say(out, "handoff_offer")

    def _hand_over(self, out: EngineOutput, reason: str, availability: Availability, actor: str = "customer") -> None:
        """Hand the customer to a person: staffed -> ask for mode ``waiting`` and tell their
        place and expected wait; not staffed -> say when staff are back, offer a message."""
        st = out.state
        st.pending = None
        st.misses = 0
        if st.flow is not None:
            out.events.append({"type": "flow_cancelled", "flow": st.flow.name})
        st.flow = None
        st.stack.clear()
        lang = st.language or self.default_language
        if availability.staffed:
            out.mode_request = ModeRequest("waiting", reason, actor)
            out.events.append({"type": "handoff_requested", "reason": reason, "position": availability.position})
            self._say(
                out,
                "handoff_waiting",
                {"position": availability.position, "wait": describe_wait(availability.expected_wait_minutes, lang)},
            )
            return
        out.events.append({"type": "handoff_unavailable", "reason": reason})
        back = describe_back(availability.back_at, availability.now, lang)
        self._say(out, "handoff_closed", {"back": back})
        st.pending = OFFER_MESSAGE

    def _offering(self, st: DialogueState) -> bool:
        return bool(st.pending) and (st.pending or "").partition(":")[0] == OFFER_HUMAN

    def _wants_bot(self, nlu: NLUResult) -> bool:
        """While waiting: "cancel", "back to the bot", "annuler", or a short clear "abort"."""
        return (
            is_cancel(nlu.text)
            or is_back_to_bot(nlu.text)
            or (self._is(nlu, "abort") and word_count(nlu.text) <= ABORT_MAX_WORDS)
        )

    @staticmethod
    def _mode(out: EngineOutput) -> str:
        """The mode this turn leads to (the requested one, else the state's)."""
        return out.mode_request.new if out.mode_request else out.state.mode

    def _give_up(self, out: EngineOutput, slot: str) -> None:
        """Too many unusable answers for ``slot``: drop the flows, say so, offer a person."""
        st = out.state
        assert st.flow is not None
        out.events.append({"type": "flow_gave_up", "flow": st.flow.name, "slot": slot})
        st.flow = None
        st.stack.clear()
        self._say(out, "slot_gave_up")
        st.pending = f"{OFFER_HUMAN}:gave_up"

    def _fallback(self, out: EngineOutput, nlu: NLUResult) -> None:
        st = out.state
        st.misses += 1
        out.events.append({"type": "fallback", "misses": st.misses})
        if self.triggers.misses and st.misses >= self.triggers.misses:
            st.misses = 0
            st.pending = f"{OFFER_HUMAN}:misses"
            self._say(out, "offer_human")
            return
        lang = st.language or self.default_language
        extra = suggestions(self.domain, self.trigger, nlu)
        resp = self.domain.responses["fallback_rephrase"]
        out.replies.append(render_response(resp, lang, {}, "fallback_rephrase", self.default_language, extra))

    def _language(self, st: DialogueState, nlu: NLUResult) -> None:
        st.language = next_language(st.language, nlu, self.languages, self.default_language, self.switch_min_words)

    def _confident(self, nlu: NLUResult) -> bool:
        return nlu.intent != OUT_OF_SCOPE and nlu.confidence >= self.threshold

    def _is(self, nlu: NLUResult, intent: str) -> bool:
        return nlu.intent == intent and nlu.confidence >= self.threshold

    def _say(self, out: EngineOutput, key: str, values: dict[str, Any] | None = None) -> None:
        out.replies.append(
            render(self.domain, key, out.state.language or self.default_language, values, self.default_language)
        )
