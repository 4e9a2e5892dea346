"""The dashboard's tables, built from ``Summary.to_json()`` (pure functions), and their CSV form.

The page and the CSV export read the same :class:`Table` objects, so every table on the page
can be downloaded with exactly its figures (``/dashboard/export/<name>.csv``). Cells keep raw
values (shares as fractions, times in seconds); the page formats them by column kind.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Any, Literal

__all__ = [
    "Cell",
    "Column",
    "Table",
    "TableName",
    "build_tables",
    "weekly",
    "forward_rate",
    "to_csv",
    "safe_cell",
]

Cell = str | int | float | None

#: how a column's values are shown: text as is, counts, shares (0-1 as %), plain numbers,
#: seconds (as a duration); "auto": the row's kind (``Table.row_kinds``); "change": a signed
#: difference of two values of the row's kind.
Kind = Literal["text", "count", "share", "number", "seconds", "auto", "change"]


class TableName(Enum):
    """Every table of the dashboard (value: its name in ``/dashboard/export/<name>.csv``)."""

    VOLUMES = "volumes"
    SENTIMENT = "sentiment"
    SENTIMENT_TREND = "sentiment_trend"
    SENTIMENT_WEEKLY = "sentiment_weekly"
    CSAT = "csat"
    CSAT_DISTRIBUTION = "csat_distribution"
    NPS = "nps"
    SERVICE = "service"
    HANDOFF_REASONS = "handoff_reasons"
    TOP_INTENTS = "top_intents"
    FALLBACKS = "fallbacks"
    DRIVERS = "drivers"
    LINKS = "links"
    LINKS_BY_CHANNEL = "links_by_channel"
    COMPARISON = "comparison"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    """A titled grid of cells; ``note`` says where the figures come from (shown on the page)."""

    name: TableName
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    #: per row, the kind of its "auto" and "change" cells (tables whose rows mix kinds).
    row_kinds: tuple[Kind, ...] = field(default=())

    def kind_at(self, row: int, column: int) -> Kind:
        """How the cell at (``row``, ``column``) is shown."""
        kind = self.columns[column].kind
        if kind == "auto":
            return self.row_kinds[row] if self.row_kinds else "number"
        return kind

    def base_kind(self, row: int) -> Kind:
        """The kind of ``row``'s values (what a "change" cell is a difference of)."""
        return self.row_kinds[row] if self.row_kinds else "number"


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def forward_rate(clicks: Any, forwarded: Any) -> float | None:
    """The estimated forward rate: clicks that came from a forward, over all clicks (None: no clicks)."""
    c, f = _number(clicks), _number(forwarded)
    if not c or f is None:
        return None
    return f / c


def _figures(name: TableName, title: str, items: Sequence[tuple[str, Cell, Kind]], note: str = "") -> Table:
    """A two-column figure/value table whose value cells each have their own kind."""
    return Table(
        name=name,
        title=title,
        columns=(Column("figure"), Column("value", "auto")),
        rows=tuple((label, value) for label, value, _ in items),
        note=note,
        row_kinds=tuple(kind for _, _, kind in items),
    )


def _timing(prefix: str, t: Mapping[str, Any]) -> list[tuple[str, Cell, Kind]]:
    return [
        (f"{prefix}: median", _number(t.get("median")), "seconds"),
        (f"{prefix}: 90th percentile", _number(t.get("p90")), "seconds"),
        (f"{prefix}: conversations measured", _number(t.get("n")), "count"),
    ]


def _signals_note(s: Mapping[str, Any]) -> str:
    coverage = _number(s.get("coverage"))
    share = f"{coverage * 100:.1f}%" if coverage is not None else "an unknown share"
    return (
        f"From opted-in signals only: {s.get('signals', 0)} signals from customers who agreed to feedback "
        f"analytics, covering {share} of the period's conversations."
    )


def _links_by_channel(by_channel: Any) -> tuple[tuple[Cell, ...], ...]:
    rows: list[tuple[Cell, ...]] = []
    if not isinstance(by_channel, Mapping):
        return ()
    for channel, value in sorted(by_channel.items()):
        if isinstance(value, Mapping):
            sent, clicks, fwd = value.get("sent"), value.get("clicks"), value.get("forwarded_clicks")
        else:
            sent, clicks, fwd = value, None, None
        rows.append((str(channel), _number(sent), _number(clicks), _number(fwd), forward_rate(clicks, fwd)))
    return tuple(rows)


def _net(positive: int, negative: int) -> float | None:
    return round((positive - negative) / (positive + negative), 4) if positive + negative else None


