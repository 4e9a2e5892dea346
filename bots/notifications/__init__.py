"""Proactive notifications: a brand's system (or an operator) tells a customer something first.

The store keeps each request and reads what became of it from the deliveries record; the
customer links tell which channel identities gave a booking or customer reference.
"""

from __future__ import annotations

from .links import CustomerLinks, Identity, normalise_reference
from .store import (
    STATES,
    IdempotencyConflict,
    NewNotification,
    NotificationRow,
    Notifications,
    NotificationView,
    delivery_key,
)

__all__ = [
    "STATES",
    "CustomerLinks",
    "IdempotencyConflict",
    "Identity",
    "NewNotification",
    "NotificationRow",
    "NotificationView",
    "Notifications",
    "delivery_key",
    "normalise_reference",
]
