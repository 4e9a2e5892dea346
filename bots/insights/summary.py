"""The insights summary of a period: every figure an SQL aggregate (``GROUP BY``), never raw rows.

Python only receives grouped results (one row per day, intent, score, reason, distinct redacted
text or percentile rank) and the few redacted examples a driver shows. Signal counts (sentiment,
trend, intent shares, CSAT, NPS) come from the daily rollup ``feedback_daily``
(:mod:`bots.insights.rollup`, kept in step with every signal written); key phrases and driver
examples from the period's latest 20,000 redacted texts (grouped in SQL); fallbacks from all of
the period's out-of-scope texts.

Definitions (also in the report JSON, key ``definitions``):

- conversations: the conversations started in the period (``conversations.created_at``);
- messages: transcript rows (in and out) in the period, of conversations matching the filters;
- signals: opted-in per-message feedback signals (``feedback_signals`` kind ``message``) in the period;
- coverage: share of the period's conversations whose customer had ``feedback_analytics``
  granted as of the end of the period (the latest ``consent_events`` row before it);
- sentiment: opted-in message signals by label; net = (P - N) / (P + N); shares include neutrals;
- csat: opted-in answers (average, 1-5 distribution); response rate = all answers (opted-in
  signals plus counts-only answers of customers without consent) / conversations;
- nps: % promoters (9-10) - % detractors (0-6) of opted-in answers, null without answers;
- containment rate: conversations never handed to a person (no ``mode:waiting`` nor ``mode:human``
  audit row) / all; handoff rate: those handed over / all; reasons by ``handoff_reason``
  (a direct takeover has none: "takeover");
- time to first human reply: from the first handover (the first ``mode:waiting`` / ``mode:human``
  audit row, i.e. ``waiting_since`` or the mode-change time) to the first staff message after it;
- resolution time: from the conversation's first message to ``resolved_at``; bot time and human
  time are separate figures, never mixed;
- percentiles: nearest rank over one duration per conversation (median = p50);
- drivers: intents ranked by negative share among opted-in message signals (at least 3), and
  key phrases of the redacted texts most associated with negative sentiment, with up to 3
  redacted examples and the change of negative share since the previous period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Engine,
    and_,
    case,
    cast,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from nlu.result import OUT_OF_SCOPE

from ..privacy.tables import consent_events, feedback_counts, feedback_signals
from ..stores.models import audit_log, conversations, messages
from .filters import Filters
from .link_figures import link_figures
from .phrases import phrase_stats, rank_phrases
from .rollup import NO_SCORE, feedback_daily, label_sql

__all__ = ["Summary", "summarize", "summarize_with_previous", "DEFINITIONS", "MIN_DRIVER_COUNT"]

#: a driver needs at least this many signals (intent) or messages (phrase).
MIN_DRIVER_COUNT = 3
#: how many drivers of each kind, top intents and fallbacks a summary lists.
TOP = 10
#: key phrases and driver examples come from the period's latest texts, at most this many.
PHRASE_TEXTS = 20_000
#: the audit actions that hand a conversation to a person.
HANDOVER_ACTIONS = ("mode:waiting", "mode:human")

DEFINITIONS: dict[str, str] = {
    "conversations": "conversations started in the period",
    "messages": "transcript messages (in and out) in the period",
    "signals": "opted-in per-message feedback signals in the period",
    "coverage": "share of the period's conversations whose customer had feedback_analytics granted "
    "as of the end of the period",
    "net_sentiment": "(positive - negative) / (positive + negative) over opted-in message signals; "
    "shares include neutrals",
    "csat.response_rate": "all CSAT answers (opted-in and counts-only) / conversations",
    "nps": "% promoters (9-10) - % detractors (0-6), opted-in answers",
    "containment_rate": "conversations never handed to a person / all conversations",
    "handoff_rate": "conversations handed to a person / all conversations",
    "time_to_first_human_reply": "first handover (waiting_since or mode-change time) to the first staff message",
    "resolution_time": "first message to resolved_at",
    "percentiles": "nearest rank over one value per conversation",
    "drivers": "intents and key phrases by negative share of opted-in message signals (min count 3), "
    "change = negative share minus the previous period's; phrases from the period's latest 20000 texts",
}


@dataclass(frozen=True)
class Summary:
    """The figures of one period (see the module docstring for each definition)."""

    filters: Filters
    conversations: int
    messages: int
    signals: int
    coverage: float | None
    sentiment: dict[str, Any]
    sentiment_trend: list[dict[str, Any]]
    csat: dict[str, Any]
    nps: dict[str, Any] | None
    containment_rate: float | None
    handoff_rate: float | None
    handoff_reasons: dict[str, int]
    time_to_first_human_reply_seconds: dict[str, Any]
    resolution_time_seconds: dict[str, Any]
    top_intents: list[dict[str, Any]]
    fallbacks: list[dict[str, Any]]
    drivers: list[dict[str, Any]]
    links: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data (the keys the dashboard and ``report --json`` use)."""
        f = self.filters
        return {
            "period": {"from": f.start.isoformat(), "to": f.end.isoformat()},
            "filters": {k: v for k, v in f.to_query().items() if k not in ("from", "to")},
            "conversations": self.conversations,
            "messages": self.messages,
            "signals": self.signals,
            "coverage": self.coverage,
            "sentiment": dict(self.sentiment),
            "sentiment_trend": [dict(d) for d in self.sentiment_trend],
            "csat": {**self.csat, "distribution": dict(self.csat["distribution"])},
            "nps": None if self.nps is None else dict(self.nps),
            "containment_rate": self.containment_rate,
            "handoff_rate": self.handoff_rate,
            "handoff_reasons": dict(self.handoff_reasons),
            "time_to_first_human_reply_seconds": dict(self.time_to_first_human_reply_seconds),
            "resolution_time_seconds": dict(self.resolution_time_seconds),
            "top_intents": [dict(d) for d in self.top_intents],
            "fallbacks": [dict(d) for d in self.fallbacks],
            "drivers": [dict(d, examples=list(d["examples"])) for d in self.drivers],
            "links": dict(self.links),
            "definitions": dict(DEFINITIONS),
        }

    def headline(self) -> dict[str, float | int | None]:
        """The scalar figures compared between periods."""
        return {
            "conversations": self.conversations,
            "messages": self.messages,
            "signals": self.signals,
            "coverage": self.coverage,
            "net_sentiment": self.sentiment["net"],
            "share_negative": self.sentiment["share_negative"],
            "csat_average": self.csat["average"],
            "csat_responses": self.csat["responses"],
            "nps": None if self.nps is None else self.nps["score"],
            "containment_rate": self.containment_rate,
            "handoff_rate": self.handoff_rate,
            "time_to_first_human_reply_median": self.time_to_first_human_reply_seconds["median"],
            "resolution_time_median": self.resolution_time_seconds["median"],
            "link_clicks": self.links.get("clicks"),
        }

    def compare(self, previous: Summary) -> dict[str, Any]:
        """Period-over-period: ``{"previous": {period, figures}, "change": {figure: this - previous}}``
        (a change is null when either side is null)."""
        now, before = self.headline(), previous.headline()
        change: dict[str, float | int | None] = {}
        for key, value in now.items():
            old = before[key]
            if value is None or old is None:
                change[key] = None
            elif isinstance(value, int) and isinstance(old, int):
                change[key] = value - old
            else:
                change[key] = round(float(value) - float(old), 4)
        pf = previous.filters
        return {
            "previous": {"period": {"from": pf.start.isoformat(), "to": pf.end.isoformat()}, **before},
            "change": change,
        }


