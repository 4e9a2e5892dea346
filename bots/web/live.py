"""Live updates for web pages: one Redis pub/sub subscriber per process, fanned out to SSE streams.

Every process publishes live events on one channel (:func:`bots.live_events.live_channel`).
Each web process runs ONE :class:`LiveHub`: a daemon thread (a greenlet under gunicorn's
gevent worker, whose monkey patching turns threads, locks and sockets cooperative) that
listens with blocking ``get_message(timeout=...)`` calls and hands every decoded event to
the local subscriptions whose ``match`` accepts it. Each subscription has a bounded queue:
a slow reader loses its backlog and gets ``{"type": "resync"}`` instead of growing memory.
After a Redis error the hub reconnects with backoff and sends ``{"type": "resync"}`` to
every subscription (events published meanwhile are gone: pages reload their state).

:func:`sse_response` streams events to a browser as ``text/event-stream``.

Usage in a view::

    hub = live_hub(current_app)
    sub = hub.subscribe(lambda e: e.get("conversation_id") == cid)

    def events():
        try:
            while True:
                event = sub.get(timeout=5)
                yield None if event is None else SseEvent(encode(event), event=event["type"])
        finally:
            sub.close()

    return sse_response(events())
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import redis
from flask import Flask, Response

from ..live_events import live_channel
from ..services import Services
from ..stores.redis_client import make_redis

log = logging.getLogger(__name__)

__all__ = [
    "LiveHub",
    "Subscription",
    "SseEvent",
    "RESYNC",
    "sse_response",
    "format_event",
    "init_live",
    "live_hub",
]

#: what a subscription receives when it may have missed events (reconnect, overflow).
RESYNC: dict[str, Any] = {"type": "resync"}
_EXTENSION = "live_hub"

Match = Callable[[dict[str, Any]], bool]


class Subscription:
    """One reader's view of the hub: the events its ``match`` accepted, in a bounded queue.

    Use :meth:`get` from one greenlet/thread; call :meth:`close` when done (a ``with`` block does it).
    """

    def __init__(self, hub: LiveHub, match: Match, maxsize: int) -> None:
        self._hub = hub
        self.match = match
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=maxsize)
        self.dropped = 0
        self.closed = False

    def get(self, timeout: float) -> dict[str, Any] | None:
        """The next event, waiting up to ``timeout`` seconds; None if none came."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def offer(self, event: dict[str, Any]) -> None:
        """Queue ``event`` (called by the hub); on overflow drop the backlog and queue a resync."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            while True:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    break
            self.dropped += 1  # the event that did not fit
            with contextlib.suppress(queue.Full):  # a concurrent offer refilled it; it will resync too
                self._queue.put_nowait(dict(RESYNC))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LiveHub:
    """One pub/sub subscriber per process, fanning the channel's events out to subscriptions.

    Args:
        redis_source: a Redis URL, or a function returning a new client (its own connection:
            a pub/sub connection cannot run other commands).
        channel: the pub/sub channel (``live_channel(stores.key_prefix)``).
        queue_size: events buffered per subscription before it is told to resync.
        poll_seconds: longest blocking read; bounds how long :meth:`stop` waits.
        backoff: (first, longest) pause in seconds between reconnect attempts.
    """

    def __init__(
        self,
        redis_source: str | Callable[[], redis.Redis],
        channel: str,
        *,
        queue_size: int = 256,
        poll_seconds: float = 1.0,
        backoff: tuple[float, float] = (0.1, 5.0),
    ) -> None:
        if isinstance(redis_source, str):
            url = redis_source
            self._factory: Callable[[], redis.Redis] = lambda: make_redis(
                url, socket_timeout=30, health_check_interval=0
            )
        else:
            self._factory = redis_source
        self.channel = channel
        self.queue_size = queue_size
        self.poll_seconds = poll_seconds
        self.backoff = backoff
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.connected = threading.Event()
        self._thread: threading.Thread | None = None
        #: times the hub (re)connected; the first connection counts.
        self.connections = 0
        self.events_received = 0

    # -- subscriptions ---------------------------------------------------

    def subscribe(self, match: Match) -> Subscription:
        """A new subscription to the events ``match`` accepts (resync events always pass).

        Starts the hub on first use. A subscription made before the hub is connected gets a
        resync once it is, so a reader may read its backlog right after subscribing.
        """
        sub = Subscription(self, match, self.queue_size)
        with self._lock:
            self._subs.add(sub)
        self.start()
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscriptions(self) -> int:
        with self._lock:
            return len(self._subs)

    def dispatch(self, event: dict[str, Any]) -> int:
        """Hand ``event`` to every matching subscription (resync: to all); returns how many got it."""
        with self._lock:
            subs = list(self._subs)
        resync = event.get("type") == "resync"
        given = 0
        for sub in subs:
            try:
                wanted = resync or sub.match(event)
            except Exception:
                log.exception("live subscription predicate failed on %s", event.get("type"))
                continue
            if wanted:
                sub.offer(event if not resync else dict(RESYNC))
                given += 1
        return given

    # -- the listener ----------------------------------------------------

    def start(self) -> LiveHub:
        """Start the listener thread (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="brandbot-live-hub", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening (subscriptions stay; they just receive nothing more)."""
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._thread = None
        self.connected.clear()

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    def _run(self) -> None:
        pause = self.backoff[0]
        while not self._stopping.is_set():
            client: redis.Redis | None = None
            pubsub = None
            try:
                client = self._factory()
                pubsub = client.pubsub()
                pubsub.subscribe(self.channel)
                self._await_confirmation(pubsub)
                self.connections += 1
                self.connected.set()
                pause = self.backoff[0]
                # whoever subscribed before now may have missed events: tell them all.
                self.dispatch(dict(RESYNC))
                self._listen(pubsub)
            except (redis.RedisError, OSError) as exc:
                if self._stopping.is_set():
                    break
                self.connected.clear()
                log.warning(
                    "live hub: Redis pub/sub on %s failed (%s); reconnecting in %.1fs", self.channel, exc, pause
                )
                self._stopping.wait(pause)
                pause = min(pause * 2, self.backoff[1])
            finally:
                self.connected.clear()
                for closeable in (pubsub, client):
                    if closeable is not None:
                        with contextlib.suppress(redis.RedisError, OSError):  # already broken
                            closeable.close()

    def _await_confirmation(self, pubsub: Any) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = pubsub.get_message(timeout=self.poll_seconds)
            if msg is not None and msg.get("type") == "subscribe":
                return
            if self._stopping.is_set():
                return
        raise redis.ConnectionError(f"no SUBSCRIBE confirmation for {self.channel} within 10s")

    def _listen(self, pubsub: Any) -> None:
        while not self._stopping.is_set():
            msg = pubsub.get_message(timeout=self.poll_seconds)
            if msg is None or msg.get("type") != "message":
                continue
            self.events_received += 1
            try:
                event = json.loads(msg["data"])
            except (TypeError, ValueError):
                log.warning("live hub: ignoring an undecodable event on %s", self.channel)
                continue
            if isinstance(event, dict):
                self.dispatch(event)


# -- one hub per app -----------------------------------------------------


def init_live(app: Flask, services: Services) -> LiveHub:
    """The app's hub, created on first call (not started until someone subscribes)."""
    hub = app.extensions.get(_EXTENSION)
    if hub is None:
        hub = app.extensions[_EXTENSION] = LiveHub(
            services.redis_url, live_channel(services.settings.stores.key_prefix)
        )
    return hub


def live_hub(app: Flask) -> LiveHub:
    """The hub :func:`init_live` made for ``app`` (KeyError if none was)."""
    return app.extensions[_EXTENSION]


# -- Server-Sent Events -----------------------------------------------------


class SseEvent(NamedTuple):
    """One Server-Sent Event: ``data`` (one string, newlines allowed), optional ``event`` and ``id``."""

    data: str
    event: str | None = None
    id: str | None = None


def _field(name: str, value: str) -> str:
    # a field value cannot hold a line break: one line per line of the value.
    return "".join(f"{name}: {line}\n" for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def format_event(event: SseEvent) -> str:
    """The wire text of ``event`` (ending in the blank line that dispatches it)."""
    out = ""
    if event.id is not None:
        out += _field("id", event.id.replace("\n", " "))
    if event.event is not None:
        out += _field("event", event.event.replace("\n", " "))
    return out + _field("data", event.data) + "\n"


@dataclass(frozen=True)
class _StreamLimits:
    heartbeat_seconds: float
    max_seconds: float
    retry_ms: int


def _stream(
    events: Iterable[SseEvent | None],
    limits: _StreamLimits,
    on_heartbeat: Callable[[], None] | None,
    clock: Callable[[], float],
) -> Iterator[str]:
    started = last_write = clock()
    source = iter(events)
    try:
        yield f"retry: {limits.retry_ms}\n: connected\n\n"
        for item in source:
            now = clock()
            if item is not None:
                yield format_event(item)
                last_write = now
            elif now - last_write >= limits.heartbeat_seconds:
                if on_heartbeat is not None:
                    on_heartbeat()
                yield ": heartbeat\n\n"
                last_write = now
            if now - started >= limits.max_seconds:
                return  # the browser reconnects (after retry ms) with Last-Event-ID
    finally:
        close = getattr(source, "close", None)  # a generator: run its finally (unsubscribe)
        if close is not None:
            close()


def sse_response(
    events: Iterable[SseEvent | None],
    *,
    heartbeat_seconds: float = 15.0,
    max_seconds: float = 300.0,
    retry_ms: int = 3000,
    on_heartbeat: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Response:
    """Stream ``events`` as ``text/event-stream``.

    Args:
        events: yields an :class:`SseEvent` to send, or None when it has nothing (it should
            yield at least every few seconds, e.g. after ``Subscription.get(timeout=5)``, so
            heartbeats and the time limit are kept). Closed when the stream ends, so its
            ``finally`` can close its subscription.
        heartbeat_seconds: a comment line after this long without a write (keeps proxies from
            closing the connection and finds dead clients).
        max_seconds: end the response after this long; EventSource reconnects by itself.
        retry_ms: the reconnect delay hinted to the browser.
        on_heartbeat: called before each heartbeat (e.g. a presence beat).
        clock: monotonic seconds (tests).
    """
    limits = _StreamLimits(heartbeat_seconds, max_seconds, retry_ms)
    response = Response(_stream(events, limits, on_heartbeat, clock), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
