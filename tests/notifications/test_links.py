"""Customer links: a reference confirmed in chat finds the identities that gave it, most recent first."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select

from bots.notifications import CustomerLinks, Identity
from bots.privacy import customer
from bots.stores.models import conversations, customer_links

from .conftest import Clock

ANA_SMS = customer("sms", "+33612345678")
ANA_TG = customer("telegram", "777001")
ANA_WEB = customer("webchat", "vAbcdefgh123")


def conversation(engine: Engine, conversation_id: str, last_message_at: datetime | None) -> None:
    channel, _, customer_id = conversation_id.partition(":")
    with engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=conversation_id,
                channel=channel,
                customer_id=customer_id,
                mode="bot",
                created_at=datetime(2026, 1, 1).astimezone(),
                updated_at=datetime(2026, 1, 1).astimezone(),
                last_message_at=last_message_at,
            )
        )


def test_a_reference_is_found_however_it_was_typed(links: CustomerLinks, clock: Clock) -> None:
    links.link("booking", "  ab12cd ", ANA_SMS)

    assert links.identities("booking", "AB12CD") == [Identity("sms", "+33612345678", "sms:+33612345678", clock.now)]
    assert links.identities("booking", "ab12cd") == links.identities("booking", "AB12CD")
    assert links.identities("customer", "AB12CD") == []
    assert links.identities("booking", "ZZ99ZZ") == []


def test_linking_again_moves_last_seen_and_keeps_one_row(links: CustomerLinks, engine: Engine, clock: Clock) -> None:
    first = clock.now
    links.link("booking", "AB12CD", ANA_SMS)
    clock.now += timedelta(days=2)
    links.link("booking", "ab12cd", ANA_SMS)

    assert [i.last_seen_at for i in links.identities("booking", "AB12CD")] == [clock.now]
    with engine.connect() as conn:
        rows = conn.execute(select(customer_links.c.first_seen_at)).scalars().all()
    assert len(rows) == 1 and rows[0].replace(tzinfo=first.tzinfo) == first


def test_the_most_recently_seen_identity_comes_first_conversations_included(
    links: CustomerLinks, engine: Engine, clock: Clock
) -> None:
    start = clock.now
    links.link("booking", "AB12CD", ANA_TG)  # linked first ...
    clock.now = start + timedelta(hours=1)
    links.link("booking", "AB12CD", ANA_SMS)
    clock.now = start + timedelta(hours=2)
    links.link("booking", "AB12CD", ANA_WEB)
    # ... but the Telegram conversation went on after every link; the SMS one stopped before its link
    conversation(engine, ANA_TG.conversation_id, start + timedelta(hours=5))
    conversation(engine, ANA_SMS.conversation_id, start)
    conversation(engine, ANA_WEB.conversation_id, None)

    found = links.identities("booking", "AB12CD")

    assert [(i.channel, i.last_seen_at) for i in found] == [
        ("telegram", start + timedelta(hours=5)),
        ("webchat", start + timedelta(hours=2)),
        ("sms", start + timedelta(hours=1)),
    ]
    assert found[0].conversation_id == "telegram:777001" and found[0].customer_id == "777001"


@pytest.mark.parametrize(("kind", "reference"), [("booking", "   "), ("", "AB12CD"), ("booking", "X" * 65)])
def test_an_empty_or_too_long_reference_is_refused(links: CustomerLinks, kind: str, reference: str) -> None:
    with pytest.raises(ValueError, match="characters"):
        links.link(kind, reference, ANA_SMS)
