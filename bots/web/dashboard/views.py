"""The dashboard's two routes: the page and the CSV export of one of its tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from ...insights.filters import Filters
from ...staff.web_auth import require_roles
from ..console._shared import CHANNELS
from . import charts
from ._shared import bp, state
from .tables import Kind, Table, TableName, build_tables, to_csv

#: who may read the dashboard (admins always may).
ROLES = ("analyst",)


@dataclass(frozen=True)
class Figures:
    """Everything the page shows for one request's filters."""

    filters: Filters
    current: dict[str, Any]
    previous: Filters
    tables: dict[TableName, Table]


def _figures(f: Filters) -> Figures:
    """The summary of ``f`` and of the period before (two SQL summaries), as the page's tables."""
    st = state()
    now = st.summarize(st.engine, f)
    before = st.summarize(st.engine, f.previous())
    current = now.to_json()
    return Figures(f, current, f.previous(), build_tables(current, now.headline(), now.compare(before)))


def _filters() -> Filters | str:
    """This request's filters, or the message naming the bad parameter."""
    try:
        return Filters.from_query(request.args)
    except ValueError as exc:
        return str(exc)


# -- formatting ------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    """``"42 s"``, ``"3 min 20 s"``, ``"2 h 5 min"``, ``"3 d 4 h"``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    minutes, s = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min {s} s" if s else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def cell(value: Any, kind: Kind, base: Kind = "number") -> str:
    """A table cell as shown on the page (the CSV keeps the raw value); a "change" is of ``base`` values."""
    if value is None:
        return "\u2014"
    if isinstance(value, str) or kind == "text":
        return str(value)
    if kind == "change":
        sign = "+" if value > 0 else "\u2212" if value < 0 else "\u00b1"
        if base == "share":
            return f"{sign}{abs(value) * 100:.1f} pts"
        if base == "seconds":
            return f"{sign}{duration(abs(value))}"
        return f"{sign}{cell(abs(value), base)}"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "share":
        return f"{value * 100:.1f}%"
    if kind == "seconds":
        return duration(value)
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _pct(value: float) -> str:
    return f"{value:.0f}%"


def _charts(fig: Figures) -> dict[str, Markup]:
    c = fig.current
    s = c["sentiment"]
    trend = c["sentiment_trend"]
    links = c["links"]
    by_channel = links.get("by_channel") or {}
    return {
        "sentiment": charts.bar_chart(
            "Sentiment mix (opted-in signals)",
            [
                charts.Bar("positive", float(s["positive"]), "positive"),
                charts.Bar("neutral", float(s["neutral"]), "neutral"),
                charts.Bar("negative", float(s["negative"]), "negative"),
            ],
            x_label="signals",
            y_label="sentiment",
        ),
        "trend": charts.line_chart(
            "Net sentiment by day",
            [str(d["day"])[5:] for d in trend],
            [charts.Series("net (P-N)/(P+N)", [d["net"] for d in trend], "accent")],
            x_label="day (UTC)",
            y_label="net sentiment",
            y_min=-1.0,
            y_max=1.0,
        ),
        "csat": charts.bar_chart(
            "CSAT answers by score",
            [charts.Bar(str(k), float(v or 0)) for k, v in sorted(dict(c["csat"].get("distribution") or {}).items())],
            x_label="answers",
            y_label="score (1-5)",
        ),
        "intents": charts.bar_chart(
            "Top intents",
            [charts.Bar(str(i["intent"]), float(i["count"])) for i in c["top_intents"]],
            x_label="messages",
            y_label="intent",
        ),
        "handoffs": charts.bar_chart(
            "Handoff reasons",
            [
                charts.Bar(str(k), float(v or 0), "neutral")
                for k, v in sorted(dict(c["handoff_reasons"]).items(), key=lambda kv: (-(kv[1] or 0), kv[0]))
            ],
            x_label="conversations",
            y_label="reason",
        ),
        "drivers": charts.bar_chart(
            "Drivers of negative sentiment",
            [
                charts.Bar(
                    f"intent: {d['intent']}" if d.get("intent") is not None else f"phrase: {d.get('phrase', '')}",
                    100.0 * float(d.get("negative_share") or 0),
                    "negative",
                )
                for d in c["drivers"]
            ],
            x_label="share of its signals that are negative",
            y_label="intent or phrase",
            fmt=_pct,
        ),
        "links": charts.bar_chart(
            "Shares per channel (clicks from a forward)",
            [
                charts.Bar(str(ch), float(v.get("forwarded_clicks") or 0) if isinstance(v, Mapping) else 0.0)
                for ch, v in sorted(by_channel.items())
            ],
            x_label="forwarded clicks",
            y_label="channel",
        ),
    }


# -- routes ----------------------------------------------------------------------------------


@bp.get("/")
@require_roles(*ROLES)
def page() -> Any:
    st = state()
    parsed = _filters()
    common = {
        "brand": st.brand,
        "languages": st.languages,
        "channels": CHANNELS,
        "staff_choices": st.staff_choices(),
        "args": request.args,
        "cell": cell,
        "Names": TableName,
    }
    if isinstance(parsed, str):
        return render_template("dashboard/page.html", error=parsed, fig=None, charts={}, **common), 400
    fig = _figures(parsed)
    return render_template(
        "dashboard/page.html",
        error=None,
        fig=fig,
        charts=_charts(fig),
        query=parsed.to_query(),
        share_url=url_for("dashboard.page", _external=True, **parsed.to_query()),
        **common,
    )


@bp.get("/export/<table>.csv")
@require_roles(*ROLES)
def export(table: str) -> Response:
    try:
        name = TableName(table)
    except ValueError:
        abort(404)
    parsed = _filters()
    if isinstance(parsed, str):
        return Response(parsed + "\n", status=400, mimetype="text/plain")
    fig = _figures(parsed)
    filename = f"{name.value}_{parsed.start.isoformat()}_{parsed.end.isoformat()}.csv"
    response = Response(to_csv(fig.tables[name]), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.errorhandler(404)
def _not_found(_exc: Exception) -> Response:
    return Response("no such dashboard table\n", status=404, mimetype="text/plain")
