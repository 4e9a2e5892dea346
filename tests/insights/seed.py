"""A small data set with hand-computed answers (see test_summary.py for each figure).

Period under test: 2026-11-01 to 2026-11-07; the previous period: 2026-10-25 to 2026-10-31.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, insert

from bots.insights.rollup import rebuild
from bots.privacy.tables import consent_events, feedback_counts, feedback_signals
from bots.stores.models import audit_log, conversations, messages

START, END = date(2026, 11, 1), date(2026, 11, 7)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _conv(cid: str, language: str, created: datetime, **extra: Any) -> dict[str, Any]:
    channel, _, ident = cid.partition(":")
    row: dict[str, Any] = {
        "id": cid,
        "channel": channel,
        "customer_id": ident,
        "language": language,
        "mode": "bot",
        "created_at": created,
        "updated_at": created,
        "assigned_to": None,
        "handoff_reason": None,
        "resolved_at": None,
    }
    row.update(extra)
    return row


def _msg(cid: str, n: int, direction: str, when: datetime, text: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "direction": direction,
        "channel": cid.partition(":")[0],
        "message_id": f"m{n}",
        "text": text,
        "data": data,
        "created_at": when,
    }


def _nlu(intent: str) -> dict[str, Any]:
    return {"nlu": {"intent": intent, "sentiment": {"score": 0.0, "label": "neutral"}}}


def _consent(channel: str, ident: str, granted: bool, when: datetime) -> dict[str, Any]:
    return {
        "channel": channel,
        "customer_id": ident,
        "purpose": "feedback_analytics",
        "granted": granted,
        "how": "button",
        "wording_version": "v1",
        "wording": "May we use your messages to improve our service?",
        "language": "en",
        "actor": "customer",
        "at": when,
    }


def _signal(
    kind: str,
    channel: str,
    language: str,
    when: datetime,
    *,
    intent: str | None = None,
    label: str | None = None,
    sentiment: float | None = None,
    text: str | None = None,
    score: int | None = None,
) -> dict[str, Any]:
    return {
        "subject": f"subject-{channel}",
        "channel": channel,
        "kind": kind,
        "at": when,
        "language": language,
        "intent": intent,
        "sentiment": sentiment,
        "sentiment_label": label,
        "score": score,
        "text": text,
    }


def seed(engine: Engine) -> None:
    """Write the data set (a fresh, migrated database)."""
    convs = [
        _conv("telegram:1", "en", at(11, 1, 9)),
        _conv(
            "telegram:2",
            "fr",
            at(11, 2, 9),
            mode="resolved",
            assigned_to=7,
            handoff_reason="human_request",
            resolved_at=at(11, 2, 11),
        ),
        _conv("sms:+33600000003", "en", at(11, 3, 11), mode="human", assigned_to=8),
        _conv("webchat:abcdefgh1", "en", at(11, 4, 10), mode="resolved", resolved_at=at(11, 4, 10, 30)),
        _conv("telegram:9", "en", at(10, 28, 8)),  # previous period
    ]
    msgs = [
        _msg("telegram:1", 1, "in", at(11, 1, 9), "hello", _nlu("greet")),
        _msg("telegram:1", 2, "out", at(11, 1, 9), "Hi!", {"kind": "text"}),
        _msg("telegram:2", 3, "in", at(11, 2, 9), "I want to complain", _nlu("complaint")),
        _msg("telegram:2", 4, "out", at(11, 2, 10, 5), "Sorry", {"author": "staff", "staff_id": 7}),
        _msg("sms:+33600000003", 5, "in", at(11, 3, 11), "my bag", _nlu("baggage")),
        _msg("sms:+33600000003", 6, "out", at(11, 3, 12, 1), "auto", {"author": "bot"}),
        _msg("sms:+33600000003", 7, "out", at(11, 3, 12, 10), "Looking", {"author": "staff", "staff_id": 8}),
        _msg("webchat:abcdefgh1", 8, "in", at(11, 4, 10), "bag?", _nlu("baggage")),
        _msg("telegram:9", 9, "in", at(10, 28, 8), "hi", _nlu("greet")),
    ]
    audits = [
        {
            "at": at(11, 2, 10),
            "actor": "customer",
            "action": "mode:waiting",
            "subject": "telegram:2",
            "detail": {"from": "bot", "to": "waiting", "reason": "human_request"},
        },
        {
            "at": at(11, 2, 10, 2),
            "actor": "staff:7",
            "action": "mode:human",
            "subject": "telegram:2",
            "detail": {"from": "waiting", "to": "human", "reason": "takeover"},
        },
        {
            "at": at(11, 3, 12),
            "actor": "staff:8",
            "action": "mode:human",
            "subject": "sms:+33600000003",
            "detail": {"from": "bot", "to": "human", "reason": "takeover"},
        },
        {"at": at(11, 1, 9), "actor": "staff:1", "action": "reply", "subject": "telegram:1", "detail": {}},
    ]
    consents = [
        _consent("telegram", "1", True, at(10, 20)),
        _consent("telegram", "2", True, at(10, 20)),
        _consent("telegram", "2", False, at(11, 5)),  # withdrawn within the period
        _consent("sms", "+33600000003", True, at(11, 8)),  # after the period
        _consent("webchat", "abcdefgh1", True, at(11, 1)),
    ]
    tg, sms, web = "telegram", "sms", "webchat"
    signals = [
        _signal("message", tg, "en", at(11, 1, 8), intent="baggage", label="negative", text="my bag is lost"),
        _signal("message", tg, "en", at(11, 1, 9), intent="baggage", label="negative", text="lost bag again"),
        _signal("message", tg, "en", at(11, 1, 10), intent="baggage", label="neutral", text="where is my bag"),
        _signal("message", tg, "en", at(11, 1, 11), intent="baggage", label="positive", text="thanks found it"),
        _signal("message", sms, "fr", at(11, 2, 10), intent="refund", label="negative", text="remboursement refusé"),
        _signal("message", sms, "fr", at(11, 2, 11), intent="refund", label="negative", text="remboursement en retard"),
        _signal(
            "message", sms, "fr", at(11, 2, 12), intent="refund", label="positive", text="remboursement reçu merci"
        ),
        _signal("message", tg, "en", at(11, 3, 8), intent="greet", label="positive", text="hello"),
        _signal("message", tg, "en", at(11, 3, 9), intent="greet", label="positive", text="hi there"),
        _signal(
            "message", web, "en", at(11, 3, 10), intent="out_of_scope", label="neutral", text="what is the weather"
        ),
        _signal(
            "message", web, "en", at(11, 3, 11), intent="out_of_scope", label="neutral", text="what is the weather"
        ),
        _signal("message", web, "en", at(11, 3, 12), intent="out_of_scope", label="neutral", text="tell me a joke"),
        _signal("message", tg, "en", at(11, 3, 13), intent="baggage", sentiment=-0.4, text="lost bag"),
        _signal("csat", tg, "en", at(11, 2, 12), score=5),
        _signal("csat", tg, "en", at(11, 4, 12), score=4),
        _signal("nps", tg, "en", at(11, 4, 12), score=10),
        _signal("nps", tg, "en", at(11, 4, 13), score=9),
        _signal("nps", sms, "fr", at(11, 4, 14), score=7),
        _signal("nps", sms, "fr", at(11, 4, 15), score=3),
        _signal("comment", tg, "en", at(11, 4, 16), label="negative", text="slow"),
        # previous period
        _signal("message", tg, "en", at(10, 26, 8), intent="baggage", label="negative", text="bag late"),
        _signal("message", tg, "en", at(10, 27, 8), intent="baggage", label="positive", text="bag ok"),
        _signal("message", tg, "en", at(10, 28, 8), intent="baggage", label="positive", text="bag fine"),
        # after the period
        _signal("message", tg, "en", at(11, 8, 0), intent="baggage", label="negative", text="late bag"),
    ]
    with engine.begin() as conn:
        conn.execute(insert(conversations), convs)
        conn.execute(insert(messages), msgs)
        conn.execute(insert(audit_log), audits)
        conn.execute(insert(consent_events), consents)
        conn.execute(insert(feedback_signals), signals)
        conn.execute(insert(feedback_counts), [{"day": date(2026, 11, 2), "channel": tg, "kind": "csat", "count": 1}])
        rebuild(conn)  # the daily counts, as Signals would have kept them
