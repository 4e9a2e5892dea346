"""Messenger, Instagram and WhatsApp Cloud through Meta's Graph API: one signed webhook, one
Graph client, one connector per channel."""

from .connector import (
    DAY,
    META_CHANNELS,
    CloudTemplate,
    InstagramConnector,
    MessengerConnector,
    MetaConnector,
    MetaOptions,
    WhatsAppCloudConnector,
)
from .graph import GRAPH_API, GraphClient, GraphError
from .parse import (
    CHANNELS,
    GET_STARTED,
    GREET_PAYLOAD,
    MAX_TEXT,
    MetaAccounts,
    MetaDelivery,
    MetaStatus,
    parse_delivery,
)
from .signature import SIGNATURE_HEADER, sign, verify_signature, verify_subscription

__all__ = [
    "DAY",
    "META_CHANNELS",
    "CloudTemplate",
    "InstagramConnector",
    "MessengerConnector",
    "MetaConnector",
    "MetaOptions",
    "WhatsAppCloudConnector",
    "GRAPH_API",
    "GraphClient",
    "GraphError",
    "SIGNATURE_HEADER",
    "verify_signature",
    "verify_subscription",
    "sign",
    "MetaAccounts",
    "MetaStatus",
    "MetaDelivery",
    "parse_delivery",
    "GET_STARTED",
    "GREET_PAYLOAD",
    "CHANNELS",
    "MAX_TEXT",
]
