"""What a Meta webhook body holds once parsed: Inbounds, WhatsApp statuses, ignored events (plain data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..base import Inbound

__all__ = [
    "MetaAccounts",
    "MetaStatus",
    "MetaDelivery",
    "Collected",
    "CHANNELS",
    "GET_STARTED",
    "GREET_PAYLOAD",
    "MAX_TEXT",
    "MAX_PAYLOAD",
    "MAX_NAME",
    "MAX_ID",
]

#: the ``object`` of a webhook body -> the channel its messages belong to.
CHANNELS = {"page": "messenger", "instagram": "instagram", "whatsapp_business_account": "whatsapp_cloud"}
GET_STARTED = "GET_STARTED"
#: what a Get Started postback's payload becomes (the dialogue maps "/intent" payloads to intents).
GREET_PAYLOAD = "/greet"
#: longest customer text accepted per channel (Meta's own limits).
MAX_TEXT = {"messenger": 2000, "instagram": 1000, "whatsapp_cloud": 4096}
#: longest button payload (Messenger postback / quick reply payloads: 1000; WhatsApp ids: 256).
MAX_PAYLOAD = 1000
#: names, titles, file names, mime types, emoji, error titles.
MAX_NAME = 512
#: message ids (``m_...``, ``wamid....``), media ids, urls.
MAX_ID = 4096


@dataclass(frozen=True, slots=True)
class MetaAccounts:
    """Which ids are ours (an empty string: that product is off and its entries are not ours)."""

    page_id: str = ""
    instagram_id: str = ""
    phone_number_id: str = ""


@dataclass(frozen=True, slots=True)
class MetaStatus:
    """A WhatsApp Cloud status webhook entry about one of our outbound messages."""

    message_id: str
    #: "sent" | "delivered" | "read" | "failed" (others kept as given).
    status: str
    #: "+<digits>"
    recipient: str
    timestamp: datetime
    error_code: str | None = None
    error_title: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass(frozen=True, slots=True)
class MetaDelivery:
    """What one webhook body holds, in order."""

    inbounds: list[Inbound]
    statuses: list[MetaStatus]
    #: one kind per event not turned into anything: "echo", "read", "delivery", "not_ours",
    #: "unsupported", "deleted", "standby", "unknown", "field:<name>"...
    ignored: list[str]


@dataclass(slots=True)
class Collected:
    """What the parse of one body has found so far."""

    inbounds: list[Inbound]
    statuses: list[MetaStatus]
    ignored: list[str]
