"""Figures of conversations that went through the real pipeline: signed webhooks, the inbound
queue, a worker's real turns (trained NLU, dialogue, privacy step), signals in SQL.

One customer opts in by words, one declines by words, one is never asked: only the opted-in
customer's messages after the consent become signals, every message is in the transcript, and
coverage is the opted-in share of the conversations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bots.insights.filters import Filters
from bots.insights.summary import summarize
from bots.privacy import customer
from bots.privacy.tables import feedback_counts, feedback_signals
from bots.stores.models import messages
from tests.privacy.world import world

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request, redis_url, redis_client, demo_nlu_dir: Path, tmp_path: Path):
    engine = request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")
    with world(engine.url.render_as_string(hide_password=False), redis_url, demo_nlu_dir, tmp_path) as w:
        yield w


def test_opted_in_declined_and_never_asked_customers_give_exact_signals_messages_and_coverage(live) -> None:
    w = live
    agrees = customer("sms", "+33611111111")
    declines = customer("whatsapp", "+33622222222")
    silent = customer("telegram", "424242")
    script = {
        agrees: ["hello", "I agree to share feedback", "what is the baggage allowance?", "thanks, bye"],
        declines: ["bonjour", "je refuse", "quelle est la franchise bagages ?"],
        silent: ["hi", "what's the status of flight NM452?"],
    }
    for n in range(4):  # one message per customer per round, each drained before the next
        for who, lines in script.items():
            if n < len(lines):
                w.say(who, n, lines[n])
        w.drain()
    today = datetime.now(UTC).date()
    report = summarize(w.engine, Filters(today, today)).to_json()
    with w.engine.connect() as conn:
        transcript = conn.execute(select(func.count()).select_from(messages)).scalar_one()
        inbound = conn.execute(
            select(func.count()).select_from(messages).where(messages.c.direction == "in")
        ).scalar_one()
        stored = conn.execute(
            select(func.count()).select_from(feedback_signals).where(feedback_signals.c.kind == "message")
        ).scalar_one()
        counted = conn.execute(
            select(func.coalesce(func.sum(feedback_counts.c.count), 0)).where(feedback_counts.c.kind == "message")
        ).scalar_one()
    assert inbound == 9, "every customer message is in the transcript"
    # the opted-in customer's consent message and the two after it; the others count only
    assert stored == 3 and counted == 6
    assert report["signals"] == 3
    assert report["messages"] == transcript and transcript > inbound  # the bot's replies too
    assert report["conversations"] == 3
    assert report["coverage"] == round(1 / 3, 4)  # the JSON rounds shares to 4 places
    sentiment = report["sentiment"]
    assert sentiment["positive"] + sentiment["neutral"] + sentiment["negative"] == 3
