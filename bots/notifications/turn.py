"""The conversation side of notifications, used by the dialogue runtime in a worker's turn.

- A queued notification's event (:data:`~bots.notifications.service.NOTIFICATION_EVENT`) becomes
  the turn's one reply: the kind's text in the customer's language, with the reference it is about
  (a booking) put in the dialogue's memory, so "change my seat" after a gate change does not ask
  for the booking again.
- A reference an action checked (``ActionResult.remember``: the booking the bot looked up) links
  the customer's channel identity to it, so the brand's systems can reach them by that reference.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from connectors.base import Inbound, Outbound

from ..dialogue.state import DialogueState
from ..privacy import Customer
from ..settings.notifications import NotificationsSettings
from .links import CustomerLinks
from .messages import pick_language, render
from .store import QUEUED, Notifications

log = logging.getLogger(__name__)

__all__ = ["NotificationTurns"]


class NotificationTurns:
    """Args:
    config: the ``notifications:`` settings (kinds, reference -> memory key).
    default_language: ``brand.default_language``.
    store, links: the SQL stores.
    """

    def __init__(
        self, config: NotificationsSettings, default_language: str, store: Notifications, links: CustomerLinks
    ) -> None:
        self.config = config
        self.default_language = default_language
        self.store = store
        self.links = links

    def outbound(self, inbound: Inbound, state: DialogueState) -> Outbound | None:
        """The message of the queued notification ``inbound`` names, with ``state`` updated (its
        language if none yet, the reference in memory); None when there is nothing to send (the
        row is gone: erased, or its kind was removed from the config)."""
        row = self.store.get(inbound.payload or "")
        if row is None or row.state != QUEUED or row.delivery_key is None:
            log.warning(
                "notification event %s: no queued notification %r; nothing sent", inbound.message_id, inbound.payload
            )
            return None
        kind = self.config.kinds.get(row.kind)
        if kind is None:
            log.warning("notification %s: kind %r is no longer configured; nothing sent", row.id, row.kind)
            return None
        language = pick_language(kind, [row.language, state.language], self.default_language)
        state.language = state.language or language
        state.memory.update(self._remembered(row.reference_kind, row.reference, row.variables))
        return Outbound(
            channel=inbound.channel,
            recipient=inbound.sender_id,
            text=render(kind, row.variables, language),
            kind=row.kind,
            idempotency_key=row.delivery_key,
            conversation_id=inbound.conversation_id,
            variables=dict(row.variables),
            language=language,
        )

    def _remembered(
        self, reference_kind: str | None, reference: str | None, variables: Mapping[str, str]
    ) -> dict[str, str]:
        """Memory keys to pre-fill: the reference the notification was addressed by, and a
        variable named like a reference kind (``booking``)."""
        out: dict[str, str] = {}
        for kind, key in self.config.references.items():
            if kind in variables:
                out[key] = variables[kind].strip().upper()
        addressed = self.config.references.get(reference_kind or "")
        if addressed is not None and reference:
            out[addressed] = reference
        return out

    def confirmed(self, who: Customer, remembered: Mapping[str, Any]) -> None:
        """An action checked these values (``ActionResult.remember``): link the references among them."""
        for kind, key in self.config.references.items():
            value = remembered.get(key)
            if isinstance(value, str) and value.strip():
                self.links.link(kind, value, who)
