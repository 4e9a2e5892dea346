"""How a queued notification travels on the inbound queue (shared by the service and the runtime)."""

from __future__ import annotations

__all__ = ["NOTIFICATION_EVENT", "NOTIFICATION_KEY_PREFIX", "event_message_id"]

#: ``Inbound.event`` of a queued notification (``kind="event"``, ``payload``: the notification id).
NOTIFICATION_EVENT = "notification"
#: starts the event's ``Inbound.message_id`` and the message's ``Outbound.idempotency_key``
#: (the transcript row's ``message_id``: how the console tells a notification from a reply).
NOTIFICATION_KEY_PREFIX = "notification:"


def event_message_id(notification_id: str) -> str:
    """The ``Inbound.message_id`` of a notification's event (the queue dedupes on it)."""
    return NOTIFICATION_KEY_PREFIX + notification_id
