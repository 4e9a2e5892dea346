"""Settings of the dialogue: state lifetime, locks, actions module, and the domain.

The *domain* is what the bot knows how to do: flows (slots, confirmation,
action, success/failure responses), FAQ answers, and response templates per
language. It may be written inline under ``dialogue:`` or in a separate YAML
file named by ``dialogue.domain_file`` (both are validated by the same models;
see :func:`bots.dialogue.domain.load_domain`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from ._base import Section

__all__ = [
    "Button",
    "Response",
    "SlotSpec",
    "FlowSpec",
    "IdentitySpec",
    "DomainSpec",
    "DialogueSettings",
]


class Button(Section):
    """A quick reply: ``title`` per language, ``payload`` sent back when pressed.

    A payload ``/intent`` is read as that intent with full confidence.
    """

    payload: str = Field(min_length=1)
    title: dict[str, str]


class Response(Section):
    """A reply template: text per language with ``{variables}``, and buttons."""

    text: dict[str, str]
    buttons: list[Button] = Field(default_factory=list)


class SlotSpec(Section):
    """One piece of information a flow collects from NLU entities."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    #: entity types that fill this slot (first found wins), e.g. [seat]; none for a free-text slot.
    entities: list[str] = Field(default_factory=list)
    #: response key asking for the slot (not needed when ``ask`` is false).
    prompt: str = ""
    #: false: an optional detail, used when the customer gives it ("on 10 December"), never asked.
    ask: bool = True
    #: optional regex the (string) value must fully match.
    pattern: str | None = None
    #: response key when the value is missing or invalid (default: the prompt).
    invalid: str | None = None
    #: re-asks before the bot gives up and offers a human.
    max_retries: int = Field(default=2, ge=0, le=10)
    #: a value no entity carries (a surname): the answer itself when this slot is asked, or the
    #: name-like words left beside the entities when the slot asked before it is answered
    #: ("X7K9QZ, Dupont"); ``pattern`` then checks it.
    free_text: bool = False

    @model_validator(mode="after")
    def _filled_somehow(self) -> SlotSpec:
        if not self.entities and not self.free_text:
            raise ValueError(f"slot {self.name!r} needs entities (like [seat]) or free_text: true")
        if self.ask and not self.prompt:
            raise ValueError(f"slot {self.name!r} needs a prompt (a response key), or ask: false")
        return self


class FlowSpec(Section):
    """A task: triggered by intents, collects slots, confirms, runs an action."""

    intents: list[str] = Field(min_length=1)
    slots: list[SlotSpec] = Field(default_factory=list)
    #: action run once all slots are filled, before confirmation (e.g. seat free?).
    check: str | None = None
    #: response key of the yes/no confirmation question (None: no confirmation).
    confirm: str | None = None
    #: action doing the work (None: just answer ``success``).
    action: str | None = None
    #: response keys; an action may name another one in its result.
    success: str | None = None
    failure: str | None = None
    #: the customer proves who they are (the domain's ``identity`` step) before the check,
    #: the confirmation or the action: nothing personal is said and nothing changes before.
    verify: bool = False


class IdentitySpec(Section):
    """The identity step flows with ``verify: true`` run first (e.g. booking reference + surname).

    Its slots are asked (and pre-filled from values a verified earlier flow learnt) before the
    flow's own; then ``action`` (brand code) says whether they match. Failed attempts are
    limited per conversation and, across conversations, per value of ``subject`` (so a
    booking's reference cannot be guessed by opening new chats).
    """

    slots: list[SlotSpec] = Field(min_length=1)
    #: the action that checks the slots (``ok=False``: they do not match).
    action: str
    #: the slot whose value is the thing proven (attempts are counted per value), e.g. booking_ref.
    subject: str
    #: failed attempts allowed in one conversation before the bot stops trying and offers a person.
    max_attempts: int = Field(default=3, ge=1, le=20)
    #: failed attempts allowed on one subject (all conversations) within ``lockout_seconds``.
    max_attempts_per_subject: int = Field(default=5, ge=1, le=100)
    lockout_seconds: int = Field(default=3600, ge=60)
    #: response keys: the details do not match (asked again); too many attempts.
    failed: str
    locked: str

    @model_validator(mode="after")
    def _subject_is_a_slot(self) -> IdentitySpec:
        if self.subject not in {s.name for s in self.slots}:
            raise ValueError(f"subject {self.subject!r} is not one of the identity slots")
        return self


class DomainSpec(Section):
    """Everything the bot can say and do (inline in config.yaml or in ``domain_file``)."""

    #: more domain files merged into this one (relative to it), e.g. ``[topics.yml]``; a name
    #: defined in two files is an error.
    include: list[str] = Field(default_factory=list)
    #: the identity step of flows with ``verify: true`` (None: no flow may ask for it).
    identity: IdentitySpec | None = None
    flows: dict[str, FlowSpec] = Field(default_factory=dict)
    #: intent -> answer straight from config (baggage allowance, check-in times, greetings).
    faq: dict[str, Response] = Field(default_factory=dict)
    responses: dict[str, Response] = Field(default_factory=dict)
    #: intent -> button title per language, for "did you mean" suggestions.
    intent_labels: dict[str, dict[str, str]] = Field(default_factory=dict)


class DialogueSettings(Section):
    #: a conversation's state expires after this much silence.
    state_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    #: turns kept in the state's history (the full transcript is in SQL).
    history_limit: int = Field(default=20, ge=1, le=500)
    #: processed inbound message ids kept (with their replies) to make redelivery safe.
    processed_limit: int = Field(default=20, ge=1, le=200)
    #: a crashed worker's lock frees itself after this long.
    lock_ttl_seconds: int = Field(default=30, ge=1)
    #: how long a turn waits for a busy conversation before giving up (retried later).
    lock_wait_seconds: float = Field(default=10.0, gt=0)
    #: an action running longer than this gets a polite apology and an offer of a human.
    action_timeout_seconds: float = Field(default=5.0, gt=0)
    #: Python module whose ``@action`` functions the flows call.
    actions_module: str = "bots.airline.actions"
    #: free-form options handed to the actions module's ``make_api(settings, options)``.
    actions_options: dict[str, Any] = Field(default_factory=dict)
    #: YAML file holding flows/faq/responses/intent_labels (relative to the config file).
    domain_file: str | None = None
    identity: IdentitySpec | None = None
    flows: dict[str, FlowSpec] = Field(default_factory=dict)
    faq: dict[str, Response] = Field(default_factory=dict)
    responses: dict[str, Response] = Field(default_factory=dict)
    intent_labels: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("actions_module")
    @classmethod
    def _module_name(cls, v: str) -> str:
        if not all(part.isidentifier() for part in v.split(".")):
            raise ValueError(f"{v!r} is not a Python module path (like bots.airline.actions)")
        return v

    @model_validator(mode="after")
    def _lock_outlives_actions(self) -> DialogueSettings:
        if self.lock_ttl_seconds < 2 * self.action_timeout_seconds:
            raise ValueError(
                f"lock_ttl_seconds ({self.lock_ttl_seconds}) must be at least twice action_timeout_seconds "
                f"({self.action_timeout_seconds}) so a turn with a slow action keeps its conversation lock"
            )
        return self

    @model_validator(mode="after")
    def _flows_intents_unique(self) -> DialogueSettings:
        seen: dict[str, str] = {}
        for name, flow in self.flows.items():
            for intent in flow.intents:
                if intent in seen:
                    raise ValueError(f"intent {intent!r} triggers both flows {seen[intent]!r} and {name!r}")
                seen[intent] = name
        return self
