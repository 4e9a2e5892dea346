"""How a queued notification travels on the inbound queue (shared by the service and the runtime)."""

from __future__ import annotations

__all__ = ["NOTIFICATION_EVENT", "event_message_id"]

#: ``Inbound.event`` of a queued notification (``kind="event"``, ``payload``: the notification id).
NOTIFICATION_EVENT = "notification"


def event_message_id(notification_id: str) -> str:
    """The ``Inbound.message_id`` of a notification's event (the queue dedupes on it)."""
    return f"notification:{notification_id}"
