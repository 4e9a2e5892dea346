"""Server-made SVG charts: horizontal bars and lines, with a title, axis labels and every text escaped.

The dashboard draws its charts on the server so they render offline, without a CDN or a
script, and under the console's strict Content-Security-Policy (presentation attributes and
CSS classes only, no inline ``style``). Pure functions: data in, :class:`markupsafe.Markup`
out (already escaped, so Jinja inserts it as is). Every label comes from data that may hold
customer words (an intent name, a fallback text), so each one goes through
:func:`markupsafe.escape`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape

__all__ = ["Bar", "Series", "Tone", "bar_chart", "line_chart", "nice_ceiling"]

#: a colour family (CSS class ``tone-<name>`` in dashboard.css).
Tone = Literal["plain", "positive", "neutral", "negative", "accent"]

#: longest label drawn (longer ones end in an ellipsis; the full text is the bar's tooltip).
MAX_LABEL = 28


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (>= 0) and its colour family."""

    label: str
    value: float
    tone: Tone = "accent"


@dataclass(frozen=True)
class Series:
    """One line: a value per x position (None: no point there) and its colour family."""

    name: str
    values: Sequence[float | None]
    tone: Tone = "accent"


def _num(value: float) -> str:
    """A coordinate with at most one decimal (short, stable SVG)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "\u2026"


def _default_format(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= ``value`` (1 for 0 or less)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10.0 * power  # pragma: no cover - the loop ends at 10


def _divisions(top: float, whole: bool) -> int:
    """How many tick intervals split ``0..top`` into round steps (whole steps for counts)."""
    for parts in (4, 5, 2):
        step = top / parts
        if whole and abs(step - round(step)) < 1e-9 and step >= 1:
            return parts
        if not whole and abs(step * 100 - round(step * 100)) < 1e-6:
            return parts
    return 1


def _open(kind: str, title: str, width: int, height: int, extra: str = "") -> list[str]:
    t = escape(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{t}"{extra}>',
        f"<title>{t}</title>",
        f'<text class="chart-title" x="{width // 2}" y="18" text-anchor="middle">{t}</text>',
    ]


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    *,
    x_label: str,
    y_label: str,
    width: int = 560,
    bar_height: int = 22,
    fmt: Callable[[float], str] = _default_format,
) -> Markup:
    """Horizontal bars, one row per :class:`Bar`, with value ticks along the x axis.

    Args:
        title: drawn above the chart and read out by screen readers.
        bars: the rows, top to bottom (negative values are drawn as 0).
        x_label: what the bars measure (under the x axis).
        y_label: what the rows are (along the left side).
        width: the SVG's width in pixels; the height follows the number of bars.
        bar_height: the height of a row.
        fmt: how a value is written at the end of its bar and on the ticks.
    """
    left, right, top, bottom = 210, 60, 34, 46
    plot_w = width - left - right
    rows = max(len(bars), 1)
    plot_h = rows * bar_height
    height = top + plot_h + bottom
    top_value = nice_ceiling(max((b.value for b in bars), default=0.0))
    whole = all(math.isfinite(b.value) and b.value == int(b.value) for b in bars)
    if whole and top_value < 1:
        top_value = 1.0
    parts = _divisions(top_value, whole)
    out = _open("bars", title, width, height, f' data-bars="{len(bars)}"')
    for i in range(parts + 1):
        value = top_value * i / parts
        x = left + plot_w * i / parts
        out.append(
            f'<line class="chart-grid" x1="{_num(x)}" y1="{top}" x2="{_num(x)}" y2="{top + plot_h}"/>'
            f'<text class="chart-tick" x="{_num(x)}" y="{top + plot_h + 14}" text-anchor="middle">'
            f"{escape(fmt(value))}</text>"
        )
    if not bars:
        out.append(
            f'<text class="chart-empty" x="{left + plot_w // 2}" y="{top + plot_h // 2 + 4}" '
            f'text-anchor="middle">No data for these filters</text>'
        )
    for i, bar in enumerate(bars):
        value = max(bar.value, 0.0) if math.isfinite(bar.value) else 0.0
        y = top + i * bar_height
        w = plot_w * value / top_value
        label = escape(bar.label)
        out.append(
            f'<g class="chart-bar tone-{bar.tone}">'
            f"<title>{label}: {escape(fmt(value))}</title>"
            f'<text class="chart-label" x="{left - 8}" y="{_num(y + bar_height * 0.68)}" '
            f'text-anchor="end">{escape(_short(bar.label))}</text>'
            f'<rect class="bar" x="{left}" y="{_num(y + 3)}" width="{_num(w)}" height="{bar_height - 6}" '
            f'data-value="{escape(fmt(value))}"/>'
            f'<text class="chart-value" x="{_num(left + w + 6)}" y="{_num(y + bar_height * 0.68)}">'
            f"{escape(fmt(value))}</text></g>"
        )
    out.append(f'<line class="chart-axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>')
    out.append(f'<line class="chart-axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>')
    out.append(
        f'<text class="chart-axis-label" x="{left + plot_w // 2}" y="{height - 8}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text class="chart-axis-label" x="14" y="{top + plot_h // 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h // 2})">{escape(y_label)}</text>'
    )
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(
    title: str,
    x_values: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    y_min: float | None = None,
    y_max: float | None = None,
    width: int = 560,
    height: int = 260,
    fmt: Callable[[float], str] = _default_format,
) -> Markup:
    """Lines over ordered x positions (days), a legend, a zero line when the range crosses 0.

    Args:
        title: drawn above the chart and read out by screen readers.
        x_values: the x positions' labels, in order (at most about eight are written).
        series: the lines; each has one value (or None) per x position.
        x_label: what the x axis is.
        y_label: what the values are.
        y_min: the bottom of the y axis (default: the smallest value, or 0).
        y_max: the top of the y axis (default: a round number above the largest value).
        width: the SVG's width in pixels.
        height: the SVG's height in pixels.
        fmt: how values are written on the y ticks.
    """
    left, right, top, bottom = 56, 20, 34 + 16 * max(len(series), 1), 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    low = y_min if y_min is not None else min([0.0, *values])
    high = y_max if y_max is not None else nice_ceiling(max([0.0, *values]))
    if high <= low:
        high = low + 1.0
    n = len(x_values)

    def x_at(i: int) -> float:
        return left + (plot_w / 2 if n <= 1 else plot_w * i / (n - 1))

    def y_at(v: float) -> float:
        return top + plot_h * (high - v) / (high - low)

    out = _open("line", title, width, height, f' data-points="{n}"')
    for i in range(5):
        v = low + (high - low) * i / 4
        y = y_at(v)
        out.append(
            f'<line class="chart-grid" x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}"/>'
            f'<text class="chart-tick" x="{left - 6}" y="{_num(y + 4)}" text-anchor="end">{escape(fmt(v))}</text>'
        )
    if low < 0 < high:
        y0 = _num(y_at(0.0))
        out.append(f'<line class="chart-zero" x1="{left}" y1="{y0}" x2="{left + plot_w}" y2="{y0}"/>')
    step = max(1, math.ceil(n / 8))
    for i, label in enumerate(x_values):
        if i % step == 0 or i == n - 1:
            out.append(
                f'<text class="chart-tick" x="{_num(x_at(i))}" y="{top + plot_h + 14}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    if not values:
        out.append(
            f'<text class="chart-empty" x="{left + plot_w // 2}" y="{top + plot_h // 2}" '
            f'text-anchor="middle">No data for these filters</text>'
        )
    for k, s in enumerate(series):
        ly = 34 + 16 * k
        out.append(
            f'<g class="chart-legend tone-{s.tone}"><rect class="swatch" x="{left}" y="{ly - 9}" width="12" '
            f'height="10"/><text x="{left + 18}" y="{ly}">{escape(s.name)}</text></g>'
        )
        points = [(x_at(i), y_at(v), v) for i, v in enumerate(s.values[:n]) if v is not None and math.isfinite(v)]
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y, _ in points)
        out.append(f'<g class="chart-series tone-{s.tone}" data-series="{escape(s.name)}">')
        if len(points) > 1:
            out.append(f'<polyline class="line" points="{path}"/>')
        for x, y, v in points:
            out.append(
                f'<circle class="dot" cx="{_num(x)}" cy="{_num(y)}" r="3"><title>{escape(fmt(v))}</title></circle>'
            )
        out.append("</g>")
    out.append(f'<line class="chart-axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>')
    out.append(f'<line class="chart-axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>')
    out.append(
        f'<text class="chart-axis-label" x="{left + plot_w // 2}" y="{height - 8}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    mid = top + plot_h // 2
    out.append(
        f'<text class="chart-axis-label" x="14" y="{mid}" text-anchor="middle" '
        f'transform="rotate(-90 14 {mid})">{escape(y_label)}</text>'
    )
    out.append("</svg>")
    return Markup("".join(out))
