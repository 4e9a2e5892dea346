"""Fixtures of the desk tests: a Desk on real Redis + SQLite, a fake channel API, staff rows."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, insert, update

from bots.desk import Desk
from bots.dialogue.domain import load_domain
from bots.dialogue.store import StateStore
from bots.handoff.modes import Modes
from bots.pipeline.deliverer import Deliverer
from bots.pipeline.dlq import DeadLetters
from bots.pipeline.ingest import keys_for
from bots.settings import Settings
from bots.staff.accounts import Accounts, StaffMember
from bots.stores.models import conversations, messages
from connectors.base import Connector
from tests.pipeline.fake_channel import FakeChannelServer, FakeConnector

REPO = Path(__file__).resolve().parents[2]
DOMAIN = REPO / "bots" / "airline" / "domain.yml"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REFUSED = "refuse-me"

CANNED = [
    {
        "shortcut": "bags",
        "title": "Baggage rules",
        "intents": ["baggage_info"],
        "text": {
            "en": "Our baggage rules are on nimbus.example/bags.",
            "fr": "Nos règles bagages : nimbus.example/bags.",
        },
    },
    {"shortcut": "hello", "title": "Hello", "text": {"en": "Hello, I'm Ana from Nimbus Air."}},
    {
        "shortcut": "refund",
        "title": "Refunds",
        "intents": ["cancel_booking"],
        "text": {"en": "Refunds take 7 days.", "fr": "Les remboursements prennent 7 jours."},
    },
]
RETURNED = {"text": {"en": "You're back with the Nimbus Air assistant.", "fr": "Vous êtes de retour avec l'assistant."}}


def desk_config(**extra: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "dialogue": {"domain_file": str(DOMAIN), "responses": {"handoff_returned": RETURNED}},
        "console": {"canned_replies": CANNED},
        "pipeline": {"send_backoff_initial": 0.001, "send_backoff_max": 0.01},
        # pub/sub ignores the db index: a prefix of our own keeps other suites' live events out
        "stores": {"key_prefix": f"dk{uuid.uuid4().hex[:8]}"},
    }
    for key, value in extra.items():
        cfg[key] = {**cfg.get(key, {}), **value}
    return cfg


@pytest.fixture
def fake_channel() -> Iterator[FakeChannelServer]:
    server = FakeChannelServer(permanent_to=(REFUSED,)).start()
    yield server
    server.stop()


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(desk_config())


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_desk(
    settings: Settings,
    redis_client: redis.Redis,
    engine: Engine,
    connectors: Mapping[str, Connector],
    clock: Callable[[], datetime],
) -> Desk:
    store = StateStore(redis_client, prefix=settings.stores.key_prefix)
    deliverer = Deliverer.from_settings(
        redis_client, engine, settings, connectors, DeadLetters(redis_client, keys_for(settings)), sleep=lambda _s: None
    )
    return Desk(
        settings,
        engine,
        store,
        Modes(store, engine, clock),
        deliverer,
        redis_client,
        load_domain(settings),
        connectors,
        clock,
    )


@pytest.fixture
def desk(settings, redis_client, sql_engine, fake_channel, clock) -> Desk:
    return make_desk(settings, redis_client, sql_engine, {"fake": FakeConnector(fake_channel.url)}, clock)


@pytest.fixture
def people(sql_engine: Engine) -> dict[str, StaffMember]:
    accounts = Accounts(sql_engine)
    out = {
        "ana": accounts.add("ana@nimbus.example", "agent", name="Ana"),
        "bob": accounts.add("bob@nimbus.example", "admin", name="Bob"),
        "ivy": accounts.add("ivy@nimbus.example", "analyst", name="Ivy"),
        "old": accounts.add("old@nimbus.example", "agent", name="Old"),
    }
    out["old"] = accounts.disable("old@nimbus.example")
    return out


_ids = itertools.count(1)


def add_conversation(
    engine: Engine,
    cid: str,
    *,
    channel: str = "fake",
    customer: str | None = None,
    language: str | None = "en",
    at: datetime = T0,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=cid,
                channel=channel,
                customer_id=customer or cid.split(":", 1)[1],
                language=language,
                mode="bot",
                created_at=at,
                updated_at=at,
            )
        )


def add_message(
    engine: Engine,
    cid: str,
    text: str,
    *,
    direction: str = "in",
    intent: str | None = None,
    confidence: float = 0.9,
    sentiment: float = 0.0,
    at: datetime = T0,
    ranking: list[dict[str, Any]] | None = None,
) -> None:
    nlu = None
    if intent is not None:
        label = "negative" if sentiment < -0.3 else "positive" if sentiment > 0.3 else "neutral"
        nlu = {
            "text": text,
            "language": "en",
            "intent": intent,
            "confidence": confidence,
            "ranking": ranking or [],
            "entities": [],
            "sentiment": {"score": sentiment, "label": label},
        }
    with engine.begin() as conn:
        conn.execute(
            insert(messages).values(
                conversation_id=cid,
                direction=direction,
                channel=cid.split(":")[0],
                message_id=f"m{next(_ids)}",
                text=text,
                data={"nlu": nlu, "kind": "message"} if direction == "in" else {"kind": "reply"},
                created_at=at,
            )
        )
        conn.execute(
            update(conversations).where(conversations.c.id == cid).values(last_message_at=at, last_preview=text[:200])
        )


def set_mode(
    desk: Desk,
    cid: str,
    mode: str,
    at: datetime,
    *,
    actor: str = "customer",
    reason: str = "human_request",
    assigned_to: Any = None,
) -> None:
    """Move a conversation to ``mode`` the way the runtime or an agent would (Modes, clock pinned)."""
    from bots.handoff.modes import UNCHANGED

    modes = Modes(desk.store, desk.engine, clock=lambda: at)
    channel = cid.split(":")[0]
    modes.change(
        cid, channel, mode, actor=actor, reason=reason, assigned_to=UNCHANGED if assigned_to is None else assigned_to
    )


def next_event(pubsub: Any, type_: str, timeout: float = 2.0) -> dict[str, Any]:
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = pubsub.get_message(timeout=0.1)
        if msg is not None and msg["type"] == "message":
            event = json.loads(msg["data"])
            if event.get("type") == type_:
                return event
    raise AssertionError(f"no live {type_!r} event")