# --- SQL pieces -------------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _day(conn: Connection, column: Any) -> ColumnElement[Any]:
    """The UTC day of a timestamp column."""
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.substr(column, 1, 10)  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC


def _seconds(conn: Connection, start: Any, end: Any) -> ColumnElement[Any]:
    """``end - start`` in seconds."""
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _conv_where(f: Filters) -> list[ColumnElement[bool]]:
    """The conversation filters (period by ``created_at``, channel, language, agent)."""
    c = conversations.c
    where: list[ColumnElement[bool]] = [c.created_at >= f.since, c.created_at < f.until]
    if f.channel is not None:
        where.append(c.channel == f.channel)
    if f.language is not None:
        where.append(c.language == f.language)
    if f.agent is not None:
        where.append(c.assigned_to == f.agent)
    return where


def _signal_where(f: Filters, kind: str | None) -> list[ColumnElement[bool]]:
    """The signal filters; ``kind`` "message" also narrows to the intent (None: any kind)."""
    s = feedback_signals.c
    where: list[ColumnElement[bool]] = [s.at >= f.since, s.at < f.until]
    if kind is not None:
        where.append(s.kind == kind)
    if f.channel is not None:
        where.append(s.channel == f.channel)
    if f.language is not None:
        where.append(s.language == f.language)
    if kind == "message" and f.message_intent is not None:
        where.append(s.intent == f.message_intent)
    return where