def weekly(trend: Iterable[Mapping[str, Any]]) -> tuple[tuple[Cell, ...], ...]:
    """The daily sentiment trend summed per ISO week (Monday first), net recomputed from the sums."""
    weeks: dict[date, list[int]] = {}
    for d in trend:
        day = date.fromisoformat(str(d["day"]))
        sums = weeks.setdefault(day - timedelta(days=day.weekday()), [0, 0, 0])
        for i, key in enumerate(("positive", "neutral", "negative")):
            sums[i] += int(d[key] or 0)
    return tuple((monday.isoformat(), p, n0, n, _net(p, n)) for monday, (p, n0, n) in sorted(weeks.items()))


def _drivers(drivers: Iterable[Mapping[str, Any]]) -> tuple[tuple[Cell, ...], ...]:
    rows = []
    for d in drivers:
        kind = "intent" if d.get("intent") is not None else "phrase"
        examples = d.get("examples") or []
        rows.append(
            (
                kind,
                str(d.get("intent") if kind == "intent" else d.get("phrase", "")),
                _number(d.get("negative_share")),
                _number(d.get("count")),
                _number(d.get("change")),
                " | ".join(str(e) for e in examples),
            )
        )
    return tuple(rows)


def build_tables(
    current: Mapping[str, Any], headline: Mapping[str, Any], comparison: Mapping[str, Any]
) -> dict[TableName, Table]:
    """Every table of the page from the period's summary and its comparison with the period before.

    Args:
        current: ``Summary.to_json()`` of the chosen period and filters.
        headline: ``Summary.headline()`` of the same summary (the compared figures).
        comparison: ``summary.compare(previous_summary)``: ``{"previous": {...}, "change": {...}}``.
    """
    note = _signals_note(current)
    s = current["sentiment"]
    csat = current["csat"]
    nps = current.get("nps")
    links = current["links"]
    tables = [
        _figures(
            TableName.VOLUMES,
            "Volumes",
            [
                ("Conversations", _number(current["conversations"]), "count"),
                ("Messages", _number(current["messages"]), "count"),
                ("Opted-in sentiment signals", _number(current["signals"]), "count"),
                ("Coverage (share of conversations whose customer opted in)", _number(current["coverage"]), "share"),
            ],
            "Conversations and messages count everyone; signals count only customers who opted in.",
        ),
        Table(
            TableName.SENTIMENT,
            "Sentiment mix",
            (Column("sentiment"), Column("signals", "count"), Column("share including neutral", "auto")),
            (
                ("positive", _number(s["positive"]), _number(s["share_positive"])),
                ("neutral", _number(s["neutral"]), _number(s["share_neutral"])),
                ("negative", _number(s["negative"]), _number(s["share_negative"])),
                ("net sentiment (P-N)/(P+N)", None, _number(s["net"])),
            ),
            note,
            row_kinds=("share", "share", "share", "number"),
        ),
        Table(
            TableName.SENTIMENT_TREND,
            "Sentiment by day",
            (
                Column("day"),
                Column("positive", "count"),
                Column("neutral", "count"),
                Column("negative", "count"),
                Column("net", "number"),
            ),
            tuple(
                (
                    str(d["day"]),
                    _number(d["positive"]),
                    _number(d["neutral"]),
                    _number(d["negative"]),
                    _number(d["net"]),
                )
                for d in current["sentiment_trend"]
            ),
            note,
        ),
        Table(
            TableName.SENTIMENT_WEEKLY,
            "Sentiment by week (weeks start on Monday; the first and last may be partial)",
            (
                Column("week of"),
                Column("positive", "count"),
                Column("neutral", "count"),
                Column("negative", "count"),
                Column("net", "number"),
            ),
            weekly(current["sentiment_trend"]),
            note,
        ),
        _figures(
            TableName.CSAT,
            "CSAT",
            [
                ("Average (1-5)", _number(csat["average"]), "number"),
                ("Responses", _number(csat["responses"]), "count"),
                ("Response rate", _number(csat["response_rate"]), "share"),
            ],
            note,
        ),
        Table(
            TableName.CSAT_DISTRIBUTION,
            "CSAT answers by score",
            (Column("score"), Column("responses", "count")),
            tuple((str(k), _number(v)) for k, v in sorted(dict(csat.get("distribution") or {}).items())),
            note,
        ),
        _figures(
            TableName.NPS,
            "NPS",
            []
            if not isinstance(nps, Mapping)
            else [
                ("Score (-100 to 100)", _number(nps.get("score")), "number"),
                ("Responses", _number(nps.get("responses")), "count"),
            ],
            note if isinstance(nps, Mapping) else "No NPS answers in this period (or NPS is not asked).",
        ),
        _figures(
            TableName.SERVICE,
            "Service",
            [
                ("Containment (resolved without a person)", _number(current["containment_rate"]), "share"),
                ("Handoff rate", _number(current["handoff_rate"]), "share"),
                *_timing("Time to first human reply", current["time_to_first_human_reply_seconds"]),
                *_timing("Resolution time (first message to resolved)", current["resolution_time_seconds"]),
            ],
            "Waiting for a person and the time to resolve are measured separately: bot time and human time "
            "are never added together.",
        ),
        Table(
            TableName.HANDOFF_REASONS,
            "Handoff reasons",
            (Column("reason"), Column("conversations", "count")),
            tuple(
                (str(k), _number(v))
                for k, v in sorted(dict(current["handoff_reasons"]).items(), key=lambda kv: (-(kv[1] or 0), kv[0]))
            ),
        ),
        Table(
            TableName.TOP_INTENTS,
            "Top intents",
            (Column("intent"), Column("messages", "count")),
            tuple((str(i["intent"]), _number(i["count"])) for i in current["top_intents"]),
            "Inbound messages of every customer by the intent the bot understood (no person behind a count).",
        ),
        Table(
            TableName.FALLBACKS,
            "Top misunderstood messages (fallbacks, redacted)",
            (Column("text"), Column("times", "count")),
            tuple((str(i["text"]), _number(i["count"])) for i in current["fallbacks"]),
            note,
        ),
        Table(
            TableName.DRIVERS,
            "Drivers of negative sentiment",
            (
                Column("kind"),
                Column("intent or phrase"),
                Column("negative share", "share"),
                Column("signals", "count"),
                Column("change vs previous period", "change"),
                Column("examples (redacted)"),
            ),
            _drivers(current["drivers"]),
            note,
        ),
        _figures(
            TableName.LINKS,
            "Tracked links (dark social)",
            [
                ("Links sent", _number(links.get("sent")), "count"),
                ("Clicks", _number(links.get("clicks")), "count"),
                ("Clicks from a forward", _number(links.get("forwarded_clicks")), "count"),
                ("Estimated forward rate", forward_rate(links.get("clicks"), links.get("forwarded_clicks")), "share"),
            ],
            "Estimated forward rate = clicks after the first one, by someone other than the recipient, over all "
            "clicks: private sharing that web analytics files as direct traffic.",
        ),
        Table(
            TableName.LINKS_BY_CHANNEL,
            "Shares per channel",
            (
                Column("channel"),
                Column("links sent", "count"),
                Column("clicks", "count"),
                Column("forwarded clicks", "count"),
                Column("forward rate", "share"),
            ),
            _links_by_channel(links.get("by_channel")),
        ),
        _comparison(current, headline, comparison),
    ]
    return {t.name: t for t in tables}


