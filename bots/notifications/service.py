"""Sending a notification: check the request, find the customer and their channel, write, queue.

``Notifier.notify`` is what ``POST /api/v1/notifications`` and ``brandbot notify`` both call.
A valid request always gets a row: ``queued`` (an ``Inbound`` event is put on the customer's
inbound shard, so it is sent by a worker in order with their messages, see
:mod:`bots.notifications.turn`) or ``refused`` with the reason (no channel can take it now:
nothing is sent). The same ``Idempotency-Key`` (per API key) with the same request gives the
first answer back and sends nothing twice; with another request it is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from connectors.base import Connector, Inbound
from connectors.input_text import BadInput, clean_text

from ..clock import utcnow
from ..pipeline.ingest import Ingest
from ..privacy import ConsentBook, PrivacyError, customer
from ..settings import Settings
from ..settings.notifications import CHANNEL_NAMES, NotificationKind
from .channel_choice import Candidate, Choice, order, refusal
from .events import NOTIFICATION_EVENT, event_message_id
from .links import CustomerLinks
from .store import REFUSED, IdempotencyConflict, NewNotification, NotificationRow, Notifications, NotificationView

log = logging.getLogger(__name__)

__all__ = ["NotifyRequest", "Notifier", "InvalidNotification", "IdempotencyConflict", "MAX_VARIABLE"]

#: longest variable value.
MAX_VARIABLE = 500
_MAX_REFERENCE = 64


class InvalidNotification(ValueError):
    """A request that cannot be sent as asked (HTTP 422): ``field`` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class NotifyRequest:
    """One notification, as a brand's system or an operator asks for it.

    Exactly one of ``booking``, ``customer`` (references the customer confirmed in a chat) and
    ``recipient`` (an explicit ``(channel, id)``) names who gets it.
    """

    kind: str
    variables: Mapping[str, str] = field(default_factory=dict)
    booking: str | None = None
    customer: str | None = None
    recipient: tuple[str, str] | None = None
    #: the channel to try first (else the customer's most recent one).
    channel: str | None = None
    #: the language to write in (else the conversation's, else the brand's default).
    language: str | None = None
    #: who asks (``"apikey:<id>"``, ``"cli"``): idempotency keys are per scope.
    scope: str = "cli"
    idempotency_key: str | None = None
    #: a bulk run's id.
    batch: str | None = None


