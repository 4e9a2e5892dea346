"""Who a privacy operation is about: a channel name and the customer's id on it.

The conversation id the connectors build is ``"<channel>:<id>"`` (``"sms:+33612345678"``,
``"telegram:123456"``, ``"webchat:v8Fq..."``, ``"messenger:6543210987654321"``), so one
:class:`Customer` names one conversation. Ids typed by an operator are normalised here: SMS
and WhatsApp (Twilio or Cloud API) numbers to
E.164 (``+33 6 12 34 56 78`` -> ``+33612345678``); a malformed one is refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import PrivacyError

__all__ = ["CHANNELS", "Customer", "customer", "normalise_e164"]

#: the channel names the project uses (``bots.channel_registry``, the connectors).
CHANNELS = ("telegram", "whatsapp", "sms", "webchat", "messenger", "instagram", "whatsapp_cloud")

_TELEGRAM_ID = re.compile(r"^-?[0-9]{1,20}$")
_META_ID = re.compile(r"^[0-9]{1,32}$")  # a page-scoped (PSID) or Instagram-scoped (IGSID) id
_WEBCHAT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # connectors.webchat.valid_visitor_id
_SEPARATORS = re.compile(r"[\s.\-()/]")


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer on one channel (build it with :func:`customer` to validate the id)."""

    channel: str
    id: str

    @property
    def conversation_id(self) -> str:
        """The conversation id the connectors use for this customer."""
        return f"{self.channel}:{self.id}"

    @property
    def key(self) -> str:
        """``"channel:id"``: what pseudonyms and erasure hashes are computed over."""
        return self.conversation_id


def normalise_e164(raw: str) -> str:
    """A phone number in E.164 (``+`` and 8 to 15 digits, no leading 0 after the ``+``).

    Spaces, dots, dashes, slashes and parentheses are dropped; a leading ``00`` becomes ``+``;
    a ``whatsapp:`` prefix is dropped.

    Raises:
        PrivacyError: not a number in international form, with the reason.
    """
    text = raw.strip()
    if text.lower().startswith("whatsapp:"):
        text = text[len("whatsapp:") :]
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+"):
        raise PrivacyError(
            f"{raw!r} is not an international phone number: start with + and the country code (e.g. +33612345678)"
        )
    digits = compact[1:]
    if not digits.isascii() or not digits.isdigit():
        raise PrivacyError(f"{raw!r} is not a phone number: only digits may follow the + (e.g. +33612345678)")
    if digits.startswith("0"):
        raise PrivacyError(f"{raw!r}: a country code never starts with 0 (write +33612345678, not +330612345678)")
    if not 8 <= len(digits) <= 15:
        raise PrivacyError(f"{raw!r} has {len(digits)} digits; an E.164 number has 8 to 15 after the +")
    return compact


def customer(channel: str, raw_id: str) -> Customer:
    """A validated :class:`Customer` (SMS/WhatsApp ids normalised to E.164).

    Raises:
        PrivacyError: unknown channel, or an id that cannot be this channel's.
    """
    name = channel.strip().lower()
    if name not in CHANNELS:
        raise PrivacyError(f"unknown channel {channel!r}; valid channels: {', '.join(CHANNELS)}")
    value = raw_id.strip()
    if name in ("sms", "whatsapp", "whatsapp_cloud"):
        return Customer(name, normalise_e164(value))
    if name in ("messenger", "instagram") and not _META_ID.match(value):
        raise PrivacyError(
            f"{raw_id!r} is not a {name.capitalize()} id (the page-scoped number Meta gives, digits only)"
        )
    if name == "telegram" and not _TELEGRAM_ID.match(value):
        raise PrivacyError(f"{raw_id!r} is not a Telegram chat id (a whole number such as 123456789)")
    if name == "webchat" and not _WEBCHAT_ID.match(value):
        raise PrivacyError(f"{raw_id!r} is not a web chat visitor id (8 to 64 of A-Z a-z 0-9 _ -)")
    return Customer(name, value)
