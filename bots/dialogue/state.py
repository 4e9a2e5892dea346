"""The dialogue state of one conversation: small, versioned, JSON.

``SCHEMA_VERSION`` is stored inside the JSON. :func:`state_from_json` migrates an
older schema step by step, and resets to a fresh state (keeping the language)
when the data is unreadable or from the future: a bad state never crashes a turn.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["SCHEMA_VERSION", "Mode", "FlowState", "DialogueState", "state_from_json", "state_to_json", "MIGRATIONS"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
Mode = Literal["bot", "waiting", "human", "resolved"]
MODES = ("bot", "waiting", "human", "resolved")

#: the "slot" a flow waits on while its confirmation question is open.
CONFIRM = "__confirm__"


@dataclass
class FlowState:
    """A flow in progress."""

    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    #: slot name being asked, CONFIRM while confirming, None when not asked yet.
    awaiting: str | None = None
    retries: int = 0
    checked: bool = False
    #: questions answered on the side in a row while this flow waited (its question is asked
    #: again after the first only; from the second the flow waits silently for its values).
    asides: int = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FlowState:
        return cls(
            name=str(d["name"]),
            slots=dict(d.get("slots") or {}),
            awaiting=d.get("awaiting"),
            retries=int(d.get("retries", 0)),
            checked=bool(d.get("checked", False)),
            asides=int(d.get("asides", 0)),
        )


@dataclass
class DialogueState:
    """Everything the bot remembers about a conversation between turns.

    ``version`` is not part of the JSON: it is the store's CAS counter, set on load.
    """

    conversation_id: str
    mode: Mode = "bot"
    language: str | None = None
    flow: FlowState | None = None
    #: flows suspended by a digression that started another flow (resumed after it).
    stack: list[FlowState] = field(default_factory=list)
    #: consecutive messages the bot did not understand.
    misses: int = 0
    #: a yes/no question outside flows that is open (e.g. "offer_human").
    pending: str | None = None
    #: values learnt in earlier flows (a checked booking reference) to pre-fill slots.
    memory: dict[str, Any] = field(default_factory=dict)
    #: recent turns: {"id", "user", "intent", "bot": [texts]}; capped.
    history: list[dict[str, Any]] = field(default_factory=list)
    #: recently processed inbound ids with their outbounds (dicts), for safe redelivery.
    processed: list[dict[str, Any]] = field(default_factory=list)
    turns: int = 0
    #: consent and feedback questions (``bots.dialogue.feedback``): the open question
    #: ("ask": consent, csat, comment, nps, erase), the consent wording shown, the last
    #: consent answer seen here and when a "later" may be asked again.
    privacy: dict[str, Any] = field(default_factory=dict)
    #: subjects (booking references) the customer proved theirs in this conversation (capped).
    verified: list[str] = field(default_factory=list)
    #: failed identity checks in this conversation (the step stops at ``identity.max_attempts``).
    identity_failures: int = 0
    version: int = 0

    # ---- redelivery -------------------------------------------------------
    def processed_outbounds(self, message_id: str) -> list[dict[str, Any]] | None:
        for p in self.processed:
            if p["id"] == message_id:
                return list(p["out"])
        return None

    def remember_processed(self, message_id: str, outbounds: list[dict[str, Any]], limit: int) -> None:
        self.processed.append({"id": message_id, "out": outbounds})
        del self.processed[:-limit]

    def add_history(self, entry: dict[str, Any], limit: int) -> None:
        self.history.append(entry)
        del self.history[:-limit]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("version")
        d["schema"] = SCHEMA_VERSION
        return d

    @classmethod
    def fresh(cls, conversation_id: str, language: str | None = None) -> DialogueState:
        return cls(conversation_id=conversation_id, language=language)


def _v1_to_v2(d: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 had one ``slots`` dict at the top and a ``flow`` name; 2 nests them."""
    d = dict(d)
    name = d.pop("flow", None)
    slots = d.pop("slots", {}) or {}
    d["flow"] = {"name": name, "slots": slots} if name else None
    d["schema"] = 2
    return d


#: schema N -> function upgrading a dict from N to N+1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def state_to_json(state: DialogueState) -> str:
    return json.dumps(state.to_dict(), ensure_ascii=False, separators=(",", ":"), default=str)


def state_from_json(raw: str | bytes | None, conversation_id: str, version: int = 0) -> DialogueState:
    """Decode a stored state; migrate an old schema, reset an unreadable one (logged).

    Never raises on bad data: the customer gets a fresh conversation instead of an error.
    """
    if raw is None:
        st = DialogueState.fresh(conversation_id)
        st.version = version
        return st
    language = None
    try:
        d = json.loads(raw)
        if not isinstance(d, dict):
            raise ValueError(f"state is a {type(d).__name__}, not an object")
        language = d.get("language")
        schema = int(d.get("schema", 1))
        if schema > SCHEMA_VERSION:
            raise ValueError(f"schema {schema} is newer than this code's {SCHEMA_VERSION}")
        while schema < SCHEMA_VERSION:
            d = MIGRATIONS[schema](d)
            schema += 1
        mode = d.get("mode", "bot")
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {MODES}")
        st = DialogueState(
            conversation_id=conversation_id,
            mode=mode,
            language=d.get("language"),
            flow=FlowState.from_dict(d["flow"]) if d.get("flow") else None,
            stack=[FlowState.from_dict(f) for f in d.get("stack") or []],
            misses=int(d.get("misses", 0)),
            pending=d.get("pending"),
            memory=dict(d.get("memory") or {}),
            history=list(d.get("history") or []),
            processed=list(d.get("processed") or []),
            turns=int(d.get("turns", 0)),
            privacy=dict(d.get("privacy") or {}),
            verified=[str(v) for v in d.get("verified") or []],
            identity_failures=int(d.get("identity_failures", 0)),
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("dialogue state of %s unreadable (%s); starting afresh", conversation_id, exc)
        st = DialogueState.fresh(conversation_id, language if isinstance(language, str) else None)
    st.version = version
    return st