class Notifier:
    """Checks, routes, records and queues notifications.

    Args:
        settings: the validated settings (``notifications``, ``brand.languages``).
        ingest: the inbound queue (a notification is sent by a worker, in the conversation's order).
        connectors: the enabled channels' connectors (eligibility: opt-outs, windows, templates).
        notifications, links, consents: the SQL stores.
    """

    def __init__(
        self,
        settings: Settings,
        ingest: Ingest,
        connectors: Mapping[str, Connector],
        notifications: Notifications,
        links: CustomerLinks,
        consents: ConsentBook,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.config = settings.notifications
        self.ingest = ingest
        self.connectors = connectors
        self.notifications = notifications
        self.links = links
        self.consents = consents
        self.clock = clock

    # -- the request ------------------------------------------------------------------------
    def _kind(self, name: str) -> NotificationKind:
        kind = self.config.kinds.get(name)
        if kind is None:
            configured = sorted(self.config.kinds) or "none: add notifications.kinds to the config"
            raise InvalidNotification("kind", f"unknown kind {name[:64]!r}; configured: {configured}")
        return kind

    def _variables(self, kind_name: str, kind: NotificationKind, given: Mapping[str, str]) -> dict[str, str]:
        unknown = sorted(set(given) - set(kind.variables))
        if unknown:
            name = unknown[0][:64]
            raise InvalidNotification(
                f"variables.{name}", f"is not a variable of {kind_name} (its variables: {kind.variables})"
            )
        out: dict[str, str] = {}
        for name in kind.variables:
            if name not in given:
                raise InvalidNotification(f"variables.{name}", f"is required by {kind_name}")
            try:
                value = clean_text(given[name], field=f"variables.{name}", max_chars=MAX_VARIABLE).strip()
            except BadInput as exc:
                raise InvalidNotification(exc.field, exc.reason) from exc
            if not value:
                raise InvalidNotification(f"variables.{name}", "is empty")
            out[name] = value
        return out

    def _check(self, req: NotifyRequest) -> tuple[NotificationKind, dict[str, str]]:
        kind = self._kind(req.kind)
        variables = self._variables(req.kind, kind, req.variables)
        named = [
            n for n, v in (("booking", req.booking), ("customer", req.customer), ("recipient", req.recipient)) if v
        ]
        if len(named) != 1:
            raise InvalidNotification(
                "recipient", f"give exactly one of booking, customer or recipient (got {named or 'none'})"
            )
        for name, value in (("booking", req.booking), ("customer", req.customer)):
            if value is not None and not (0 < len(value.strip()) <= _MAX_REFERENCE):
                raise InvalidNotification(name, f"must have 1 to {_MAX_REFERENCE} characters")
        if req.language is not None and req.language not in self.settings.brand.languages:
            raise InvalidNotification(
                "language", f"{req.language!r} is not one of {list(self.settings.brand.languages)}"
            )
        if req.channel is not None and req.channel not in CHANNEL_NAMES:
            raise InvalidNotification("channel", f"{req.channel!r} is not one of {list(CHANNEL_NAMES)}")
        return kind, variables

    def _request_hash(self, req: NotifyRequest, variables: Mapping[str, str]) -> str:
        canonical = {
            "kind": req.kind,
            "variables": dict(sorted(variables.items())),
            "booking": req.booking,
            "customer": req.customer,
            "recipient": list(req.recipient) if req.recipient else None,
            "channel": req.channel,
            "language": req.language,
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode("utf-8")).hexdigest()

    # -- the recipient ------------------------------------------------------------------------
    def _candidates(self, req: NotifyRequest) -> tuple[list[Candidate], str | None, str | None]:
        """The customer's identities, and the reference kind and value they were found by."""
        if req.recipient is not None:
            channel, raw_id = req.recipient
            try:
                who = customer(channel, raw_id)
            except PrivacyError as exc:
                raise InvalidNotification("recipient", str(exc)) from exc
            return [Candidate(who.channel, who.id, who.conversation_id)], None, None
        kind, value = ("booking", req.booking) if req.booking is not None else ("customer", req.customer)
        assert value is not None
        reference = value.strip().upper()
        found = self.links.identities(kind, reference)
        return [Candidate(i.channel, i.customer_id, i.conversation_id, i.last_seen_at) for i in found], kind, reference

    def _choose(self, req: NotifyRequest, candidates: list[Candidate], purpose: str) -> Choice:
        tried = order(candidates, req.channel, self.config.fallback_order) if req.recipient is None else candidates
        refusals: list[tuple[Candidate, str]] = []
        for candidate in tried:
            try:
                who = customer(candidate.channel, candidate.customer_id)
            except PrivacyError as exc:  # a link to an id this deployment cannot write to
                refusals.append((candidate, str(exc)))
                continue
            why = refusal(
                self.connectors.get(candidate.channel), candidate, req.kind, purpose, self.consents.current(who)
            )
            if why is None:
                return Choice(candidate, tuple(refusals))
            refusals.append((candidate, why))
        return Choice(None, tuple(refusals))

    # -- sending ------------------------------------------------------------------------------
    def notify(self, req: NotifyRequest) -> NotificationView:
        """Check, route, record and queue one notification.

        Returns:
            What the API shows: ``queued`` (the channel chosen) or ``refused`` with the reason.
            A repeated Idempotency-Key gives the first request's notification, as it is now.

        Raises:
            InvalidNotification: an unknown kind, a missing or unknown variable, no recipient or
                several, a malformed id (HTTP 422, ``field`` named).
            IdempotencyConflict: the key was used for another request.
            StoreUnavailable: Redis or SQL does not answer (nothing is lost: the same call again
                with its Idempotency-Key queues it once).
        """
        kind, variables = self._check(req)
        request_hash = self._request_hash(req, variables)
        candidates, reference_kind, reference = self._candidates(req)
        if not candidates:
            choice = Choice(None)
            reason = f"no customer has confirmed {reference_kind} {reference} in a conversation"
        else:
            choice = self._choose(req, candidates, kind.purpose)
            reason = choice.reason
        chosen = choice.chosen
        target = chosen or (candidates[0] if req.recipient is not None else None)
        row, _created = self.notifications.create(
            NewNotification(
                scope=req.scope,
                idempotency_key=req.idempotency_key,
                request_hash=request_hash,
                kind=req.kind,
                purpose=kind.purpose,
                reference_kind=reference_kind,
                reference=reference,
                channel=target.channel if target else None,
                customer_id=target.customer_id if target else None,
                conversation_id=target.conversation_id if target else None,
                variables=variables,
                language=req.language,
                state="queued" if chosen is not None else REFUSED,
                reason=None if chosen is not None else reason,
                batch=req.batch,
            )
        )
        view = self.notifications.view(row.id)
        assert view is not None
        if view.state == "queued":
            self.enqueue(row)  # again for a repeated request whose queueing failed: the queue dedupes
        elif view.state == REFUSED:
            log.info("notification %s (%s) refused: %s", row.id, row.kind, row.reason)
        return view

    def enqueue(self, row: NotificationRow) -> None:
        """Put a queued notification on its customer's inbound shard (deduped by its id)."""
        assert row.channel and row.customer_id and row.conversation_id
        self.ingest.accept(
            [
                Inbound(
                    channel=row.channel,
                    sender_id=row.customer_id,
                    conversation_id=row.conversation_id,
                    message_id=event_message_id(row.id),
                    kind="event",
                    event=NOTIFICATION_EVENT,
                    payload=row.id,
                    timestamp=self.clock(),
                )
            ]
        )
