"""Erasure and a turn of the same conversation never interleave."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bots.dialogue.store import StateStore
from bots.dialogue.transcript import record_turn
from bots.pipeline.keys import Keys
from bots.privacy import PrivacyError, Pseudonyms, customer
from bots.privacy.erasure import erase, tombstone_key
from bots.stores.models import messages
from connectors.base import Inbound

from .conftest import SECRET

pytestmark = pytest.mark.integration

ANA = customer("telegram", "777001")
KEYS = Keys("bb", 4)


def setup_turn(engine, redis_client) -> StateStore:
    now = datetime.now(UTC)
    record_turn(
        engine, Inbound("telegram", ANA.id, ANA.conversation_id, "1", "hi", timestamp=now), [], None, "en", "bot", now
    )
    store = StateStore(redis_client, "bb", lock_wait=0.2)
    lease = store.acquire(ANA.conversation_id)
    store.save(lease, lease.state)
    return store


def rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(messages)).scalar_one()


def test_a_conversation_mid_turn_is_not_erased_under_the_turn(sql_engine, redis_client) -> None:
    store = setup_turn(sql_engine, redis_client)
    busy = store.acquire(ANA.conversation_id)  # a worker's turn holds the conversation
    with pytest.raises(PrivacyError, match=r"mid-turn and stayed busy for 0\.2 s; run it again"):
        erase(
            ANA,
            engine=sql_engine,
            client=redis_client,
            keys=KEYS,
            pseudonyms=Pseudonyms(SECRET),
            actor="t",
            lock_wait=0.2,
        )
    assert rows(sql_engine) == 1 and redis_client.exists(store.state_key(ANA.conversation_id)), "nothing removed"
    store.release(busy)
    report = erase(ANA, engine=sql_engine, client=redis_client, keys=KEYS, pseudonyms=Pseudonyms(SECRET), actor="t")
    assert report.removed["sql:messages"] == 1 and rows(sql_engine) == 0
    assert redis_client.keys("*777001*") == [], "the erasure's own lock is released too"


def test_a_turn_holding_the_lock_erases_with_it_and_releases_it_itself(sql_engine, redis_client) -> None:
    store = setup_turn(sql_engine, redis_client)
    lease = store.acquire(ANA.conversation_id)  # the turn answering "delete my data"
    erase(
        ANA,
        engine=sql_engine,
        client=redis_client,
        keys=KEYS,
        pseudonyms=Pseudonyms(SECRET),
        actor="customer",
        held=lease,
    )
    assert rows(sql_engine) == 0 and not redis_client.exists(store.state_key(ANA.conversation_id))
    assert redis_client.exists(store.lock_key(ANA.conversation_id)), "still the turn's until it ends"
    assert store.release(lease) and redis_client.keys("*777001*") == []
    assert redis_client.exists(tombstone_key("bb", Pseudonyms(SECRET), ANA))
