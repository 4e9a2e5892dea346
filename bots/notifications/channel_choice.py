"""Which of a customer's channels a notification goes to, and why the others cannot take it.

``order`` is pure: the channel the brand asked for first, then the customer's most recent one,
then the configured fallback order. ``refusal`` asks each candidate's connector and the consent
book whether the message may go there now:

- the channel is on in this deployment;
- the customer can be reached on it (:class:`~connectors.base.Reachable`: an SMS number that
  texted STOP, a Telegram chat that blocked the bot);
- inside the reply window, or outside it with an approved template for the kind (WhatsApp);
  Messenger and Instagram have no template: a closed window refuses;
- the purpose: ``marketing`` needs the customer's consent, ``service`` is sent unless they
  withdrew ``service_updates`` ("stop messaging me", STOP).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from connectors.base import Connector, Reachable

from ..desk.window import ReplyWindow, template_kinds
from ..privacy import ConsentState

__all__ = ["Candidate", "order", "refusal", "Choice"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A channel identity of the customer: where a notification could go."""

    channel: str
    customer_id: str
    conversation_id: str
    last_seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """Where the notification goes (None: nowhere), and why each candidate before it was skipped."""

    chosen: Candidate | None
    refusals: tuple[tuple[Candidate, str], ...] = ()

    @property
    def reason(self) -> str:
        """The refusals as one line (for ``refused`` notifications), ``" | "`` between channels:
        a connector's own reason may hold "; " ("...opted out (keyword 'STOP'); nothing is sent...")."""
        return " | ".join(f"{c.channel}: {why}" for c, why in self.refusals) or "no channel to send it to"


def order(candidates: Sequence[Candidate], preferred: str | None, fallback: Sequence[str]) -> list[Candidate]:
    """The candidates in the order they are tried.

    The ``preferred`` channel's first (most recent first), then the most recent identity of all,
    then the others in ``fallback`` order (most recent first within a channel). Channels not
    in ``fallback`` are never tried unless preferred: a brand lists where it may write first.
    An identity never seen (no ``last_seen_at``) is never "the most recent": when none was
    seen, the fallback order alone decides, not the order the candidates were given in.
    """
    by_recency = sorted(candidates, key=lambda c: c.last_seen_at.timestamp() if c.last_seen_at else 0.0, reverse=True)
    out: list[Candidate] = [c for c in by_recency if preferred is not None and c.channel == preferred]
    allowed = [c for c in by_recency if c.channel in fallback and c not in out]
    if allowed and allowed[0].last_seen_at is not None:
        out.append(allowed[0])
    rank = {channel: i for i, channel in enumerate(fallback)}
    rest = sorted((c for c in allowed if c not in out), key=lambda c: rank[c.channel])
    return out + rest


def refusal(
    connector: Connector | None,
    candidate: Candidate,
    kind: str,
    purpose: str,
    consents: Mapping[str, ConsentState],
) -> str | None:
    """Why ``kind`` cannot go to ``candidate`` now, or None when it can.

    Args:
        connector: the channel's connector (None: the channel is off here).
        consents: the customer's consent answers in force, per purpose.
    """
    if connector is None:
        return "the channel is not enabled in this deployment"
    if isinstance(connector, Reachable) and (why := connector.unreachable(candidate.customer_id)):
        return why
    closed = isinstance(connector, ReplyWindow) and not connector.window_open(candidate.customer_id)
    if closed and kind not in template_kinds(connector):
        return f"outside the 24-hour window and no approved template for {kind!r}"
    if purpose == "marketing":
        answer = consents.get("marketing")
        if answer is None or not answer.granted:
            return "no consent to marketing messages" if answer is None else "withdrew consent to marketing messages"
    else:
        answer = consents.get("service_updates")
        if answer is not None and not answer.granted:
            return f"opted out of service updates on {answer.at:%Y-%m-%d}"
    return None
