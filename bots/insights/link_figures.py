"""Link figures of a period for the insights summary: links sent, human clicks, forwarded clicks.

Pure SQL aggregates over :mod:`bots.links.tables` (grouped by channel, never row by row).
A link counts as *sent* on the day its row was created (one row per URL per reply); a click
counts on the day it happened, under the channel of the link it followed. Days are whole
days in ``tz`` (UTC unless the caller passes the brand's zone), ``end`` inclusive.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, case, func, select

from ..links.tables import link_clicks, links
from .filters import Filters

__all__ = ["link_figures"]


def _bounds(f: Filters, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start 00:00, day after end 00:00) in ``tz``, as UTC instants (what the tables store)."""
    lo = datetime.combine(f.start, time(), tz).astimezone(UTC)
    hi = datetime.combine(f.end + timedelta(days=1), time(), tz).astimezone(UTC)
    return lo, hi


def link_figures(conn: Connection, f: Filters, tz: tzinfo = UTC) -> dict[str, Any]:
    """``{"sent", "clicks", "forwarded_clicks", "by_channel": {channel: {same three}}}`` for ``f``.

    Only ``f.start``, ``f.end`` and ``f.channel`` apply: links carry no language, intent or agent.
    """
    lo, hi = _bounds(f, tz)
    sent_q = select(links.c.channel, func.count()).where(links.c.created_at >= lo, links.c.created_at < hi)
    click_q = (
        select(
            links.c.channel,
            func.count(),
            func.coalesce(func.sum(case((link_clicks.c.forwarded, 1), else_=0)), 0),
        )
        .select_from(link_clicks.join(links, links.c.code == link_clicks.c.code))
        .where(link_clicks.c.at >= lo, link_clicks.c.at < hi)
    )
    if f.channel is not None:
        sent_q = sent_q.where(links.c.channel == f.channel)
        click_q = click_q.where(links.c.channel == f.channel)
    by_channel: dict[str, dict[str, int]] = {}

    def row(channel: str) -> dict[str, int]:
        return by_channel.setdefault(channel, {"sent": 0, "clicks": 0, "forwarded_clicks": 0})

    for channel, n in conn.execute(sent_q.group_by(links.c.channel)):
        row(channel)["sent"] = int(n)
    for channel, n, fwd in conn.execute(click_q.group_by(links.c.channel)):
        row(channel)["clicks"] = int(n)
        row(channel)["forwarded_clicks"] = int(fwd)
    ordered = dict(sorted(by_channel.items()))
    return {
        "sent": sum(r["sent"] for r in ordered.values()),
        "clicks": sum(r["clicks"] for r in ordered.values()),
        "forwarded_clicks": sum(r["forwarded_clicks"] for r in ordered.values()),
        "by_channel": ordered,
    }