#: the comparison's figures as the page names them (``Summary.headline()`` keys).
COMPARED: dict[str, tuple[str, Kind]] = {
    "conversations": ("Conversations", "count"),
    "messages": ("Messages", "count"),
    "signals": ("Opted-in signals", "count"),
    "coverage": ("Coverage", "share"),
    "net_sentiment": ("Net sentiment (P-N)/(P+N)", "number"),
    "share_negative": ("Share negative (including neutral)", "share"),
    "csat_average": ("CSAT average", "number"),
    "csat_responses": ("CSAT responses", "count"),
    "nps": ("NPS", "number"),
    "containment_rate": ("Containment", "share"),
    "handoff_rate": ("Handoff rate", "share"),
    "time_to_first_human_reply_median": ("Time to first human reply (median)", "seconds"),
    "resolution_time_median": ("Resolution time (median)", "seconds"),
    "link_clicks": ("Link clicks", "count"),
}


def _comparison(current: Mapping[str, Any], headline: Mapping[str, Any], comparison: Mapping[str, Any]) -> Table:
    """This period, the previous one and the change, per headline figure (``Summary.compare``)."""
    before = comparison.get("previous") or {}
    change = comparison.get("change") or {}
    rows: list[tuple[Cell, ...]] = []
    kinds: list[Kind] = []
    for key, delta in change.items():
        label, kind = COMPARED.get(key, (str(key), "number"))
        rows.append((label, _number(headline.get(key)), _number(before.get(key)), _number(delta)))
        kinds.append(kind)
    p, q = current["period"], before.get("period") or {}
    return Table(
        TableName.COMPARISON,
        f"This period ({p['from']} to {p['to']}) against the one before ({q.get('from')} to {q.get('to')})",
        (
            Column("figure"),
            Column("this period", "auto"),
            Column("previous period", "auto"),
            Column("change", "change"),
        ),
        tuple(rows),
        "Change = this period minus the previous one (shares in percentage points; the CSV keeps fractions).",
        row_kinds=tuple(kinds),
    )


#: a CSV cell starting with one of these is a formula to a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Cell) -> Cell:
    """A text cell a spreadsheet will not run: a leading ``= + - @`` (or tab/CR) gets a ``'`` before it."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> str:
    """The table as CSV (RFC 4180 quoting, CRLF lines, a header row; text cells made formula-safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([c.name for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return buffer.getvalue()
