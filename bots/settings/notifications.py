"""Settings of proactive notifications (``notifications:`` in config.yaml).

A brand's systems (``POST /api/v1/notifications``) and operators (``brandbot notify``) send a
configured message ``kind`` (``flight_update``, ``travel_details``...) with its ``variables``;
brandbot picks the customer's channel and sends the kind's text in the customer's language. On
WhatsApp outside the 24-hour window the channel's approved template for the kind is sent instead
(``channels.twilio.whatsapp.templates.<kind>``, ``channels.meta.whatsapp.templates.<kind>``).
"""

from __future__ import annotations

import re
import string

from pydantic import Field, field_validator, model_validator

from ._base import Section

__all__ = ["NotificationKind", "NotificationsSettings", "NOTIFY_PURPOSES", "REFERENCE_KINDS", "CHANNEL_NAMES"]

#: what a kind is for; ``service`` is sent unless the customer opted out of service updates,
#: ``marketing`` only to customers who agreed to it.
NOTIFY_PURPOSES = ("service", "marketing")
#: what a brand may know its customer by, linked to a channel identity once confirmed in chat.
REFERENCE_KINDS = ("booking", "customer")
#: every channel a notification may go to.
CHANNEL_NAMES = ("whatsapp_cloud", "whatsapp", "messenger", "instagram", "telegram", "sms", "webchat")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_BUILT_IN = ("text", "recipient", "kind")


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a format string uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


class NotificationKind(Section):
    """One kind of message a brand's systems may send."""

    #: ``service`` (travel details, flight changes) or ``marketing`` (offers).
    purpose: str = "service"
    #: the variables every request must give (``{flight}`` in the text).
    variables: list[str] = Field(default_factory=list)
    #: the message per language, a format string over ``variables``.
    text: dict[str, str]

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        if value not in NOTIFY_PURPOSES:
            raise ValueError(f"{value!r} is not a purpose; use one of {list(NOTIFY_PURPOSES)}")
        return value

    @field_validator("variables")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _NAME.match(name) or name in _BUILT_IN:
                raise ValueError(
                    f"variable {name!r}: lower-case letters, digits and _ starting with a letter, "
                    f"not one of {list(_BUILT_IN)}"
                )
        return value

    @model_validator(mode="after")
    def _text_uses_known_variables(self) -> NotificationKind:
        if not self.text:
            raise ValueError("text: give the message in at least one language")
        for language, text in self.text.items():
            unknown = placeholders(text) - set(self.variables)
            if unknown:
                raise ValueError(f"text.{language} uses {sorted(unknown)}, not in variables {self.variables}")
        return self


class NotificationsSettings(Section):
    #: the kinds brand systems may send (none: the API refuses every request with 422).
    kinds: dict[str, NotificationKind] = Field(default_factory=dict)
    #: channels tried after the customer's most recent one, in this order.
    fallback_order: list[str] = Field(default_factory=lambda: list(CHANNEL_NAMES[:-1]))
    #: reference kind -> the dialogue memory key a checked value is remembered under
    #: (a booking the bot looked up links the customer to it; a notification about it pre-fills it).
    references: dict[str, str] = Field(default_factory=lambda: {"booking": "booking_ref", "customer": "customer_id"})
    #: a bulk run enqueues at most this many notifications per second (the channels' own rate
    #: limits then pace the sends).
    bulk_per_second: int = Field(default=200, ge=1, le=10_000)

    @field_validator("kinds")
    @classmethod
    def _kind_names(cls, value: dict[str, NotificationKind]) -> dict[str, NotificationKind]:
        bad = [name for name in value if not _NAME.match(name)]
        if bad:
            raise ValueError(f"kind names {bad}: lower-case letters, digits and _ starting with a letter")
        return value

    @field_validator("fallback_order")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CHANNEL_NAMES]
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; valid: {list(CHANNEL_NAMES)}")
        if len(set(value)) != len(value):
            raise ValueError("a channel is listed twice")
        return value

    @field_validator("references")
    @classmethod
    def _references(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(REFERENCE_KINDS))
        if unknown:
            raise ValueError(f"unknown reference kind(s) {unknown}; valid: {list(REFERENCE_KINDS)}")
        return value
