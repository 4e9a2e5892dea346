"""Group commit: concurrent threads of one process share one Redis round trip.

A thread hands its item to :meth:`GroupCommit.submit`. If no batch is in flight it
becomes the *leader*: it sends everything queued at once (itself included) through
``send_batch`` and then hands leadership to the first thread that queued while it
was sending, if any. Threads arriving while a batch is in flight wait; the next
leader sends them together. No timer: at low load every call is sent at once, alone.

``send_batch(items) -> results`` returns one result per item, in order; a result
that is an exception is raised in that item's caller only. If ``send_batch`` itself
raises, every caller of that batch gets that exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, cast

__all__ = ["GroupCommit"]

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("done", "error", "item", "lead", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.result: R | None = None
        self.error: BaseException | None = None
        self.lead = False
        self.done = threading.Event()


class GroupCommit(Generic[T, R]):
    """Batch concurrent calls into one ``send_batch`` call per round trip (thread-safe)."""

    def __init__(self, send_batch: Callable[[Sequence[T]], Sequence[R | BaseException]]) -> None:
        self._send_batch = send_batch
        self._lock = threading.Lock()
        self._queue: list[_Slot[T, R]] = []
        self._busy = False
        self.batches = 0  # how many round trips were made (for tests and benchmarks)
        self.items = 0

    def submit(self, item: T) -> R:
        """Send ``item`` with whatever else is queued; return its result or raise its error."""
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            if self._busy:
                lead = False
            else:
                self._busy = lead = True
        if not lead:
            slot.done.wait()
            lead = slot.lead
        if lead:
            self._lead()
        if slot.error is not None:
            raise slot.error
        return cast(R, slot.result)  # the leader filled it (None only as long as the slot waits)

    def _lead(self) -> None:
        """Send the whole queue as one batch, fill every slot, hand leadership on."""
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            try:
                results = list(self._send_batch([s.item for s in batch]))
                if len(results) != len(batch):
                    raise RuntimeError(f"send_batch returned {len(results)} results for {len(batch)} items")
            except BaseException as exc:  # noqa: BLE001 - not swallowed: every caller of this batch raises it
                results = [exc] * len(batch)
            self.batches += 1
            self.items += len(batch)
            for s, r in zip(batch, results, strict=True):  # same length: checked above
                if isinstance(r, BaseException):
                    s.error = r
                else:
                    s.result = r
        finally:
            with self._lock:
                nxt = self._queue[0] if self._queue else None
                if nxt is None:
                    self._busy = False
                else:
                    nxt.lead = True  # it wakes, sends the queue (itself first), and hands on in turn
            for s in batch:
                s.done.set()
            if nxt is not None:
                nxt.done.set()
