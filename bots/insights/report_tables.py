"""The report's tables, one model for every output (terminal, CSV, HTML), so they always agree (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .summary import Summary

__all__ = ["ReportTable", "report_tables", "fmt"]

Cell = str | int | float | None


@dataclass(frozen=True)
class ReportTable:
    """One table: a file-safe ``name`` (the CSV file), a title, column names and rows."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def fmt(value: Cell) -> str:
    """A cell as text: nothing for null, up to 4 decimals for a fraction."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _overview(now: Summary, change: dict[str, Any] | None) -> ReportTable:
    head = now.headline()
    previous = change["previous"] if change else {}
    delta = change["change"] if change else {}
    rows = tuple((key, value, previous.get(key), delta.get(key)) for key, value in head.items())
    return ReportTable("overview", "Overview", ("figure", "value", "previous", "change"), rows)


def report_tables(now: Summary, change: dict[str, Any] | None = None) -> list[ReportTable]:
    """Every table of the report (``change``: :meth:`Summary.compare` against the previous period)."""
    s = now.to_json()
    sentiment = s["sentiment"]
    csat = s["csat"]
    tables = [
        _overview(now, change),
        ReportTable(
            "sentiment",
            "Sentiment (opted-in message signals)",
            ("label", "count", "share"),
            (
                *(
                    (label, sentiment[label], sentiment[f"share_{label}"])
                    for label in ("positive", "neutral", "negative")
                ),
                ("net", None, sentiment["net"]),
            ),
        ),
        ReportTable(
            "sentiment_trend",
            "Sentiment by day",
            ("day", "positive", "neutral", "negative", "net"),
            tuple((d["day"], d["positive"], d["neutral"], d["negative"], d["net"]) for d in s["sentiment_trend"]),
        ),
        ReportTable(
            "csat",
            f"CSAT (average {fmt(csat['average']) or '-'}, {csat['responses']} answers, "
            f"response rate {fmt(csat['response_rate']) or '-'})",
            ("score", "answers"),
            tuple((score, n) for score, n in csat["distribution"].items()),
        ),
        ReportTable(
            "handoffs",
            "Handoff reasons",
            ("reason", "conversations"),
            tuple(s["handoff_reasons"].items()),
        ),
        ReportTable(
            "times",
            "Times (seconds)",
            ("figure", "median", "p90", "n"),
            tuple(
                (name, t["median"], t["p90"], t["n"])
                for name, t in (
                    ("first human reply", s["time_to_first_human_reply_seconds"]),
                    ("resolution", s["resolution_time_seconds"]),
                )
            ),
        ),
        ReportTable(
            "top_intents",
            "Top intents",
            ("intent", "messages"),
            tuple((d["intent"], d["count"]) for d in s["top_intents"]),
        ),
        ReportTable(
            "drivers",
            "Drivers of negative sentiment",
            ("kind", "driver", "negative_share", "count", "change", "examples"),
            tuple(
                (
                    "intent" if "intent" in d else "phrase",
                    d.get("intent") or d.get("phrase"),
                    d["negative_share"],
                    d["count"],
                    d["change"],
                    " | ".join(d["examples"]),
                )
                for d in s["drivers"]
            ),
        ),
        ReportTable(
            "fallbacks",
            "Fallbacks (redacted)",
            ("text", "count"),
            tuple((d["text"], d["count"]) for d in s["fallbacks"]),
        ),
    ]
    links = s["links"]
    by_channel = links.get("by_channel") or {}
    tables.append(
        ReportTable(
            "links",
            f"Links (sent {links.get('sent', 0)}, clicks {links.get('clicks', 0)}, "
            f"forwarded clicks {links.get('forwarded_clicks', 0)})",
            ("channel", "figures"),
            tuple((str(ch), _flat(v)) for ch, v in by_channel.items()),
        )
    )
    return tables


def _flat(value: Any) -> Cell:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, str | int | float) or value is None:
        return value
    return str(value)
