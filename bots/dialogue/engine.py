"""The dialogue policy: one turn = state + NLU result -> replies, new state, events.

Pure: no I/O, no clock reads, no globals. When a flow needs brand code, the
engine stops and returns an :class:`ActionRequest`; the runtime runs the action
and hands its :class:`~bots.dialogue.actions.ActionResult` back to
:meth:`Engine.resume`, which continues the same turn.

Order of the policy on each message (bot mode):
  1. cancel words / ``abort`` -> leave the active flow (or the open question);
  2. an open "shall I get you a human?" question -> yes: mode ``waiting``;
  3. ``human_handoff`` -> mode ``waiting``;
  4. the active flow: confirmation yes/no, slot values and corrections from entities;
  5. otherwise an FAQ answer or a flow trigger (a digression when a flow is active:
     answered, then the active flow's question is asked again; a new flow suspends
     the active one, which resumes when the new one ends);
  6. a bare "inform" whose entities fit one flow starts it ("move me to 15C on X7K9QZ");
  7. otherwise fallback: rephrase with suggestions, a second miss in a row offers a human.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from nlu.result import OUT_OF_SCOPE, NLUResult

from ..settings.dialogue import DomainSpec, FlowSpec, SlotSpec
from .actions import ActionResult
from .choices import SUGGESTION_EXCLUDED, extract_slots, flow_for_entities, loose_slot_value, next_language, suggestions
from .responses import Reply, render, render_response
from .rules import is_cancel, is_no, is_yes
from .state import CONFIRM, DialogueState, FlowState

__all__ = ["Engine", "EngineOutput", "ActionRequest", "SUGGESTION_EXCLUDED", "NON_TASK_INTENTS"]

#: intents that do not interrupt a flow by themselves.
NON_TASK_INTENTS = {OUT_OF_SCOPE, "affirm", "deny", "inform"}
OFFER_HUMAN = "offer_human"
MAX_STACK = 2
#: a message that fills the awaited slot is an answer, not another request, when the NLU
#: gives "inform" at least this weight ("the booking code is X7K9QZ" read as booking_status).
INFORM_AS_ANSWER = 0.2
#: optional response: a confident out-of-scope message in the middle of a flow (else the
#: slot's "invalid" message is said, as for any unusable answer).
OUT_OF_SCOPE_IN_FLOW = "out_of_scope_in_flow"


@dataclass(frozen=True)
class ActionRequest:
    """The engine asks the runtime to run brand code."""

    name: str
    phase: str  # "check" | "run"
    flow: str
    slots: dict[str, Any]


@dataclass
class EngineOutput:
    state: DialogueState
    replies: list[Reply] = field(default_factory=list)
    action: ActionRequest | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


class Engine:
    """The policy over one domain.

    Args:
        domain: flows, FAQ, responses (see :func:`bots.dialogue.domain.load_domain`).
        languages: languages the brand speaks; default_language: used until one is detected.
        fallback_threshold: below this intent confidence a message is a miss.
        switch_min_words: a message in another language switches the conversation's
            language only when it has at least this many words (short ones are ambiguous).
    """

    def __init__(
        self,
        domain: DomainSpec,
        languages: list[str] | tuple[str, ...],
        default_language: str,
        fallback_threshold: float = 0.5,
        switch_min_words: int = 3,
    ) -> None:
        self.domain = domain
        self.languages = tuple(languages)
        self.default_language = default_language
        self.threshold = fallback_threshold
        self.switch_min_words = switch_min_words
        self.trigger: dict[str, str] = {i: name for name, f in domain.flows.items() for i in f.intents}

    # ------------------------------------------------------------------ entry points
    def turn(self, state: DialogueState, nlu: NLUResult) -> EngineOutput:
        """Decide one turn. ``state`` is not modified (the output holds a new one)."""
        st = copy.deepcopy(state)
        out = EngineOutput(st)
        self._language(st, nlu)
        st.turns += 1
        if st.mode == "human":
            return out  # a person is answering; the bot stays silent
        if st.mode == "waiting":
            if is_cancel(nlu.text) or self._is(nlu, "abort"):
                st.mode = "bot"
                out.events.append({"type": "handoff_cancelled"})
                self._say(out, "anything_else")
            else:
                self._say(out, "handoff_still_waiting")
            return out
        self._bot_turn(out, nlu)
        self._offer_if_asked(out)
        return out

    def resume(self, out: EngineOutput, request: ActionRequest, result: ActionResult) -> EngineOutput:
        """Continue a turn after the action ``request`` returned ``result``."""
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
            st.pending = OFFER_HUMAN
            return out
        if not result.ok and result.reask:
            # a value the brand's system refused (unknown booking, taken seat): say why, ask again
            self._say(out, result.response or spec.failure or "action_error", values)
            fs.slots.pop(result.reask, None)
            fs.checked = False
            fs.retries += 1
            slot = next((s for s in spec.slots if s.name == result.reask), None)
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

    # ------------------------------------------------------------------ policy
    def _bot_turn(self, out: EngineOutput, nlu: NLUResult) -> None:
        st = out.state
        text = nlu.text
        ruled_cancel = is_cancel(text)
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
        if st.pending == OFFER_HUMAN:
            st.pending = None
            if not nlu.entities and (is_yes(text) or self._is(nlu, "affirm")):
                self._handoff(out)
                return
            if not nlu.entities and (is_no(text) or self._is(nlu, "deny")):
                st.misses = 0
                self._say(out, "handoff_declined")
                return
        if self._is(nlu, "human_handoff"):
            self._handoff(out)
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
            out.replies.append(render_response(resp, st.language or self.default_language, st.memory, f"faq:{intent}", self.default_language))
            if st.flow is not None:
                self._reprompt(out)
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
        if st.flow is not None and intent in ("affirm", "deny"):
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
        found, invalid = extract_slots(spec, nlu)
        awaited = next((s for s in spec.slots if s.name == fs.awaiting), None)
        if not found and not invalid and awaited is not None:
            loose = loose_slot_value(awaited, nlu.text)
            if loose is not None:
                found = {awaited.name: loose}
        confident = self._confident(nlu)
        other_task = confident and nlu.intent not in NON_TASK_INTENTS and nlu.intent not in spec.intents
        if other_task and fs.awaiting in found and any(r.name == "inform" and r.confidence >= INFORM_AS_ANSWER
                                                       for r in nlu.ranking):
            other_task = False  # "the booking code is X7K9QZ": the answer to the question asked, not a new request
        if other_task and nlu.intent in self.trigger:
            return False  # another flow: started (and this one suspended) by the caller
        if found:
            fs.slots.update(found)
            fs.checked = False
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
            if other_task:
                return False
            return self._retry(out, spec, None, "confirm_yes_no")
        if other_task:
            return False
        if confident and nlu.intent in spec.intents:
            self._reprompt(out)
            return True
        slot = next((s for s in spec.slots if s.name == fs.awaiting), None)
        if (nlu.intent == OUT_OF_SCOPE and nlu.confidence >= self.threshold and not invalid
                and OUT_OF_SCOPE_IN_FLOW in self.domain.responses):
            # "tell me a joke" while a seat is asked: say it can't be done here, ask again (a retry)
            return self._retry(out, spec, slot, OUT_OF_SCOPE_IN_FLOW, reprompt=True)
        # nothing usable: a value refused by the slot's pattern, or no value at all
        return self._retry(out, spec, slot, (slot.invalid or slot.prompt) if slot else "anything_else")

    def _retry(self, out: EngineOutput, spec: FlowSpec, slot: SlotSpec | None, key: str,
               reprompt: bool = False) -> bool:
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
            if st.flow.name == name:
                st.flow = None
            else:
                st.stack.append(st.flow)
                del st.stack[:-MAX_STACK]
        fs = FlowState(name=name)
        for s in spec.slots:
            if s.name in st.memory:
                fs.slots[s.name] = st.memory[s.name]
        found, _ = extract_slots(spec, nlu)
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
        for s in spec.slots:
            if s.name not in fs.slots:
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
            self._reprompt(out)

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
        slot = next((s for s in spec.slots if s.name == fs.awaiting), None)
        if slot is not None:
            self._say(out, slot.prompt, values)
            return
        self._advance(out)

    def _remember_entities(self, st: DialogueState, nlu: NLUResult) -> None:
        """Keep slot values given out of context so the next flow does not ask again."""
        for f in self.domain.flows.values():
            found, _ = extract_slots(f, nlu)
            # only from a slot's own (first) entity type: a booking reference a flight-number
            # slot also accepts is not remembered as a flight number
            own = {s.name for s in f.slots if s.entities and any(e.type == s.entities[0] for e in nlu.entities)}
            st.memory.update({k: v for k, v in found.items() if k in own})

    # ------------------------------------------------------------------ helpers
    def _offer_if_asked(self, out: EngineOutput) -> None:
        """A last reply offering a person (a "/human_handoff" button) opens the yes/no question,
        so a typed "yes please" after "Would you like me to pass you to our team?" is understood."""
        st = out.state
        if st.mode != "bot" or st.pending or st.flow is not None or not out.replies:
            return
        last = out.replies[-1]
        if last.key != "fallback_rephrase" and any(payload == "/human_handoff" for _t, payload in last.buttons):
            st.pending = OFFER_HUMAN

    def _handoff(self, out: EngineOutput) -> None:
        st = out.state
        st.mode = "waiting"
        st.pending = None
        st.misses = 0
        if st.flow is not None:
            out.events.append({"type": "flow_cancelled", "flow": st.flow.name})
        st.flow = None
        st.stack.clear()
        out.events.append({"type": "handoff_requested"})
        self._say(out, "handoff_waiting")

    def _give_up(self, out: EngineOutput, slot: str) -> None:
        """Too many unusable answers for ``slot``: drop the flows, say so, offer a person."""
        st = out.state
        assert st.flow is not None
        out.events.append({"type": "flow_gave_up", "flow": st.flow.name, "slot": slot})
        st.flow = None
        st.stack.clear()
        self._say(out, "slot_gave_up")
        st.pending = OFFER_HUMAN

    def _fallback(self, out: EngineOutput, nlu: NLUResult) -> None:
        st = out.state
        st.misses += 1
        out.events.append({"type": "fallback", "misses": st.misses})
        if st.misses >= 2:
            st.misses = 0
            st.pending = OFFER_HUMAN
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
        out.replies.append(render(self.domain, key, out.state.language or self.default_language, values, self.default_language))
