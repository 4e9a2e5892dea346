"""Erase a customer everywhere (SQL and Redis) in one call, leaving a minimal erasure record.

Order, so a concurrent turn cannot bring data back half-way:

1. take the conversation's dialogue lock (no turn of it runs meanwhile; a busy
   conversation is waited for up to ``lock_wait`` seconds);
2. read the trace (delivery keys, inbound message ids), then delete every registered
   table's rows and insert the ``erasures`` row, in one SQL transaction;
3. delete the inbound stream and dead-letter entries of the conversation, its dedupe keys
   and every key tagged with it, leave a tombstone (:func:`erased_at`: a keyed hash and the
   time, for an hour) so a worker holding an older message of the customer drops it, then
   release the lock.

The erasure record holds the time, the channel, who asked and counts of what was removed,
plus a keyed hash of ``"channel:id"`` (:meth:`Pseudonyms.erasure_hash`): enough to
answer "was this customer erased, and when?" for someone who has the id, nothing for
someone who has not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import SQLAlchemyError

from ..dialogue.errors import ConversationBusy
from ..dialogue.store import Lease, StateStore
from ..errors import StoreUnavailable
from ..pipeline.keys import GROUP, Keys
from .customer import Customer
from .errors import PrivacyError
from .pseudonyms import Pseudonyms
from .redis_traces import dedupe_keys, queued_message_ids, stream_entries, tagged_keys
from .registry import SQL_STORES, trace_of
from .tables import erasures

log = logging.getLogger(__name__)

__all__ = ["ErasureReport", "erase", "erased_at", "tombstone_key", "TOMBSTONE_SECONDS"]

#: how long an erasure's tombstone tells workers to drop the customer's older messages.
TOMBSTONE_SECONDS = 3600


def tombstone_key(prefix: str, pseudonyms: Pseudonyms, who: Customer) -> str:
    """``<prefix>:erased:{<erasure hash>}``: names no customer (a keyed hash)."""
    return f"{prefix}:erased:{{{pseudonyms.erasure_hash(who)}}}"


def erased_at(client: redis.Redis, prefix: str, pseudonyms: Pseudonyms, who: Customer) -> float | None:
    """When ``who`` was erased (epoch seconds) if within the last :data:`TOMBSTONE_SECONDS`, else None.

    A worker that read a message of this customer before the erasure (and waited for the
    conversation's lock meanwhile) drops it when its enqueue time is older than this, so
    an erased conversation does not come back from a message sent before "delete my data".
    """
    got = client.get(tombstone_key(prefix, pseudonyms, who))
    return float(got) if got is not None else None


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure removed: rows per table (``sql:<table>``), keys or entries per Redis family."""

    erasure_id: int
    at: datetime
    removed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def erase(
    who: Customer,
    *,
    engine: Engine,
    client: redis.Redis,
    keys: Keys,
    pseudonyms: Pseudonyms,
    actor: str,
    lock_wait: float = 10.0,
    held: Lease | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ErasureReport:
    """Remove every trace of ``who`` from SQL and Redis.

    Args:
        who: the customer (from :func:`bots.privacy.customer.customer`).
        engine: the SQL engine.
        client: the Redis client every process shares.
        keys: the pipeline's key names (``bots.pipeline.keys_for(settings)``).
        pseudonyms: from ``privacy.analytics_secret``.
        actor: who asked ("cli", "customer", "staff:<id>"); kept in the erasure record.
        lock_wait: seconds to wait for a conversation that is mid-turn.
        held: the conversation's lock when the caller holds it (a turn answering "delete my
            data"): it is used, kept and left for the caller to release (and the caller must
            not save the dialogue state afterwards).

    Returns:
        The counts removed, per table and key family, and the erasure record's id.

    Raises:
        PrivacyError: the conversation stayed busy for ``lock_wait`` seconds (try again).
        StoreUnavailable: SQL or Redis does not answer (nothing or part removed: run it again).
    """
    conv = who.conversation_id
    store = StateStore(client, keys.prefix, lock_wait=lock_wait, lock_ttl=max(30.0, lock_wait * 3))
    if held is not None and held.conversation_id != conv:
        raise PrivacyError(f"the lock held is for another conversation than the {who.channel} customer's")
    try:
        lease = held or store.acquire(conv)
    except ConversationBusy as exc:
        raise PrivacyError(f"the conversation is mid-turn and stayed busy for {lock_wait:g} s; run it again") from exc
    removed: dict[str, int] = {}
    at = clock()
    try:
        with engine.begin() as conn:
            trace = trace_of(conn, who, pseudonyms.subject(who))
            for sql_store in SQL_STORES:
                removed[f"sql:{sql_store.table.name}"] = conn.execute(
                    delete(sql_store.table).where(sql_store.where(trace))
                ).rowcount
            erasure_id = int(
                conn.execute(
                    insert(erasures)
                    .values(
                        at=at,
                        channel=who.channel,
                        subject_hash=pseudonyms.erasure_hash(who),
                        actor=actor,
                        removed={k: v for k, v in removed.items() if v},
                    )
                    .returning(erasures.c.id)
                ).scalar_one()
            )
    except SQLAlchemyError as exc:
        if held is None:
            store.release(lease)  # free the conversation; nothing was removed
        raise StoreUnavailable(f"erasure of a {who.channel} customer failed in SQL (nothing removed): {exc}") from exc
    try:
        removed.update(_erase_redis(client, keys, who, trace.inbound_ids, keep=store.lock_key(conv)))
        client.set(tombstone_key(keys.prefix, pseudonyms, who), repr(at.timestamp()), ex=TOMBSTONE_SECONDS)
        if held is None:
            store.release(lease)
    except redis.RedisError as exc:
        raise StoreUnavailable(
            f"erasure of a {who.channel} customer: SQL done (record {erasure_id}), Redis failed: {exc}; run it again"
        ) from exc
    log.info("erased a %s customer (erasure %d, %d rows and keys)", who.channel, erasure_id, sum(removed.values()))
    return ErasureReport(erasure_id, at, removed)


def _erase_redis(
    client: redis.Redis, keys: Keys, who: Customer, inbound_ids: tuple[str, ...], keep: str
) -> dict[str, int]:
    """Remove the customer's stream entries, dedupe keys and tagged keys (all but ``keep``: our lock)."""
    conv = who.conversation_id
    removed: dict[str, int] = {}
    stream = keys.stream(keys.shard_of(conv))
    queued = list(stream_entries(client, stream, "c", conv))
    entries = [i for i, _ in queued]
    if entries:
        pipe = client.pipeline(transaction=False)
        pipe.xack(stream, GROUP, *entries)
        pipe.xdel(stream, *entries)
        results = pipe.execute(raise_on_error=False)
        if isinstance(results[1], Exception):
            raise results[1]
    removed["redis:inbound stream entries"] = len(entries)
    letters = [i for i, _ in stream_entries(client, keys.dlq, "conversation_id", conv)]
    if letters:
        client.xdel(keys.dlq, *letters)
    removed["redis:dead letters"] = len(letters)
    message_ids = inbound_ids + queued_message_ids(queued)
    removed["redis:dedupe keys"] = _unlink(client, dedupe_keys(client, keys, who, message_ids))
    removed["redis:conversation keys"] = _unlink(client, [k for k in tagged_keys(client, who) if k != keep])
    return removed


def _unlink(client: redis.Redis, names: list[str]) -> int:
    """Delete keys one command each (keys of different slots cannot share one on Redis Cluster)."""
    if not names:
        return 0
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.unlink(name)
    return sum(int(n) for n in pipe.execute())
