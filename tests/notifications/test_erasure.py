"""Erasure and export cover the notifications and the customer links of a customer, and only theirs."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import Engine, select

from bots.notifications import CustomerLinks, NewNotification, Notifications
from bots.pipeline.keys import Keys
from bots.privacy import Customer, Pseudonyms, customer
from bots.privacy.erasure import erase
from bots.privacy.export import export
from bots.stores.models import customer_links, notifications

from .conftest import Clock

pytestmark = pytest.mark.integration

SECRET = "test-analytics-secret-0123456789"
KEYS = Keys("bb", 4)
ANA = customer("sms", "+33612345678")
BOB = customer("sms", "+33698765432")


def notify(store: Notifications, who: Customer, key: str, *, with_conversation: bool = True) -> str:
    row, _ = store.create(
        NewNotification(
            scope="cli",
            idempotency_key=key,
            request_hash=None,
            kind="flight_delay",
            purpose="service",
            reference_kind="booking",
            reference="AB12CD",
            channel=who.channel,
            customer_id=who.id,
            conversation_id=who.conversation_id if with_conversation else None,
            variables={"flight": "TA123"},
            language="en",
            state="queued" if with_conversation else "refused",
            reason=None if with_conversation else "no consent",
            batch=None,
        )
    )
    return row.id


def left(engine: Engine) -> tuple[set[str], set[str]]:
    with engine.connect() as conn:
        ntf = set(conn.execute(select(notifications.c.customer_id)).scalars())
        links = set(conn.execute(select(customer_links.c.customer_id)).scalars())
    return ntf, links


def test_erasure_removes_the_notifications_and_links_of_the_customer_only(
    engine: Engine, redis_client: redis.Redis, clock: Clock
) -> None:
    store, links = Notifications(engine, clock), CustomerLinks(engine, clock)
    ana_ids = {notify(store, ANA, "a-1"), notify(store, ANA, "a-2", with_conversation=False)}
    notify(store, BOB, "b-1")
    links.link("booking", "AB12CD", ANA)
    links.link("booking", "AB12CD", BOB)
    links.link("customer", "FF-0042", ANA)
    pseudonyms = Pseudonyms(SECRET)

    doc = export(ANA, engine=engine, client=redis_client, keys=KEYS, pseudonyms=pseudonyms)
    assert {r["id"] for r in doc["notifications"]} == ana_ids
    assert {r["reference"] for r in doc["customer_links"]} == {"AB12CD", "FF-0042"}

    report = erase(ANA, engine=engine, client=redis_client, keys=KEYS, pseudonyms=pseudonyms, actor="test")

    assert report.removed["sql:notifications"] == 2 and report.removed["sql:customer_links"] == 2
    assert left(engine) == ({BOB.id}, {BOB.id})
    assert [i.customer_id for i in links.identities("booking", "AB12CD")] == [BOB.id]
