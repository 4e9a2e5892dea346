"""Reading the inbound shards in order: leases, consumer group, recovery with XAUTOCLAIM.

Ordering model (why a conversation is never handled twice at once, nor out of order)
------------------------------------------------------------------------------------
Ingest routes every message of a conversation to one shard stream
(``crc32(conversation) % shards``), in arrival order (XADD ids increase).

A shard is read by one worker at a time: the holder of its lease
(``SET lease NX PX lease_ms``, renewed by a heartbeat thread every
``lease_ms / 3``, released on a clean stop). Only the holder reads new entries
(XREADGROUP ``>``), one entry per shard per round, and it finishes (acks) an
entry before reading the next one of that shard. So within a shard, entry n+1
is never read before entry n is acknowledged: the race "two workers read two
messages of a conversation and the later one wins the lock" cannot happen,
because there is no second reader and no per-conversation lock to race for.
Different shards are held by different workers and run in parallel; each worker
takes at most ``ceil(shards / live workers)`` shards and gives up the excess as
workers join.

A holder reads a shard only while its lease was renewed less than half a lease
ago, so a worker that lost its lease (paused, partitioned) and has not noticed
yet never reads new entries next to the new holder.

Recovery. When a shard changes hands, entries its previous holder had read but
not acknowledged stay pending in the consumer group. Before reading anything
new the new holder looks at the oldest pending entry (XPENDING): if it is its
own (an earlier failure) it processes it again; if it belongs to another
consumer, it waits until that entry has been idle ``claim_idle_ms`` and takes it
with XAUTOCLAIM (starting at that id, count 1, so it is taken first). New
entries are read only once nothing is pending, so order survives a crash. A
holder that lost its lease (paused, partitioned) and still finishes its turn
cannot race the new holder on the next message: the new holder waits for the
old entry to be acked or idle for ``claim_idle_ms``; a turn longer than that
may be redone, which is safe because sends are idempotent.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import redis

from connectors.base import Inbound

from .keys import GROUP, Keys
from .scripts import script

log = logging.getLogger(__name__)

__all__ = ["Entry", "ShardConsumer"]


def _s(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


@dataclass
class Entry:
    """One inbound stream entry handed to a worker."""

    shard: int
    id: str
    fields: dict[str, str]
    #: how many times the group delivered it (1 on first read).
    deliveries: int = 1

    @property
    def enqueued_at(self) -> float | None:
        try:
            return float(self.fields["at"])
        except (KeyError, ValueError):
            return None

    def inbound(self) -> Inbound:
        """Decode the message (raises ValueError/KeyError/TypeError on a corrupt entry)."""
        return Inbound.from_dict(json.loads(self.fields["m"]))


@dataclass
class _Shard:
    recovering: bool = True
    #: next time a stalled recovery may look again (monotonic seconds).
    wait_until: float = 0.0
    #: when the lease was last set or renewed (monotonic seconds, taken before the call).
    renewed_at: float = field(default_factory=time.monotonic)


@dataclass
class ShardConsumer:
    """One worker's view of the shards: which it holds, what to read next, acks.

    Args:
        redis: Redis or RedisCluster client.
        keys: key names.
        name: this consumer's unique name in the group (and lease value).
        lease_ms: lease time to live.
        claim_idle_ms: idle time after which another consumer's pending entry may be claimed.
    """

    redis: Any
    keys: Keys
    name: str
    lease_ms: int
    claim_idle_ms: int
    held: dict[int, _Shard] = field(default_factory=dict)
    lost: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- groups -----------------------------------------------------------------
    def ensure_groups(self) -> None:
        """Create the consumer group on every shard stream (from id 0, so nothing enqueued before is missed)."""
        for stream in self.keys.all_streams():
            try:
                self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    # -- leases -----------------------------------------------------------------
    def _rank(self, shard: int) -> int:
        return zlib.crc32(f"{self.name}/{shard}".encode())

    def _now_ms(self) -> int:
        """Redis's clock (TIME), so workers on machines with skewed clocks agree on who is alive."""
        sec, usec = self.redis.time()
        return int(sec) * 1000 + int(usec) // 1000

    def live_workers(self) -> int:
        now_ms = self._now_ms()
        # a live worker beats every lease_ms / 3: one silent for a whole lease is gone
        return max(1, int(self.redis.zcount(self.keys.workers, now_ms - self.lease_ms, "+inf")))

    def heartbeat(self) -> None:
        """Renew held leases (noting lost ones) and say this worker is alive. Safe from another thread."""
        now_ms = self._now_ms()
        self.redis.zadd(self.keys.workers, {self.name: now_ms})
        renew = script(self.redis, "lease_renew")
        with self._lock:
            shards = list(self.held)
        for shard in shards:
            asked_at = time.monotonic()
            if renew(keys=[self.keys.lease(shard)], args=[self.name, self.lease_ms]):
                with self._lock:
                    st = self.held.get(shard)
                    if st is not None:
                        st.renewed_at = asked_at
            else:
                log.warning("%s lost the lease of shard %d", self.name, shard)
                with self._lock:
                    self.lost.add(shard)

    def rebalance(self) -> None:
        """Drop lost shards, give up shards above this worker's fair share, take free ones up to it.

        Call between rounds only (nothing of a released shard may be in flight).
        """
        now_ms = self._now_ms()
        self.redis.zremrangebyscore(self.keys.workers, "-inf", now_ms - 10 * self.lease_ms)
        with self._lock:
            for shard in self.lost:
                self.held.pop(shard, None)
            self.lost.clear()
        cap = math.ceil(self.keys.shards / self.live_workers())
        release = script(self.redis, "lease_release")
        if len(self.held) > cap:
            # give up clean shards (nothing of ours pending), those this worker ranks last first;
            # a shard still recovering stays, or its next holder would wait claim_idle_ms for it
            with self._lock:
                clean = [s for s, st in self.held.items() if not st.recovering]
            extra = sorted(clean, key=self._rank, reverse=True)[: len(self.held) - cap]
            for shard in extra:
                release(keys=[self.keys.lease(shard)], args=[self.name])
                with self._lock:
                    self.held.pop(shard, None)
        if len(self.held) < cap:
            for shard in sorted(range(self.keys.shards), key=self._rank):
                if len(self.held) >= cap:
                    break
                if shard in self.held:
                    continue
                asked_at = time.monotonic()
                if self.redis.set(self.keys.lease(shard), self.name, nx=True, px=self.lease_ms):
                    log.debug("%s took shard %d", self.name, shard)
                    with self._lock:
                        self.held[shard] = _Shard(renewed_at=asked_at)

    def release_all(self) -> None:
        release = script(self.redis, "lease_release")
        with self._lock:
            shards = list(self.held)
            self.held.clear()
        for shard in shards:
            try:
                release(keys=[self.keys.lease(shard)], args=[self.name])
            except redis.RedisError as exc:
                log.warning("could not release shard %d: %s (it expires in %d ms)", shard, exc, self.lease_ms)
        with contextlib.suppress(redis.RedisError):
            self.redis.zrem(self.keys.workers, self.name)

    def holds(self, shard: int) -> bool:
        with self._lock:
            return shard in self.held and shard not in self.lost

    def mark_recovering(self) -> None:
        """After an error: re-read own pending entries before anything new."""
        with self._lock:
            for st in self.held.values():
                st.recovering = True

    # -- reading ----------------------------------------------------------------
    def _entry(self, shard: int, raw_id: Any, raw_fields: Any, deliveries: int = 1) -> Entry:
        return Entry(shard, _s(raw_id), {_s(k): _s(v) for k, v in (raw_fields or {}).items()}, deliveries)

    def _recover(self, shard: int, st: _Shard) -> Entry | None:
        """The oldest pending entry of ``shard`` if it may be processed now; marks the shard clean when none."""
        if time.monotonic() < st.wait_until:
            return None
        stream = self.keys.stream(shard)
        pend = self.redis.xpending_range(stream, GROUP, min="-", max="+", count=1)
        if not pend:
            st.recovering = False
            return None
        p = pend[0]
        entry_id, owner = _s(p["message_id"]), _s(p["consumer"])
        idle, times = int(p["time_since_delivered"]), int(p["times_delivered"])
        if owner == self.name:
            rows = self.redis.xclaim(stream, GROUP, self.name, 0, [entry_id])
        elif idle >= self.claim_idle_ms:
            res = self.redis.xautoclaim(stream, GROUP, self.name, self.claim_idle_ms, start_id=entry_id, count=1)
            rows = res[1]
            log.info("%s claimed %s of shard %d from %s (idle %d ms)", self.name, entry_id, shard, owner, idle)
        else:
            # another consumer's entry, not idle long enough: new entries must wait behind it
            st.wait_until = time.monotonic() + min(1.0, (self.claim_idle_ms - idle) / 1000)
            return None
        rows = [r for r in rows if r and r[1] is not None]
        if not rows or _s(rows[0][0]) != entry_id:
            # the entry was deleted from the stream (trimmed): drop it from the pending list
            self.redis.xack(stream, GROUP, entry_id)
            return None
        return self._entry(shard, rows[0][0], rows[0][1], times + 1)

    def poll(self) -> list[Entry]:
        """At most one entry per held shard: pending ones first (recovery), then new ones.

        A shard is read only while its lease is surely still ours (renewed less than half a
        lease ago): a worker that lost its lease without noticing yet never reads new entries
        next to the new holder.
        """
        fresh = time.monotonic() - self.lease_ms / 2000
        with self._lock:
            shards = [(s, st) for s, st in self.held.items() if s not in self.lost and st.renewed_at >= fresh]
        out: list[Entry] = []
        clean = []
        for shard, st in shards:
            if st.recovering:
                entry = self._recover(shard, st)
                if entry is not None:
                    out.append(entry)
            else:
                clean.append(shard)
        if clean:
            pipe = self.redis.pipeline(transaction=False)
            for shard in clean:
                pipe.xreadgroup(GROUP, self.name, {self.keys.stream(shard): ">"}, count=1)
            for shard, res in zip(clean, pipe.execute(), strict=True):
                for _stream, rows in res or []:
                    for raw_id, raw_fields in rows:
                        out.append(self._entry(shard, raw_id, raw_fields))
        return out

    def ack(self, entry: Entry) -> None:
        """Acknowledge and delete the entry (call only once its effects are saved)."""
        script(self.redis, "ack")(keys=[self.keys.stream(entry.shard)], args=[GROUP, entry.id])

    def hand_back(self, entries: list[Entry]) -> None:
        """Make read-but-unprocessed entries claimable at once (graceful stop): set their idle time high."""
        for e in entries:
            try:
                self.redis.xclaim(
                    self.keys.stream(e.shard), GROUP, self.name, 0, [e.id], idle=self.claim_idle_ms * 10, justid=True
                )
            except redis.RedisError as exc:
                log.warning("could not hand back %s: %s (claimable after %d ms)", e.id, exc, self.claim_idle_ms)
