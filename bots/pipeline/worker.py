"""The worker run loop, and worker threads embedded in ``brandbot serve``.

One :class:`Worker` is one consumer: it holds some shards (see
:mod:`bots.pipeline.consumer`), takes at most one entry per shard per round and
handles them one at a time: turn, sends (retried, dead-lettered), then XACK.
Concurrency = more Workers (threads of ``brandbot worker --concurrency N``, more
processes, more machines); one model per process: plain threads, blocking
clients, no event loop.

Graceful stop (:meth:`Worker.stop`, wired to SIGTERM/SIGINT by the CLI): the
turn in progress finishes and is acked; entries read in the same round but not
started are handed back (made claimable at once); leases are released so other
workers take the shards immediately.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import redis
from sqlalchemy import text

from connectors.base import Connector

from ..dialogue.apology import TurnFailedApology
from ..settings import Settings
from . import metrics
from .consumer import Entry, ShardConsumer
from .deliverer import INFRASTRUCTURE_ERRORS, Deliverer
from .dlq import DeadLetters
from .handlers import Handler, TurnRunner
from .ingest import keys_for
from .turn import Apology

if TYPE_CHECKING:
    from ..handoff.sweeper import Sweeper

log = logging.getLogger(__name__)

__all__ = ["Worker", "EmbeddedWorkers", "start_embedded_workers", "attach_sweeper", "consumer_name"]


def consumer_name(prefix: str = "w") -> str:
    """A unique consumer name: host, pid and a random suffix (a restarted process never reuses one)."""
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    """Processes the inbound queue until stopped.

    Args:
        redis: Redis or RedisCluster client.
        engine: SQL engine (deliveries).
        settings: validated settings.
        handler: the dialogue, ``Inbound -> TurnResult`` (its ``outbounds`` are delivered).
        connectors: channel name -> Connector used to send.
        name: consumer name (default: unique per worker).
        sleep: injected for tests (send backoff and idle waits).
        sweeper: returns over-long handoff waits to the bot
            (:class:`bots.handoff.sweeper.Sweeper`); run every ``sweep_seconds`` from the loop,
            one process at a time (its Redis lock). None: no sweeping here.
        sweep_seconds: how often this worker tries to sweep.
        apology: what a customer whose message is dead-lettered is told (default: the built-in
            text in the brand's default language; the dialogue pipeline gives its own).
    """

    def __init__(
        self,
        redis: Any,
        engine: Any,
        settings: Settings,
        handler: Handler,
        connectors: Mapping[str, Connector],
        name: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        sweeper: Sweeper | None = None,
        sweep_seconds: float = 30.0,
        apology: Apology | None = None,
    ) -> None:
        p = settings.pipeline
        self.settings = settings
        self.redis = redis
        self.name = name or consumer_name()
        self.keys = keys_for(settings)
        self.consumer = ShardConsumer(redis, self.keys, self.name, p.lease_ms, p.claim_idle_ms)
        self.dead_letters = DeadLetters(redis, self.keys, p.dlq_maxlen)
        self.deliverer = Deliverer.from_settings(redis, engine, settings, connectors, self.dead_letters, sleep=sleep)
        self.engine = engine
        self.turns = TurnRunner(
            handler,
            self.deliverer,
            self.dead_letters,
            p.turn_max_attempts,
            sleep=sleep,
            apology=apology or TurnFailedApology(settings.brand.default_language),
            stores_answer=self.stores_answer,
        )
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._groups_ready = False
        self._next_rebalance = 0.0
        self.processed = 0
        self.sweeper = sweeper
        self.sweep_seconds = sweep_seconds
        self._next_sweep = 0.0

    # -- control ----------------------------------------------------------------
    def stop(self) -> None:
        """Ask the worker to stop after the current turn (returns at once; see :meth:`join`)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stores_answer(self) -> bool:
        """True when Redis and SQL both answer now (a store error is then the message's, not an outage)."""
        try:
            self.redis.ping()
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure to answer is taken as an outage
            log.warning("worker %s: stores do not answer (%s)", self.name, exc)
            return False
        return True

    # -- one round --------------------------------------------------------------
    def _prepare(self) -> None:
        if not self._groups_ready:
            self.consumer.ensure_groups()
            self._groups_ready = True
        if time.monotonic() >= self._next_rebalance:
            self.consumer.heartbeat()
            self.consumer.rebalance()
            self._next_rebalance = time.monotonic() + self.settings.pipeline.lease_ms / 3000

    def run_once(self) -> int:
        """One round: rebalance if due, read at most one entry per held shard, handle them. Returns turns done."""
        self._prepare()
        self._maybe_sweep()
        entries = self.consumer.poll()
        done = 0
        for i, entry in enumerate(entries):
            if self._stop.is_set():
                self.consumer.hand_back(entries[i:])
                break
            if not self.consumer.holds(entry.shard):
                continue  # lease lost meanwhile: the new holder claims it after claim_idle_ms
            self.process(entry)
            done += 1
        self.processed += done
        return done

    def _maybe_sweep(self) -> None:
        """Every ``sweep_seconds``: return over-long handoff waits to the bot (if this process
        wins the sweep lock). A sweep's infrastructure error propagates like a turn's."""
        if self.sweeper is None or time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self.sweep_seconds
        self.sweeper.run_if_due()

    def process(self, entry: Entry) -> None:
        """Turn + sends + ack for one entry. Infrastructure errors propagate (entry stays pending)."""
        started = time.perf_counter()
        channel = "?"
        try:
            inbound = entry.inbound()
            channel = inbound.channel
        except (KeyError, ValueError, TypeError) as exc:
            self.dead_letters.add(
                "turn",
                dict(entry.fields),
                f"undecodable entry: {exc}",
                entry.deliveries,
                "?",
                entry.fields.get("c", "?"),
            )
            self.consumer.ack(entry)
            return
        if entry.deliveries > self.settings.pipeline.max_deliveries:
            # read that often and never acknowledged: each worker that took it stopped (crashed,
            # killed, lost its lease) before finishing; a failing turn is dead-lettered by the
            # TurnRunner with its own reason instead
            self.turns.give_up(
                inbound,
                f"read {entry.deliveries - 1} times and never finished: the worker handling it "
                "stopped each time (crash, kill or lost lease)",
                entry.deliveries - 1,
            )
            self.consumer.ack(entry)
            return
        self.turns.run(inbound, enqueued_at=entry.enqueued_at)
        self.consumer.ack(entry)
        metrics.TURN_SECONDS.labels(channel).observe(time.perf_counter() - started)

    # -- loop -------------------------------------------------------------------
    def run(self) -> None:
        """Loop until :meth:`stop`; survives Redis/SQL outages (waits and retries)."""
        idle = 0.001
        max_idle = self.settings.pipeline.idle_poll_ms / 1000
        beat = threading.Thread(target=self._heartbeat_loop, name=f"{self.name}-heartbeat", daemon=True)
        beat.start()
        log.info("worker %s started", self.name)
        try:
            while not self._stop.is_set():
                try:
                    if self.run_once():
                        idle = 0.001
                    else:
                        self._stop.wait(idle)
                        idle = min(max_idle, idle * 2)
                except INFRASTRUCTURE_ERRORS as exc:
                    if isinstance(exc, redis.ResponseError) and "NOGROUP" in str(exc):
                        self._groups_ready = False  # Redis lost the streams (restart without persistence)
                    log.warning("worker %s: store unavailable (%s); retrying in 1s", self.name, exc)
                    self.consumer.mark_recovering()
                    self._next_rebalance = 0.0
                    self._stop.wait(1.0)
                except Exception:  # a bug must not silently end the worker: log, back off, go on
                    log.exception("worker %s: unexpected error; the message stays pending and is retried", self.name)
                    self.consumer.mark_recovering()
                    self._stop.wait(1.0)
        finally:
            self.consumer.release_all()
            self._stopped.set()
            log.info("worker %s stopped after %d turns", self.name, self.processed)

    def _heartbeat_loop(self) -> None:
        period = self.settings.pipeline.lease_ms / 3000
        while not self._stop.wait(period) and not self._stopped.is_set():
            try:
                self.consumer.heartbeat()
            except redis.RedisError as exc:
                log.warning("worker %s heartbeat failed: %s", self.name, exc)


class EmbeddedWorkers:
    """Worker threads inside a web process; :meth:`stop` finishes their turns and joins them."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self.threads = [
            threading.Thread(target=w.run, name=f"brandbot-worker-{i}", daemon=True) for i, w in enumerate(workers)
        ]

    def start(self) -> EmbeddedWorkers:
        for t in self.threads:
            t.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        for w in self.workers:
            w.stop()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))

    @property
    def alive(self) -> int:
        return sum(t.is_alive() for t in self.threads)


def start_embedded_workers(
    services: Any,
    handler: Handler,
    connectors: Mapping[str, Connector],
    count: int,
    sweep: bool = False,
    apology: Apology | None = None,
) -> EmbeddedWorkers:
    """Start ``count`` worker threads sharing the process's Redis client and engine.

    Args:
        services: :class:`bots.services.Services` (settings, redis, engine).
        handler: the dialogue turn, ``Inbound -> TurnResult``.
        connectors: channel -> Connector.
        count: threads (``server.embedded_workers``); 0 starts none.
        sweep: each worker also runs the handoff sweeper (:func:`attach_sweeper`).
        apology: told to a customer whose message is dead-lettered (see :class:`Worker`).

    Returns:
        A handle; call ``handle.stop()`` at shutdown.
    """
    workers = [
        Worker(
            services.redis,
            services.engine,
            services.settings,
            handler,
            connectors,
            name=consumer_name(f"embedded{i}"),
            apology=apology,
        )
        for i in range(count)
    ]
    if sweep:
        for w in workers:
            attach_sweeper(w, services.settings, services.redis, services.engine)
    return EmbeddedWorkers(workers).start()


def attach_sweeper(
    worker: Worker, settings: Settings, redis: Any, engine: Any, clock: Callable[[], Any] | None = None
) -> Sweeper:
    """Give ``worker`` a handoff sweeper that sends its apologies through the worker's own
    Deliverer (the domain is read from the settings). Returns the sweeper."""
    from ..handoff.sweeper import Sweeper

    sweeper = (
        Sweeper.from_settings(settings, redis, engine, worker.deliverer, clock=clock)
        if clock
        else Sweeper.from_settings(settings, redis, engine, worker.deliverer)
    )
    worker.sweeper = sweeper
    return sweeper
