"""The report's main charts as one PNG (matplotlib's object API on the Agg canvas: no display,
no global pyplot state, safe in any process)."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .summary import Summary

__all__ = ["render_png"]

_COLOURS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828"}


def render_png(now: Summary, dpi: int = 100) -> bytes:
    """Sentiment by day, CSAT answers by score, top intents and drivers, on one 12x8 inch image."""
    s = now.to_json()
    fig = Figure(figsize=(12, 8), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(f"brandbot report {s['period']['from']} to {s['period']['to']}")
    trend, csat, intents, drivers = fig.subplots(2, 2).flat

    days = [d["day"][5:] for d in s["sentiment_trend"]]
    bottom = [0] * len(days)
    for label in ("negative", "neutral", "positive"):
        values = [d[label] for d in s["sentiment_trend"]]
        trend.bar(days, values, bottom=bottom, color=_COLOURS[label], label=label)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    trend.set_title("Sentiment by day (opted-in message signals)")
    trend.legend(loc="upper left", fontsize="small")
    trend.tick_params(axis="x", labelrotation=90, labelsize=7)
    for counts in (trend.yaxis, csat.yaxis, intents.xaxis):
        counts.set_major_locator(MaxNLocator(integer=True))

    dist = s["csat"]["distribution"]
    csat.bar(list(dist), list(dist.values()), color="#1565c0")
    csat.set_title(
        f"CSAT answers by score (average {s['csat']['average'] if s['csat']['average'] is not None else '-'})"
    )

    names = [d["intent"] for d in s["top_intents"]][::-1]
    intents.barh(names, [d["count"] for d in s["top_intents"]][::-1], color="#1565c0")
    intents.set_title("Top intents")

    labels = [str(d.get("intent") or d.get("phrase")) for d in s["drivers"]][::-1]
    drivers.barh(labels, [d["negative_share"] for d in s["drivers"]][::-1], color=_COLOURS["negative"])
    drivers.set_xlim(0, 1)
    drivers.set_title("Drivers: negative share")

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
