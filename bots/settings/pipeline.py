"""Settings of the delivery pipeline: inbound stream, workers, retries."""

from __future__ import annotations

from pydantic import Field

from ._base import Section


class PipelineSettings(Section):
    #: cap of the inbound queue over all shards. Acked entries are deleted, so the
    #: streams hold only the backlog; at ``stream_maxlen / shards`` entries a shard
    #: refuses new messages (webhook 503, the channel retries) instead of trimming
    #: unread ones. XADD also carries MAXLEN ~ as a hard memory bound.
    stream_maxlen: int = Field(default=100_000, ge=100)
    #: seconds a message's id is remembered for dedupe (and a reply's "sent" mark).
    dedupe_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    #: a pending message is claimed from a silent worker after this many ms.
    claim_idle_ms: int = Field(default=30_000, ge=100)
    send_max_attempts: int = Field(default=5, ge=1, le=20)
    #: inbound streams; a conversation always maps to the same shard. Change only
    #: when the queue is drained (a conversation could move to another shard).
    shards: int = Field(default=16, ge=1, le=1024)
    #: a shard's lease (one reader at a time) expires this many ms after the last renewal.
    lease_ms: int = Field(default=10_000, ge=100)
    #: first retry delay of a failed send (seconds); doubles each try, with full jitter.
    send_backoff_initial: float = Field(default=0.5, gt=0, le=60)
    #: longest wait between two tries of a send (seconds); also caps a channel's retry_after.
    send_backoff_max: float = Field(default=30.0, gt=0, le=600)
    #: tries of the turn handler (dialogue) on an unexpected error before the inbound is dead-lettered.
    turn_max_attempts: int = Field(default=3, ge=1, le=20)
    #: an inbound read this many times and never finished (each worker on it crashed or was
    #: killed) is dead-lettered, with an apology to the customer. Each read after a crash waits
    #: ``claim_idle_ms``, so such a message holds its shard about max_deliveries x claim_idle_ms.
    max_deliveries: int = Field(default=3, ge=2, le=1000)
    #: longest sleep of an idle worker between polls (ms).
    idle_poll_ms: int = Field(default=20, ge=1, le=1000)
    #: cap of the dead-letter stream (oldest trimmed beyond it).
    dlq_maxlen: int = Field(default=100_000, ge=100)
