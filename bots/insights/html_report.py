"""The one-page HTML report: self-contained (inline CSS and SVG charts, no script, no CDN), every
text escaped (redacted customer texts included), the same tables as the terminal and CSV (pure)."""

from __future__ import annotations

from html import escape
from typing import Any

from .report_tables import ReportTable, fmt, report_tables
from .summary import Summary

__all__ = ["render_html", "bar_chart_svg", "trend_svg"]

_COLOURS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828"}

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:70rem}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}.charts figure{margin:0}
figcaption{font-size:.9rem;color:#555}.muted{color:#666;font-size:.85rem}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def bar_chart_svg(title: str, bars: list[tuple[str, float]], width: int = 420, colour: str = "#1565c0") -> str:
    """Horizontal bars, one per (label, value), labels escaped."""
    row, left = 22, 140
    height = max(1, len(bars)) * row + 10
    top = max((v for _, v in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(title)}" viewBox="0 0 {width} {height}">'
    ]
    for i, (label, value) in enumerate(bars):
        y = 5 + i * row
        w = (width - left - 50) * value / top
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="12">{_e(label[:24])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{colour}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 14}" font-size="12">{_e(fmt(value))}</text>'
        )
    if not bars:
        parts.append('<text x="10" y="20" font-size="12">no data</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_svg(trend: list[dict[str, Any]], width: int = 640, height: int = 200) -> str:
    """Stacked daily bars of positive / neutral / negative opted-in message signals."""
    n = max(1, len(trend))
    top = max((d["positive"] + d["neutral"] + d["negative"] for d in trend), default=0) or 1
    plot_h, step = height - 30, (width - 20) / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Sentiment by day" viewBox="0 0 {width} {height}">'
    ]
    for i, d in enumerate(trend):
        x, y = 10 + i * step, plot_h + 5.0
        for label in ("negative", "neutral", "positive"):
            h = plot_h * d[label] / top
            if h > 0:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
                    f'fill="{_COLOURS[label]}"><title>{_e(d["day"])} {label}: {d[label]}</title></rect>'
                )
    if trend:
        parts.append(f'<text x="10" y="{height - 6}" font-size="11">{_e(trend[0]["day"])}</text>')
        parts.append(
            f'<text x="{width - 10}" y="{height - 6}" font-size="11" text-anchor="end">{_e(trend[-1]["day"])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(t: ReportTable) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in t.columns)
    body = []
    for row in t.rows:
        cells = "".join(
            f'<td class="n">{_e(fmt(v))}</td>' if isinstance(v, int | float) else f"<td>{_e(fmt(v))}</td>" for v in row
        )
        body.append(f"<tr>{cells}</tr>")
    rows = "".join(body) or f'<tr><td colspan="{len(t.columns)}" class="muted">none</td></tr>'
    return f"<h2>{_e(t.title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def render_html(now: Summary, change: dict[str, Any] | None = None, title: str = "brandbot report") -> str:
    """The whole page (UTF-8 text)."""
    s = now.to_json()
    period = f"{s['period']['from']} to {s['period']['to']}"
    filters = ", ".join(f"{k}={v}" for k, v in s["filters"].items()) or "none"
    charts = [
        ("Sentiment by day (opted-in message signals)", trend_svg(s["sentiment_trend"])),
        ("CSAT answers by score", bar_chart_svg("CSAT", [(k, float(v)) for k, v in s["csat"]["distribution"].items()])),
        ("Top intents", bar_chart_svg("Top intents", [(d["intent"], float(d["count"])) for d in s["top_intents"]])),
        (
            "Drivers: negative share",
            bar_chart_svg(
                "Drivers",
                [(str(d.get("intent") or d.get("phrase")), d["negative_share"]) for d in s["drivers"]],
                colour=_COLOURS["negative"],
            ),
        ),
    ]
    figures = "".join(f"<figure>{svg}<figcaption>{_e(cap)}</figcaption></figure>" for cap, svg in charts)
    tables = "".join(_table(t) for t in report_tables(now, change))
    definitions = "".join(f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in s["definitions"].items())
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{_e(title)} {_e(period)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}: {_e(period)}</h1><p class='muted'>filters: {_e(filters)}</p>"
        f'<div class="charts">{figures}</div>{tables}'
        f"<h2>Definitions</h2><ul class='muted'>{definitions}</ul></body></html>\n"
    )