def _handed() -> ColumnElement[bool]:
    a = audit_log.c
    return exists().where(a.subject == conversations.c.id, a.action.in_(HANDOVER_ACTIONS))


def _percentiles(conn: Connection, durations: Any) -> dict[str, Any]:
    """Median and p90 (nearest rank) of a one-column subquery ``s``, computed in SQL."""
    ranked = select(
        durations.c.s,
        func.row_number().over(order_by=durations.c.s).label("rn"),
        func.count().over().label("n"),
    ).subquery()
    p50 = (ranked.c.n * 50 + 99) // 100
    p90 = (ranked.c.n * 90 + 99) // 100
    rows = conn.execute(
        select(ranked.c.rn, ranked.c.n, ranked.c.s, p50.label("p50"), p90.label("p90")).where(
            or_(ranked.c.rn == p50, ranked.c.rn == p90)
        )
    ).all()
    if not rows:
        return {"median": None, "p90": None, "n": 0}
    out: dict[str, Any] = {"n": int(rows[0].n)}
    for row in rows:
        if row.rn == row.p50:
            out["median"] = round(float(row.s), 1)
        if row.rn == row.p90:
            out["p90"] = round(float(row.s), 1)
    return {"median": out["median"], "p90": out["p90"], "n": out["n"]}


# --- figures ----------------------------------------------------------------------------------


