"""Erasure leaves nothing about the customer in any Redis key or SQL row; export shows all of it.

Customers on the four channels talk to the real bot (webhooks, queue, worker, trained NLU,
dialogue, connectors to fake channel APIs); consent, signals, a note, a mode change, a dead
letter, a queued message, an SMS opt-out and a blocked Telegram chat are added. Then every
Redis key and value and every row of every table (reflected from the database, so a table
the registry does not know is scanned too) is searched for the customer's id.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bots.pipeline import keys_for
from bots.privacy.erasure import erase, erased_at
from bots.privacy.export import export, to_json
from bots.privacy.registry import NO_CUSTOMER_DATA, SQL_STORES, key_family
from bots.privacy.tables import erasures
from bots.stores.models import metadata

from .world import World, populate, redis_hits, sql_hits, world

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: export document section -> table
SECTIONS = {
    ("profile", "conversations"): "conversations",
    ("consents", "current"): "consent_state",
    ("consents", "history"): "consent_events",
    ("signals",): "feedback_signals",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request, redis_url, redis_client, demo_nlu_dir: Path, tmp_path: Path):
    engine = request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")
    with world(engine.url.render_as_string(hide_password=False), redis_url, demo_nlu_dir, tmp_path) as w:
        populate(w)
        yield w


def expiring(w: World, key: str) -> bool:
    """A key that lives less than a minute (a rate-limit window), or has just expired (-2)."""
    ttl = int(w.redis.pttl(key))
    return ttl == -2 or 0 <= ttl < 60_000


def needles(w: World, channel: str) -> list[str]:
    who = w.targets[channel]
    return [who.id, who.conversation_id]


def exported_rows(doc: dict) -> dict[str, set[tuple]]:
    """Primary keys per table of the rows in an export document."""
    out: dict[str, set[tuple]] = {}
    for store in SQL_STORES:
        name = store.table.name
        section = next((path for path, table in SECTIONS.items() if table == name), (name,))
        rows = doc
        for part in section:
            rows = rows[part]
        pk = [c.name for c in store.table.primary_key.columns]
        out[name] = {tuple(str(r[c]) for c in pk) for r in rows}
    return out


def test_every_table_is_registered_for_erasure_or_declared_free_of_customer_data() -> None:
    registered = {s.table.name for s in SQL_STORES}
    assert registered.isdisjoint(NO_CUSTOMER_DATA)
    assert {t.name for t in metadata.sorted_tables} == registered | set(NO_CUSTOMER_DATA), (
        "a new table must be added to bots.privacy.registry (SQL_STORES or NO_CUSTOMER_DATA)"
    )


def test_export_holds_everything_then_erasure_leaves_no_trace(live: World) -> None:
    w = live
    unknown = sorted(k.decode() for k in w.redis.scan_iter(count=1000) if key_family(k.decode(), "bb") is None)
    assert unknown == [], "a new Redis key family: add it to bots.privacy.registry.KEY_FAMILIES"
    keys = keys_for(w.settings)
    control_needles = [n for who in w.controls.values() for n in (who.id, who.conversation_id)]
    control_sql = sql_hits(w.engine, control_needles)
    # rate-limit windows expire by themselves within seconds: compare the keys that last
    control_redis = {k: v for k, v in redis_hits(w.redis, control_needles).items() if not expiring(w, k)}
    for channel, who in w.targets.items():
        subject = w.pseudonyms.subject(who)
        found_sql = sql_hits(w.engine, needles(w, channel), (subject,))
        found_redis = redis_hits(w.redis, needles(w, channel))
        # the customer really has data everywhere the test claims to look
        for table in ("conversations", "messages", "deliveries", "notes", "audit_log", "consent_events",
                      "consent_state", "feedback_signals"):  # fmt: skip
            assert found_sql.get(table), f"{channel}: no {table} rows to erase: the test would prove nothing"
        assert any(":state" in k for k in found_redis) and any(":sent:" in k for k in found_redis), found_redis
        assert any(":dlq:" in k for k in found_redis), "a dead letter of the conversation"

        doc = export(who, engine=w.engine, client=w.redis, keys=keys, pseudonyms=w.pseudonyms)
        assert doc["profile"]["id"] == who.id and doc["profile"]["channel"] == channel
        assert {h["wording"] for h in doc["consents"]["history"]} >= {
            "May we learn from this conversation (anonymised)?"
        }
        got = exported_rows(doc)
        for table, pks in found_sql.items():
            assert set(pks) <= got[table], f"{channel}: export misses {table} rows {set(pks) - got[table]}"
        for key, entries in found_redis.items():
            if expiring(w, key):
                continue  # a rate-limit window that may expire between the scan and the export
            if entries in (["(name)"], ["(value)"]):
                assert key in doc["redis"], f"{channel}: export misses Redis key {key}"
            else:
                listed = {e["id"] for e in doc["redis"]["inbound stream entries"] + doc["redis"]["dead letters"]}
                assert set(entries) <= listed, f"{channel}: export misses entries of {key}"
        assert who.id in to_json(doc)

        report = erase(who, engine=w.engine, client=w.redis, keys=keys, pseudonyms=w.pseudonyms, actor="test")
        assert report.removed["sql:messages"] >= 6 and report.removed["redis:conversation keys"] >= 2

        assert sql_hits(w.engine, needles(w, channel), (subject,)) == {}, f"{channel}: rows left"
        assert redis_hits(w.redis, needles(w, channel)) == {}, f"{channel}: Redis keys or entries left"
        with w.engine.connect() as conn:
            record = conn.execute(select(erasures).where(erasures.c.id == report.erasure_id)).one()
        assert record.subject_hash == w.pseudonyms.erasure_hash(who) and record.channel == channel
        assert who.id not in str(tuple(record))
        assert erased_at(w.redis, "bb", w.pseudonyms, who) == pytest.approx(report.at.timestamp())
    assert sql_hits(w.engine, control_needles) == control_sql, "other customers keep every row"
    after = redis_hits(w.redis, control_needles)
    assert {k: after.get(k) for k in control_redis} == control_redis, "other customers keep every key"
    # a second erasure finds nothing more and still records itself
    again = erase(w.targets["sms"], engine=w.engine, client=w.redis, keys=keys, pseudonyms=w.pseudonyms, actor="test")
    assert again.total == 0
    assert erased_at(w.redis, "bb", w.pseudonyms, w.controls["sms"]) is None


@pytest.mark.parametrize(
    ("key", "customer_data"),
    [
        ("bb:{sms:+33612345678}:state", True),
        ("bb:sent:{sms:+33612345678}:sms:SM1:0", True),
        ("bb:twilio:sent_ids:{sms:+33612345678}", True),
        ("bb:twilio:opted_out:{sms:+33612345678}", True),
        ("{bb:telegram:rl}:{telegram:42}:1/1", True),
        ("bb:{webchat:vAbcdefgh123}:rate:29456", True),
        ("bb:dedupe:{s3}:webchat:vAbcdefgh123:c-1", True),
        ("bb:meta:last_inbound:{messenger:6543210987654321}", True),
        ("bb:meta:sent:{whatsapp_cloud:+33612345678}:k1", True),
        ("{bb:telegram:rl}:overall:30/1", False),
        ("{bb:meta:rl}:messenger:104857600000001:80/1", False),
        ("{bb:twilio:rl}:whatsapp:+14155238886:10/1", False),
        ("bb:presence", False),
        ("bb:something-new:{sms:+33612345678}", None),
    ],
)
def test_key_families_tell_customer_keys_from_the_rest(key: str, customer_data: bool | None) -> None:
    family = key_family(key, "bb")
    assert (None if family is None else family.customer_data) == customer_data
