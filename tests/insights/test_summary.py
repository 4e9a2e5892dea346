"""The summary's figures on a seeded data set with hand-computed answers (tests/insights/seed.py),
on SQLite and PostgreSQL: every JSON figure exact, the filters and the period comparison."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from bots.insights.filters import Filters
from bots.insights.summary import DEFINITIONS, summarize

from .seed import END, START


def _trend() -> list[dict[str, Any]]:
    days: list[dict[str, Any]] = [
        {"day": f"2026-11-0{d}", "positive": 0, "neutral": 0, "negative": 0, "net": None} for d in range(1, 8)
    ]
    days[0].update(positive=1, neutral=1, negative=2, net=-0.3333)
    days[1].update(positive=1, neutral=0, negative=2, net=-0.3333)
    days[2].update(positive=2, neutral=3, negative=1, net=0.3333)
    return days


EXPECTED: dict[str, Any] = {
    "period": {"from": "2026-11-01", "to": "2026-11-07"},
    "filters": {},
    "conversations": 4,
    "messages": 8,
    "signals": 13,
    "coverage": 0.5,
    "sentiment": {
        "positive": 4,
        "neutral": 4,
        "negative": 5,
        "net": -0.1111,
        "share_positive": 0.3077,
        "share_neutral": 0.3077,
        "share_negative": 0.3846,
    },
    "sentiment_trend": _trend(),
    "csat": {
        "average": 4.5,
        "responses": 2,
        "response_rate": 0.75,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
    },
    "nps": {"score": 25.0, "responses": 4},
    "containment_rate": 0.5,
    "handoff_rate": 0.5,
    "handoff_reasons": {"human_request": 1, "takeover": 1},
    "time_to_first_human_reply_seconds": {"median": 300.0, "p90": 600.0, "n": 2},
    "resolution_time_seconds": {"median": 1800.0, "p90": 7200.0, "n": 2},
    "top_intents": [
        {"intent": "baggage", "count": 2},
        {"intent": "complaint", "count": 1},
        {"intent": "greet", "count": 1},
    ],
    "fallbacks": [{"text": "what is the weather", "count": 2}, {"text": "tell me a joke", "count": 1}],
    "drivers": [
        {
            "intent": "refund",
            "negative_share": 0.6667,
            "count": 3,
            "negative": 2,
            "examples": ["remboursement en retard", "remboursement refusé"],
            "change": None,
        },
        {
            "intent": "baggage",
            "negative_share": 0.6,
            "count": 5,
            "negative": 3,
            "examples": ["lost bag", "lost bag again", "my bag is lost"],
            "change": 0.2667,
        },
        {
            "phrase": "lost",
            "negative_share": 1.0,
            "count": 3,
            "negative": 3,
            "examples": ["lost bag", "lost bag again", "my bag is lost"],
            "change": None,
        },
        {
            "phrase": "bag",
            "negative_share": 0.75,
            "count": 4,
            "negative": 3,
            "examples": ["lost bag", "lost bag again", "my bag is lost"],
            "change": 0.4167,
        },
        {
            "phrase": "remboursement",
            "negative_share": 0.6667,
            "count": 3,
            "negative": 2,
            "examples": ["remboursement en retard", "remboursement refusé"],
            "change": None,
        },
    ],
    "definitions": DEFINITIONS,
}


def _json(engine: Engine, f: Filters) -> dict[str, Any]:
    out = summarize(engine, f).to_json()
    links = out.pop("links")
    assert set(links) >= {"sent", "clicks", "forwarded_clicks", "by_channel"}
    return out


def test_every_figure_of_the_period(seeded: Engine) -> None:
    assert _json(seeded, Filters(START, END)) == EXPECTED


def test_the_previous_period_and_the_comparison(seeded: Engine) -> None:
    f = Filters(START, END)
    now, before = summarize(seeded, f), summarize(seeded, f.previous())
    prev = before.to_json()
    assert prev["period"] == {"from": "2026-10-25", "to": "2026-10-31"}
    assert (prev["conversations"], prev["messages"], prev["signals"]) == (1, 1, 3)
    assert prev["sentiment"]["net"] == 0.3333 and prev["nps"] is None and prev["csat"]["average"] is None
    assert prev["coverage"] == 0.0 and prev["containment_rate"] == 1.0
    assert prev["time_to_first_human_reply_seconds"] == {"median": None, "p90": None, "n": 0}
    cmp = now.compare(before)
    assert cmp["previous"]["period"] == {"from": "2026-10-25", "to": "2026-10-31"}
    assert cmp["previous"]["conversations"] == 1
    change = cmp["change"]
    assert (change["conversations"], change["messages"], change["signals"]) == (3, 7, 10)
    assert change["net_sentiment"] == -0.4444
    assert change["coverage"] == 0.5 and change["handoff_rate"] == 0.5
    assert change["nps"] is None and change["csat_average"] is None


def test_channel_filter(seeded: Engine) -> None:
    out = _json(seeded, Filters(START, END, channel="telegram"))
    assert out["filters"] == {"channel": "telegram"}
    assert (out["conversations"], out["messages"], out["signals"]) == (2, 4, 7)
    assert out["coverage"] == 0.5 and out["handoff_rate"] == 0.5
    assert out["handoff_reasons"] == {"human_request": 1}
    assert out["sentiment"] == {
        "positive": 3,
        "neutral": 1,
        "negative": 3,
        "net": 0.0,
        "share_positive": 0.4286,
        "share_neutral": 0.1429,
        "share_negative": 0.4286,
    }
    assert out["csat"]["response_rate"] == 1.5  # 2 opted-in + 1 counts-only answer / 2 conversations
    assert out["nps"] == {"score": 100.0, "responses": 2}
    assert out["top_intents"] == [{"intent": "complaint", "count": 1}, {"intent": "greet", "count": 1}]
    assert out["fallbacks"] == []
    assert [d.get("intent") or d.get("phrase") for d in out["drivers"]] == ["baggage", "lost", "bag"]


def test_language_intent_and_agent_filters(seeded: Engine) -> None:
    fr = _json(seeded, Filters(START, END, language="fr"))
    assert (fr["conversations"], fr["messages"], fr["signals"]) == (1, 2, 3)
    assert fr["csat"] == {
        "average": None,
        "responses": 0,
        "response_rate": 0.0,
        "distribution": fr["csat"]["distribution"],
    }
    assert fr["nps"] == {"score": -50.0, "responses": 2}
    refund = _json(seeded, Filters(START, END, intent="refund"))
    assert refund["signals"] == 3 and refund["sentiment"]["net"] == -0.3333
    assert refund["top_intents"] == [] and refund["conversations"] == 4
    assert _json(seeded, Filters(START, END, flow="refund"))["signals"] == 3
    agent = _json(seeded, Filters(START, END, agent=7))
    assert (agent["conversations"], agent["messages"]) == (1, 2)
    assert agent["time_to_first_human_reply_seconds"] == {"median": 300.0, "p90": 300.0, "n": 1}
    assert agent["resolution_time_seconds"] == {"median": 7200.0, "p90": 7200.0, "n": 1}
    assert agent["handoff_reasons"] == {"human_request": 1} and agent["containment_rate"] == 0.0


def test_an_empty_period(seeded: Engine) -> None:
    out = _json(seeded, Filters(date(2025, 1, 1), date(2025, 1, 2)))
    assert out["conversations"] == 0 and out["coverage"] is None and out["containment_rate"] is None
    assert out["sentiment"]["net"] is None and out["sentiment"]["share_negative"] is None
    assert out["csat"]["response_rate"] is None and out["nps"] is None and out["drivers"] == []
    assert [d["day"] for d in out["sentiment_trend"]] == ["2025-01-01", "2025-01-02"]


@pytest.mark.parametrize("n,median,p90", [(1, 1, 1), (2, 1, 2), (10, 5, 9), (11, 6, 10)])
def test_nearest_rank_percentiles(sql_engine: Engine, n: int, median: int, p90: int) -> None:
    from sqlalchemy import literal, select, union_all

    from bots.insights.summary import _percentiles

    rows = union_all(*(select(literal(float(i)).label("s")) for i in range(n, 0, -1))).subquery()
    with sql_engine.connect() as conn:
        assert _percentiles(conn, rows) == {"median": float(median), "p90": float(p90), "n": n}
