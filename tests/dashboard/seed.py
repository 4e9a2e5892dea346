"""A small data set with known answers, written through the real tables (conversations, messages,
audit_log, consent_events, feedback_signals with its daily rollup feedback_daily): four
conversations in the week 2026-03-01..07 and one in the week before. Used by the route tests and the browser test.

Known figures for ``from=2026-03-01&to=2026-03-07`` (all channels):

- conversations 4, messages 12 (9 in + 3 out), coverage 0.5 (t1 and w1 opted in);
- signals 5: positive 1, neutral 1, negative 3: net (1-3)/(1+3) = -0.5; shares 0.2/0.2/0.6;
- CSAT: answers 5 and 3: average 4.0, responses 2, response rate 2/4 = 0.5; no NPS;
- containment 0.75, handoff rate 0.25 (t1, reason human_request);
- time to first human reply 300 s (5 min), resolution time 3900 s (1 h 5 min), n 1 each;
- links: sent 3, clicks 4, forwarded 2 (forward rate 0.5); telegram 1/3/2, whatsapp 1/1/0, webchat 1/0/0;
- top intents (5): refund 4, out_of_scope 2, then 1 each: the hostile intent name (webchat),
  baggage_allowance, greet; with ``channel=telegram``: refund 3, baggage_allowance 1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from bots.insights.rollup import count_signal
from bots.links.tables import link_clicks, links
from bots.privacy.tables import consent_events, feedback_signals
from bots.stores.models import audit_log, conversations, messages

FROM, TO = "2026-03-01", "2026-03-07"
PERIOD = f"from={FROM}&to={TO}"
#: an intent name and a fallback text that are HTML, and a fallback that is a spreadsheet formula.
EVIL_INTENT = "<img src=x onerror=alert(1)>"
EVIL_FALLBACK = '<script>alert("fallback")</script>, said "me"'
FORMULA_FALLBACK = '=HYPERLINK("http://evil.example","click")'

DAY1 = datetime(2026, 3, 2, 9, 55, tzinfo=UTC)


def _conversation(conn: Any, cid: str, channel: str, language: str, at: datetime, **extra: Any) -> None:
    conn.execute(
        insert(conversations).values(
            id=cid,
            channel=channel,
            customer_id=cid.split(":", 1)[1],
            language=language,
            mode=extra.pop("mode", "bot"),
            created_at=at,
            updated_at=at,
            last_message_at=at,
            **extra,
        )
    )


def _message(
    conn: Any, cid: str, channel: str, n: int, at: datetime, *, intent: str | None = None, **data: Any
) -> None:
    direction = "out" if data.get("author") or intent is None else "in"
    payload: dict[str, Any] = dict(data)
    if intent is not None:
        payload["nlu"] = {"intent": intent, "confidence": 0.9}
    conn.execute(
        insert(messages).values(
            conversation_id=cid,
            direction=direction,
            channel=channel,
            message_id=f"m{n}",
            text="hello",
            data=payload,
            created_at=at,
        )
    )


def _signal(conn: Any, channel: str, at: datetime, kind: str, **values: Any) -> None:
    """A signal row and its daily count, as :class:`bots.privacy.signals.Signals` writes them."""
    values = {"language": "en", **values}
    conn.execute(insert(feedback_signals).values(subject="s" * 64, channel=channel, kind=kind, at=at, **values))
    count_signal(conn, at, channel, kind, values)


def _consent(conn: Any, channel: str, customer: str, at: datetime) -> None:
    conn.execute(
        insert(consent_events).values(
            channel=channel,
            customer_id=customer,
            purpose="feedback_analytics",
            granted=True,
            how="button",
            wording_version="v1",
            wording="May we learn from your messages?",
            language="en",
            actor="customer",
            at=at,
        )
    )


def seed(engine: Engine) -> None:
    """Write the data set described in the module docstring."""
    t = DAY1
    with engine.begin() as conn:
        # telegram:t1 - opted in, handed to a person, answered after 5 min, resolved after 65 min
        _conversation(
            conn, "telegram:t1", "telegram", "en", t, mode="resolved", handoff_reason="human_request",
            resolved_at=t + timedelta(minutes=65), waiting_since=t + timedelta(minutes=5),
        )  # fmt: skip
        _consent(conn, "telegram", "t1", t - timedelta(days=3))
        _message(conn, "telegram:t1", "telegram", 1, t, intent="refund")
        _message(conn, "telegram:t1", "telegram", 2, t + timedelta(minutes=1), intent="refund")
        _message(conn, "telegram:t1", "telegram", 3, t + timedelta(minutes=2), intent="refund")
        conn.execute(
            insert(audit_log).values(
                at=t + timedelta(minutes=5), actor="customer", action="mode:waiting", subject="telegram:t1",
                detail={"reason": "human_request"},
            )
        )  # fmt: skip
        _message(conn, "telegram:t1", "telegram", 4, t + timedelta(minutes=10), author="staff")
        # telegram:t2 - not opted in, the bot alone
        _conversation(conn, "telegram:t2", "telegram", "en", t + timedelta(days=1))
        _message(conn, "telegram:t2", "telegram", 1, t + timedelta(days=1), intent="baggage_allowance")
        _message(conn, "telegram:t2", "telegram", 2, t + timedelta(days=1, seconds=1))
        # webchat:w1 - opted in, French, the bot alone; sends the hostile intent and the fallbacks
        _conversation(conn, "webchat:w1", "webchat", "fr", t + timedelta(days=2))
        _consent(conn, "webchat", "w1", t)
        _message(conn, "webchat:w1", "webchat", 1, t + timedelta(days=2), intent="refund")
        _message(conn, "webchat:w1", "webchat", 2, t + timedelta(days=2, minutes=1), intent=EVIL_INTENT)
        _message(conn, "webchat:w1", "webchat", 3, t + timedelta(days=2, minutes=2), intent="out_of_scope")
        _message(conn, "webchat:w1", "webchat", 4, t + timedelta(days=2, minutes=3), intent="out_of_scope")
        _message(conn, "webchat:w1", "webchat", 5, t + timedelta(days=2, minutes=4))
        # whatsapp - not opted in
        _conversation(conn, "whatsapp:+31600000001", "whatsapp", "en", t + timedelta(days=3))
        _message(conn, "whatsapp:+31600000001", "whatsapp", 1, t + timedelta(days=3), intent="greet")
        # feedback signals of the opted-in customers (t1 on telegram, w1 on webchat)
        for i, label in enumerate(("negative", "negative", "positive")):
            _signal(
                conn, "telegram", t + timedelta(minutes=i), "message", intent="refund",
                sentiment={"negative": -0.8, "positive": 0.7}[label], sentiment_label=label,
                text=f"my refund is late {i}",
            )  # fmt: skip
        _signal(
            conn, "webchat", t + timedelta(days=2), "message", intent="refund", sentiment=0.0,
            sentiment_label="neutral", text="refund please",
        )  # fmt: skip
        _signal(
            conn, "webchat", t + timedelta(days=2, minutes=2), "message", intent="out_of_scope", sentiment=-0.5,
            sentiment_label="negative", text=EVIL_FALLBACK,
        )  # fmt: skip
        _signal(conn, "telegram", t + timedelta(hours=2), "csat", score=5)
        _signal(conn, "webchat", t + timedelta(days=2, hours=1), "csat", score=3)
        # tracked links: telegram's was forwarded twice, whatsapp's clicked once, webchat's never
        for code, cid, channel, day in (
            ("tgA", "telegram:t1", "telegram", 0),
            ("waB", "whatsapp:+31600000001", "whatsapp", 3),
            ("wcC", "webchat:w1", "webchat", 2),
        ):
            conn.execute(
                insert(links).values(
                    code=code, target="https://nimbus.example/itinerary", conversation_id=cid, channel=channel,
                    campaign="itinerary", created_at=t + timedelta(days=day),
                )
            )  # fmt: skip
        for code, minutes, first, forwarded in (
            ("tgA", 5, True, False),
            ("tgA", 60, False, True),
            ("tgA", 90, False, True),
            ("waB", 3 * 1440 + 5, True, False),
        ):
            conn.execute(
                insert(link_clicks).values(
                    code=code, at=t + timedelta(minutes=minutes), ua_family="chrome", first_click=first,
                    forwarded=forwarded, referrer_less=True,
                )
            )  # fmt: skip
        # the week before: one telegram conversation, the bot alone
        before = datetime(2026, 2, 25, 12, 0, tzinfo=UTC)
        _conversation(conn, "telegram:t0", "telegram", "en", before)
        _message(conn, "telegram:t0", "telegram", 1, before, intent="greet")


def seed_formula_fallback(engine: Engine) -> None:
    """One more opted-in fallback, whose redacted text a spreadsheet would run as a formula."""
    with engine.begin() as conn:
        _signal(
            conn, "webchat", DAY1 + timedelta(days=2, minutes=3), "message", intent="out_of_scope",
            sentiment=-0.2, sentiment_label="negative", text=FORMULA_FALLBACK,
        )  # fmt: skip