def _conversation_figures(conn: Connection, f: Filters) -> dict[str, Any]:
    c, e = conversations.c, consent_events.c
    where = _conv_where(f)
    customer_id = func.substr(c.id, func.length(c.channel) + 2)
    consent = (
        select(e.granted)
        .where(
            e.channel == c.channel,
            e.customer_id == customer_id,
            e.purpose == "feedback_analytics",
            e.at < f.until,
        )
        .order_by(e.at.desc(), e.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = conn.execute(
        select(
            func.count().label("total"),
            func.sum(case((_handed(), 1), else_=0)).label("handed"),
            func.sum(case((consent == True, 1), else_=0)).label("covered"),  # noqa: E712
        ).where(*where)
    ).one()
    total, handed, covered = int(row.total), int(row.handed or 0), int(row.covered or 0)
    rows = conn.execute(
        select(c.handoff_reason, func.count()).where(*where, _handed()).group_by(c.handoff_reason)
    ).all()
    reasons: dict[str, int] = {}
    for reason, n in rows:
        key = reason or "takeover"  # a direct takeover records no reason
        reasons[key] = reasons.get(key, 0) + int(n)
    return {
        "conversations": total,
        "coverage": _ratio(covered, total),
        "containment_rate": _ratio(total - handed, total),
        "handoff_rate": _ratio(handed, total),
        "handoff_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _messages(conn: Connection, f: Filters) -> int:
    m, c = messages.c, conversations.c
    q = select(func.count()).select_from(messages).where(m.created_at >= f.since, m.created_at < f.until)
    if f.channel is not None:
        q = q.where(m.channel == f.channel)
    if f.language is not None or f.agent is not None:
        conv = [c.id == m.conversation_id]
        if f.language is not None:
            conv.append(c.language == f.language)
        if f.agent is not None:
            conv.append(c.assigned_to == f.agent)
        q = q.where(exists().where(*conv))
    return int(conn.execute(q).scalar_one())


def _first_human_reply(conn: Connection, f: Filters) -> dict[str, Any]:
    a, m, c = audit_log.c, messages.c, conversations.c
    handover = (
        select(a.subject.label("cid"), func.min(a.at).label("at"))
        .where(a.action.in_(HANDOVER_ACTIONS), a.subject.in_(select(c.id).where(*_conv_where(f))))
        .group_by(a.subject)
        .subquery()
    )
    reply = (
        select(handover.c.cid, handover.c.at, func.min(m.created_at).label("reply"))
        .join(
            messages,
            and_(
                m.conversation_id == handover.c.cid,
                m.direction == "out",
                m.data["author"].as_string() == "staff",
                m.created_at >= handover.c.at,
            ),
        )
        .group_by(handover.c.cid, handover.c.at)
        .subquery()
    )
    durations = select(_seconds(conn, reply.c.at, reply.c.reply).label("s")).subquery()
    return _percentiles(conn, durations)


def _resolution(conn: Connection, f: Filters) -> dict[str, Any]:
    m, c = messages.c, conversations.c
    first = (
        select(c.id.label("cid"), c.resolved_at.label("resolved"), func.min(m.created_at).label("first"))
        .join(messages, m.conversation_id == c.id)
        .where(*_conv_where(f), c.resolved_at.is_not(None))
        .group_by(c.id, c.resolved_at)
        .subquery()
    )
    durations = select(_seconds(conn, first.c.first, first.c.resolved).label("s")).subquery()
    return _percentiles(conn, durations)


@dataclass(frozen=True)
class _Groups:
    """A period's feedback signals, grouped in SQL: counts from ``feedback_daily``, texts from the
    period's latest ``PHRASE_TEXTS`` message signals with a text."""

    #: (day, intent, label, count) of message signals.
    labels: list[tuple[str, str | None, str, int]]
    #: (text, intent, count, negative count, last negative time) of message signals with a text.
    texts: list[tuple[str, str | None, int, int, Any]]
    #: (kind, score, count) of CSAT and NPS answers.
    scores: list[tuple[str, int, int]]


def _daily_where(f: Filters, kinds: tuple[str, ...]) -> list[ColumnElement[bool]]:
    d = feedback_daily.c
    where: list[ColumnElement[bool]] = [d.kind.in_(kinds), d.day >= f.start, d.day <= f.end]
    if f.channel is not None:
        where.append(d.channel == f.channel)
    if f.language is not None:
        where.append(d.language == f.language)
    if f.message_intent is not None and kinds == ("message",):
        where.append(d.intent == f.message_intent)
    return where


def _groups(conn: Connection, f: Filters) -> _Groups:
    """Counts from the daily rollup; texts from the latest PHRASE_TEXTS texts of the period."""
    d, s = feedback_daily.c, feedback_signals.c
    labels = [
        (str(r[0]), r[1] or None, str(r[2]), int(r[3]))
        for r in conn.execute(
            select(d.day, d.intent, d.label, func.sum(d.count))
            .where(*_daily_where(f, ("message",)))
            .group_by(d.day, d.intent, d.label)
        )
    ]
    latest = (
        select(s.text, s.intent, s.at, label_sql().label("label"))
        .where(*_signal_where(f, "message"), s.text.is_not(None), s.text != "")
        .order_by(s.at.desc())
        .limit(PHRASE_TEXTS)
        .subquery()
    )
    negative = latest.c.label == "negative"
    texts = [
        (str(r[0]), r[1], int(r[2]), int(r[3] or 0), r[4])
        for r in conn.execute(
            select(
                latest.c.text,
                latest.c.intent,
                func.count(),
                func.sum(case((negative, 1), else_=0)),
                func.max(case((negative, latest.c.at), else_=None)),
            ).group_by(latest.c.text, latest.c.intent)
        )
    ]
    scores = [
        (str(r[0]), int(r[1]), int(r[2]))
        for r in conn.execute(
            select(d.kind, d.score, func.sum(d.count))
            .where(*_daily_where(f, ("csat", "nps")), d.score != NO_SCORE)
            .group_by(d.kind, d.score)
        )
    ]
    return _Groups(labels, texts, scores)


def _sentiment(f: Filters, g: _Groups) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    totals = {"positive": 0, "neutral": 0, "negative": 0}
    by_day: dict[str, dict[str, int]] = {}
    for day, _intent, label, n in g.labels:
        totals[label] += n
        per = by_day.setdefault(day, {"positive": 0, "neutral": 0, "negative": 0})
        per[label] += n
    pos, neu, neg = totals["positive"], totals["neutral"], totals["negative"]
    total = pos + neu + neg
    sentiment = {
        "positive": pos,
        "neutral": neu,
        "negative": neg,
        "net": _ratio(pos - neg, pos + neg),
        "share_positive": _ratio(pos, total),
        "share_neutral": _ratio(neu, total),
        "share_negative": _ratio(neg, total),
    }
    trend = []
    for i in range(f.days):
        key = (f.start + timedelta(days=i)).isoformat()
        d = by_day.get(key, {"positive": 0, "neutral": 0, "negative": 0})
        p, n = d["positive"], d["negative"]
        trend.append({"day": key, **d, "net": _ratio(p - n, p + n)})
    return total, sentiment, trend


def _csat(conn: Connection, f: Filters, g: _Groups, conversations_total: int) -> dict[str, Any]:
    dist = {score: n for kind, score, n in g.scores if kind == "csat"}
    responses = sum(dist.values())
    counted = 0
    if f.language is None and f.agent is None:  # counts-only answers have neither
        k = feedback_counts.c
        q = select(func.coalesce(func.sum(k.count), 0)).where(k.kind == "csat", k.day >= f.start, k.day <= f.end)
        if f.channel is not None:
            q = q.where(k.channel == f.channel)
        counted = int(conn.execute(q).scalar_one())
    return {
        "average": round(sum(s * n for s, n in dist.items()) / responses, 2) if responses else None,
        "responses": responses,
        "response_rate": _ratio(responses + counted, conversations_total),
        "distribution": {str(i): dist.get(i, 0) for i in range(1, 6)},
    }


def _nps(g: _Groups) -> dict[str, Any] | None:
    dist = {score: n for kind, score, n in g.scores if kind == "nps"}
    n = sum(dist.values())
    if not n:
        return None
    promoters = sum(v for s, v in dist.items() if s >= 9)
    detractors = sum(v for s, v in dist.items() if s <= 6)
    return {"score": round(100 * (promoters - detractors) / n, 1), "responses": n}


def _top_intents(conn: Connection, f: Filters) -> list[dict[str, Any]]:
    """Inbound messages by NLU intent (all customers: an intent count says nothing about a person)."""
    m, c = messages.c, conversations.c
    intent = m.data[("nlu", "intent")].as_string()
    q = select(intent.label("intent"), func.count().label("n")).where(
        m.direction == "in", m.created_at >= f.since, m.created_at < f.until, intent.is_not(None)
    )
    if f.channel is not None:
        q = q.where(m.channel == f.channel)
    if f.message_intent is not None:
        q = q.where(intent == f.message_intent)
    if f.language is not None or f.agent is not None:
        conv = [c.id == m.conversation_id]
        if f.language is not None:
            conv.append(c.language == f.language)
        if f.agent is not None:
            conv.append(c.assigned_to == f.agent)
        q = q.where(exists().where(*conv))
    rows = conn.execute(q.group_by(intent).order_by(func.count().desc(), intent).limit(TOP)).all()
    return [{"intent": r.intent, "count": int(r.n)} for r in rows]


def _fallbacks(conn: Connection, f: Filters) -> list[dict[str, Any]]:
    """The most frequent redacted texts the NLU found out of scope (all of the period's)."""
    s = feedback_signals.c
    where = [*_signal_where(f, "message"), s.intent == OUT_OF_SCOPE, s.text.is_not(None), s.text != ""]
    rows = conn.execute(
        select(s.text, func.count().label("n"))
        .where(*where)
        .group_by(s.text)
        .order_by(func.count().desc(), s.text)
        .limit(TOP)
    ).all()
    return [{"text": r.text, "count": int(r.n)} for r in rows]


def _intent_shares(g: _Groups) -> dict[str, tuple[int, int]]:
    """intent -> (signals, negative ones), for intents with at least MIN_DRIVER_COUNT signals."""
    out: dict[str, list[int]] = {}
    for _day, intent, label, n in g.labels:
        if intent is not None:
            acc = out.setdefault(intent, [0, 0])
            acc[0] += n
            acc[1] += n if label == "negative" else 0
    return {i: (n, neg) for i, (n, neg) in out.items() if n >= MIN_DRIVER_COUNT}


def _text_groups(g: _Groups) -> list[tuple[str, int, int]]:
    """(text, messages, negative ones), summed over intents, most frequent first."""
    out: dict[str, list[int]] = {}
    for text, _intent, n, neg, _at in g.texts:
        acc = out.setdefault(text, [0, 0])
        acc[0] += n
        acc[1] += neg
    return [(t, n, neg) for t, (n, neg) in sorted(out.items(), key=lambda kv: (-kv[1][0], kv[0]))]


def _examples(g: _Groups, intent: str) -> list[str]:
    """The 3 distinct redacted texts of ``intent`` most recently said with negative sentiment."""
    negative = [(at, text) for text, i, _n, neg, at in g.texts if i == intent and neg and at is not None]
    negative.sort(key=lambda r: (str(r[0]), r[1]), reverse=True)
    return [text for _at, text in negative[:3]]


def _drivers(g: _Groups, before: _Groups | None) -> list[dict[str, Any]]:
    """Intents then key phrases by negative share; ``change`` against ``before`` (None: not computed)."""
    previous = _intent_shares(before) if before is not None else {}
    intents = sorted(
        ((i, n, neg) for i, (n, neg) in _intent_shares(g).items() if neg > 0), key=lambda x: (-x[2] / x[1], -x[1], x[0])
    )[:TOP]
    out: list[dict[str, Any]] = []
    for intent, n, neg in intents:
        share = neg / n
        old = previous.get(intent)
        out.append(
            {
                "intent": intent,
                "negative_share": round(share, 4),
                "count": n,
                "negative": neg,
                "examples": _examples(g, intent),
                "change": round(share - old[1] / old[0], 4) if old is not None else None,
            }
        )
    previous_phrases = phrase_stats(_text_groups(before)) if before is not None else {}
    for phrase, st in rank_phrases(phrase_stats(_text_groups(g)), MIN_DRIVER_COUNT, TOP):
        old_stat = previous_phrases.get(phrase)
        old_share = old_stat.negative_share if old_stat is not None and old_stat.count >= MIN_DRIVER_COUNT else None
        out.append(
            {
                "phrase": phrase,
                "negative_share": round(st.negative_share, 4),
                "count": st.count,
                "negative": st.negative,
                "examples": st.examples,
                "change": None if old_share is None else round(st.negative_share - old_share, 4),
            }
        )
    return out


def _build(conn: Connection, f: Filters, g: _Groups, before: _Groups | None) -> Summary:
    conv = _conversation_figures(conn, f)
    signals, sentiment, trend = _sentiment(f, g)
    return Summary(
        filters=f,
        conversations=conv["conversations"],
        messages=_messages(conn, f),
        signals=signals,
        coverage=conv["coverage"],
        sentiment=sentiment,
        sentiment_trend=trend,
        csat=_csat(conn, f, g, conv["conversations"]),
        nps=_nps(g),
        containment_rate=conv["containment_rate"],
        handoff_rate=conv["handoff_rate"],
        handoff_reasons=conv["handoff_reasons"],
        time_to_first_human_reply_seconds=_first_human_reply(conn, f),
        resolution_time_seconds=_resolution(conn, f),
        top_intents=_top_intents(conn, f),
        fallbacks=_fallbacks(conn, f),
        drivers=_drivers(g, before),
        links=link_figures(conn, f),
    )


def summarize(engine: Engine, f: Filters) -> Summary:
    """The summary of ``f``'s period (drivers' ``change`` against the previous period), on one
    connection (each query sees the data committed when it starts)."""
    with engine.connect() as conn:
        return _build(conn, f, _groups(conn, f), _groups(conn, f.previous()))


def summarize_with_previous(engine: Engine, f: Filters) -> tuple[Summary, Summary]:
    """The period's summary and the previous period's, each period's signals grouped once.

    The previous summary is for comparison (:meth:`Summary.compare`): its own drivers' ``change``
    (against the period before it) is not computed (null).
    """
    with engine.connect() as conn:
        now, before = _groups(conn, f), _groups(conn, f.previous())
        return _build(conn, f, now, before), _build(conn, f.previous(), before, None)
