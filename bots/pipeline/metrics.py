"""Prometheus metrics of the pipeline (prometheus-client).

Counters and histograms live in the process's default registry. Under gunicorn
with several web workers, or with worker processes next to it, set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before the processes start:
prometheus-client then writes per-process files and ``/metrics`` aggregates them
(see :func:`bots.web.metrics.render`). Queue depth and lag are not process
counters: :class:`QueueCollector` reads them from Redis at scrape time, so every
process reports the same truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .keys import GROUP, Keys

log = logging.getLogger(__name__)

__all__ = [
    "INBOUND",
    "TURN_SECONDS",
    "DELIVERY_SECONDS",
    "SENDS",
    "RETRIES",
    "DEAD_LETTERS",
    "HANDOFFS",
    "TURN_ERRORS",
    "QueueCollector",
]

INBOUND = Counter(
    "brandbot_inbound_messages",
    "Inbound messages seen by webhooks, by channel and result (accepted, duplicate, refused).",
    ["channel", "result"],
)
TURN_SECONDS = Histogram(
    "brandbot_turn_seconds",
    "Time a worker spends on one inbound message: dialogue turn plus sends.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DELIVERY_SECONDS = Histogram(
    "brandbot_delivery_seconds",
    "From the webhook accepting an inbound message to its reply being sent.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SENDS = Counter(
    "brandbot_sends",
    "Outbound sends by channel and outcome (sent, duplicate, failed, dead).",
    ["channel", "outcome"],
)
RETRIES = Counter("brandbot_send_retries", "Send attempts retried after a transient error.", ["channel"])
DEAD_LETTERS = Counter("brandbot_dead_letters", "Entries added to the dead-letter stream, by kind.", ["kind"])
HANDOFFS = Counter(
    "brandbot_handoffs",
    "Conversations handed to a human: turns whose result has a 'handoff_requested' event.",
    ["channel"],
)
TURN_ERRORS = Counter("brandbot_turn_errors", "Dialogue turns that raised, by exception class.", ["error"])


class QueueCollector(Collector):
    """Queue depth (backlog), pending and lag (age of the oldest waiting message), read from Redis."""

    def __init__(self, client: Any, keys: Keys, clock: Any = time.time) -> None:
        self.client = client
        self.keys = keys
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("brandbot_queue_depth", "Inbound messages not yet acknowledged.")
        pending = GaugeMetricFamily("brandbot_queue_pending", "Inbound messages being worked on (read, not acked).")
        lag = GaugeMetricFamily("brandbot_queue_lag_seconds", "Age of the oldest unacknowledged inbound message.")
        dead = GaugeMetricFamily("brandbot_dead_letter_depth", "Entries waiting in the dead-letter stream.")
        streams = self.keys.all_streams()
        try:
            pipe = self.client.pipeline(transaction=False)
            for stream in streams:
                pipe.xlen(stream)
                pipe.xrange(stream, count=1)
                pipe.xpending(stream, GROUP)
            pipe.xlen(self.keys.dlq)
            replies = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            log.warning("queue metrics unavailable: %s", exc)
            return
        total, in_flight, oldest_ms = 0, 0, None
        for i in range(len(streams)):
            length, first, pend = replies[3 * i : 3 * i + 3]
            if isinstance(length, Exception):
                log.warning("queue metrics unavailable: %s", length)
                return
            total += int(length)
            if first and not isinstance(first, Exception):
                raw = first[0][0]
                ms = int((raw.decode() if isinstance(raw, bytes) else raw).split("-")[0])
                oldest_ms = ms if oldest_ms is None else min(oldest_ms, ms)
            if not isinstance(pend, Exception):  # NOGROUP: no worker has started yet
                in_flight += int(pend["pending"])
        depth.add_metric([], total)
        pending.add_metric([], in_flight)
        lag.add_metric([], 0.0 if oldest_ms is None else max(0.0, self.clock() - oldest_ms / 1000))
        dlq_len = replies[-1]
        dead.add_metric([], 0 if isinstance(dlq_len, Exception) else int(dlq_len))
        yield depth
        yield pending
        yield lag
        yield dead
