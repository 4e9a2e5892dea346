"""The consent, feedback and erasure questions of a conversation: pure policy, no I/O.

:class:`FeedbackPolicy` decides, from the dialogue state and the customer's message, what
the engine would not: a privacy request in words (phrases from ``privacy.yml``: erase,
opt out, withdraw, grant; any mode), a pressed button (``/consent_yes``, ``/csat_4``,
``/erase_yes``...) or the answer to the open question in ``state.privacy["ask"]``
(consent yes/no/later, CSAT 1-5, a comment, NPS 0-10, the erasure confirmation). It
returns the replies and the :class:`Effect` s for the runtime to apply (consent records,
signals, the erasure); a message that is none of these is left to the engine, and an open
question it does not answer lapses.

It also says when to ask: :meth:`FeedbackPolicy.after_turn` (consent at the first contact
or after a flow the bot completed) and :meth:`FeedbackPolicy.on_resolution` (a staff
resolve or hand-back: the consent question if due, else CSAT).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from ..settings.dialogue import Response
from ..settings.feedback import FeedbackSettings
from ..settings.privacy import PrivacySettings
from .phrases import PhraseMatcher, PrivacyFile
from .responses import Reply, render_response
from .rules import is_no, is_yes
from .state import DialogueState

__all__ = [
    "Effect",
    "Step",
    "FeedbackPolicy",
    "FEEDBACK",
    "MARKETING",
    "SERVICE_UPDATES",
    "OPT_OUT_PURPOSES",
    "score_in",
]

FEEDBACK = "feedback_analytics"
MARKETING = "marketing"
#: proactive messages about the customer's trips (``bots.notifications``); "stop messaging me" withdraws it.
SERVICE_UPDATES = "service_updates"
#: what an opt-out ("stop messaging me", an SMS STOP) withdraws.
OPT_OUT_PURPOSES = (MARKETING, SERVICE_UPDATES, FEEDBACK)
#: ``state.privacy["ask"]`` values.
CONSENT, CSAT, COMMENT, NPS, ERASE = "consent", "csat", "comment", "nps", "erase"
_OUT_OF = re.compile(r"(?:/|\bsur\b|\bout of\b)\s*(?:5|10)\b", re.IGNORECASE)
_INT = re.compile(r"\d+")


@dataclass(frozen=True)
class Effect:
    """Something the runtime must record for this turn."""

    kind: Literal["grant", "withdraw", "csat", "nps", "comment", "erase"]
    #: consent purposes (grant / withdraw).
    purposes: tuple[str, ...] = ()
    #: how the consent was given: "button" or "words".
    how: str = ""
    #: the wording the consent answers: (version, text, language).
    wording: tuple[str, str, str] | None = None
    score: int | None = None
    #: a comment's text (redacted by Signals before it is stored).
    text: str = ""


@dataclass
class Step:
    """A turn handled here: replies and effects (the engine does not run)."""

    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def score_in(text: str, low: int, high: int) -> int | None:
    """The one whole number from ``low`` to ``high`` in a short answer ("4", "4/5", "8 sur 10")."""
    words = text.split()
    if not words or len(words) > 5:
        return None
    numbers = _INT.findall(_OUT_OF.sub(" ", text))
    if len(numbers) != 1:
        return None
    value = int(numbers[0])
    return value if low <= value <= high else None


class FeedbackPolicy:
    """Args:
    feedback: when to ask, which questions (``feedback:``).
    privacy: the consent wordings with their versions (``privacy.consent.wordings``).
    file: phrases and default responses (``bots/dialogue/privacy.yml`` or ``feedback.phrases_file``).
    responses: the brand domain's responses (override the file's of the same name).
    default_language: used until the conversation has one.
    """

    def __init__(
        self,
        feedback: FeedbackSettings,
        privacy: PrivacySettings,
        file: PrivacyFile,
        responses: Mapping[str, Response],
        default_language: str,
    ) -> None:
        self.feedback = feedback
        self.privacy = privacy
        self.responses: dict[str, Response] = {**file.responses, **responses}
        self.phrases = PhraseMatcher(file.phrases, feedback.phrase_similarity)
        self.default_language = default_language

    # -- a customer message -----------------------------------------------------------------
    def answer(self, st: DialogueState, text: str, payload: str, now: datetime) -> Step | None:
        """Handle ``text`` / ``payload`` if it is a privacy request or an answer (``st`` is updated)."""
        p = st.privacy
        ask = p.get("ask")
        cmd = payload[1:] if payload.startswith("/") else ""
        name, _, arg = cmd.partition("_")
        if name == "consent" and arg in ("yes", "no", "later"):
            return self._consent_answer(st, arg, "button", now)
        if name in (CSAT, NPS) and arg.isdigit():
            return self._score_answer(st, name, int(arg))
        if cmd == "comment_skip":
            return self._after_comment(st, self._step(st, []))
        if name == ERASE and arg in ("yes", "no"):
            return self._erase_answer(st, arg == "yes")
        # while the engine waits for an answer (a confirmation, "shall I get you a person?"), a short
        # "i agree" / "je refuse" answers it: only a longer phrase is about the consent then
        busy = (st.flow is not None or bool(st.pending)) and ask != CONSENT
        kind = self.phrases.match(
            text, ("erase", "opt_out", "withdraw", "grant"), long_only=("withdraw", "grant") if busy else ()
        )
        if kind == "erase":
            p["ask"] = ERASE
            return self._step(st, ["erase_confirm"], event="erase_asked")
        if kind == "opt_out":
            self._close_consent_question(st, "no")
            return self._step(st, ["opted_out"], [self._consent(st, False, OPT_OUT_PURPOSES, "words")], "opt_out")
        if kind in ("withdraw", "grant"):
            granted = kind == "grant"
            wording = self._close_consent_question(st, "yes" if granted else "no")
            effect = self._consent(st, granted, (FEEDBACK,), "words", wording)
            return self._step(st, ["consent_granted" if granted else "consent_withdrawn"], [effect], f"consent_{kind}")
        if ask == CONSENT:
            if is_yes(text) or is_no(text) or self.phrases.is_("later", text):
                answer = "later" if self.phrases.is_("later", text) else "yes" if is_yes(text) else "no"
                return self._consent_answer(st, answer, "words", now)
            self._close_consent_question(st, "later")  # not answered: ask again later
            p["later_until"] = (now + timedelta(days=self.feedback.later_days)).isoformat()
            return None
        if ask in (CSAT, NPS):
            score = score_in(text, 1, 5) if ask == CSAT else score_in(text, 0, 10)
            if score is not None:
                return self._score_answer(st, ask, score)
        elif ask == COMMENT:
            if self.phrases.is_("no_comment", text) or is_no(text):
                return self._after_comment(st, self._step(st, []))
            if text.strip():
                return self._after_comment(st, self._step(st, ["comment_thanks"], [Effect("comment", text=text)]))
        elif ask == ERASE and (is_yes(text) or is_no(text)):
            return self._erase_answer(st, is_yes(text))
        p.pop("ask", None)  # anything else: the open question lapses, the engine answers
        return None

    # -- when to ask ------------------------------------------------------------------------
    def after_turn(
        self,
        st: DialogueState,
        first_contact: bool,
        events: list[dict[str, Any]],
        now: datetime,
        answered: Callable[[], bool],
    ) -> list[Reply]:
        """The consent question to add after the engine's replies, if this is the moment.

        ``answered`` (a SQL read) is called only when the question is due by the state.
        """
        when = self.feedback.ask_consent
        if when == "never" or st.mode != "bot" or st.privacy.get("ask") or st.pending or st.flow is not None:
            return []
        resolved = any(e.get("type") == "flow_completed" for e in events)
        moment = first_contact if when == "first_contact" else resolved
        if not self._due(st, now, moment, resolved) or self._answered(st, answered):
            return []
        return [self._ask_consent(st)]

    def on_resolution(self, st: DialogueState, now: datetime, answered: Callable[[], bool]) -> list[Reply]:
        """What to ask when staff resolve or hand back: the consent question if due (CSAT after
        its answer), else the CSAT question (if ``feedback.csat``)."""
        when = self.feedback.ask_consent
        if (
            when != "never"
            and self._due(st, now, when == "after_resolution", True)
            and not self._answered(st, answered)
        ):
            reply = self._ask_consent(st)
            if self.feedback.csat:
                st.privacy["then"] = CSAT
            return [reply]
        if not self.feedback.csat:
            return []
        st.privacy["ask"] = CSAT
        return [self._render(st, "csat_ask")]

    # -- helpers ----------------------------------------------------------------------------
    def _due(self, st: DialogueState, now: datetime, moment: bool, resolved: bool) -> bool:
        seen = st.privacy.get("consent")
        if seen in ("yes", "no", "answered"):
            return False
        if seen == "later":
            until = st.privacy.get("later_until")
            waited = until is None or now >= datetime.fromisoformat(until)
            return waited or (self.feedback.later_at_resolution and resolved)
        return moment

    @staticmethod
    def _answered(st: DialogueState, answered: Callable[[], bool]) -> bool:
        if answered():
            st.privacy["consent"] = "answered"  # given elsewhere (console, API, another turn)
            return True
        return False

    def _ask_consent(self, st: DialogueState) -> Reply:
        lang = st.language or self.default_language
        version, text = self.privacy.wording(FEEDBACK, lang)
        st.privacy["ask"] = CONSENT
        st.privacy["shown"] = [version, text, lang]
        return self._render(st, "consent_ask", {"wording": text})

    def _close_consent_question(self, st: DialogueState, answer: str) -> tuple[str, str, str] | None:
        """Close an open consent question (returning the wording shown, if one was)."""
        p = st.privacy
        p["consent"] = answer
        if p.get("ask") == CONSENT:
            p.pop("ask")
        p.pop("then", None)
        shown = p.pop("shown", None)
        return (str(shown[0]), str(shown[1]), str(shown[2])) if shown else None

    def _consent_answer(self, st: DialogueState, answer: str, how: str, now: datetime) -> Step:
        then = st.privacy.get("then")
        wording = self._close_consent_question(st, answer)
        if answer == "later":
            st.privacy["later_until"] = (now + timedelta(days=self.feedback.later_days)).isoformat()
            step = self._step(st, ["consent_later"], event="consent_later")
        else:
            granted = answer == "yes"
            effect = self._consent(st, granted, (FEEDBACK,), how, wording)
            key = "consent_granted" if granted else "consent_declined"
            step = self._step(st, [key], [effect], "consent_granted" if granted else "consent_declined")
        if then == CSAT:
            st.privacy["ask"] = CSAT
            step.replies.append(self._render(st, "csat_ask"))
        return step

    def _consent(
        self,
        st: DialogueState,
        granted: bool,
        purposes: tuple[str, ...],
        how: str,
        shown: tuple[str, str, str] | None = None,
    ) -> Effect:
        """A grant or withdrawal, with the wording the customer was shown, else the purpose's own."""
        lang = st.language or self.default_language
        if shown is None:
            version, text = self.privacy.wording(purposes[-1], lang)
            shown = (version, text, lang)
        return Effect("grant" if granted else "withdraw", purposes, how, shown)

    def _score_answer(self, st: DialogueState, kind: str, score: int) -> Step:
        low, high = (1, 5) if kind == CSAT else (0, 10)
        st.privacy.pop("ask", None)
        if not low <= score <= high:
            return self._step(st, [])
        if kind == NPS:
            return self._step(st, ["nps_thanks"], [Effect("nps", score=score)], "nps")
        step = self._step(st, ["csat_thanks"], [Effect("csat", score=score)], "csat")
        if self.feedback.comment:
            st.privacy["ask"] = COMMENT
            step.replies.append(self._render(st, "comment_ask"))
            return step
        return self._after_comment(st, step)

    def _after_comment(self, st: DialogueState, step: Step) -> Step:
        st.privacy.pop("ask", None)
        if self.feedback.nps:
            st.privacy["ask"] = NPS
            step.replies.append(self._render(st, "nps_ask"))
        elif not step.replies:
            step.replies.append(self._render(st, "nps_thanks"))
        return step

    def _erase_answer(self, st: DialogueState, yes: bool) -> Step:
        st.privacy.pop("ask", None)
        if yes:
            return self._step(st, ["erase_done"], [Effect("erase")], "erased")
        return self._step(st, ["erase_kept"], event="erase_declined")

    def _step(self, st: DialogueState, keys: list[str], effects: list[Effect] | None = None, event: str = "") -> Step:
        events = [{"type": event}] if event else []
        return Step([self._render(st, k) for k in keys], list(effects or []), events)

    def _render(self, st: DialogueState, key: str, values: dict[str, Any] | None = None) -> Reply:
        lang = st.language or self.default_language
        return render_response(self.responses[key], lang, values, key, self.default_language)
