"""anyio's blocking portal, for async SDKs (python-telegram-bot) called from worker threads.

The runtime's workers are threads; python-telegram-bot is async. Instead of an
``asyncio.run()`` per message, a connector owns one :class:`Portal`: anyio's
``start_blocking_portal()`` (one event loop in one thread), opened on first use, kept open
for the connector's life and closed by :meth:`Portal.close`. What is ours is only the
per-call timeout and the "closed" state a connector reports; the loop, the thread and the
hand-over between threads are anyio's.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

__all__ = ["Portal"]

T = TypeVar("T")


class Portal:
    """A blocking portal (anyio) opened on first use and closed by :meth:`close`.

    Args:
        name: name of the portal's event loop thread (shows in thread dumps).
    """

    def __init__(self, name: str = "connector-loop") -> None:
        self.name = name
        self._stack: contextlib.ExitStack | None = None
        self._portal: BlockingPortal | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _ensure(self) -> BlockingPortal:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name}: the portal is closed (close() was called)")
            if self._portal is None:
                stack = contextlib.ExitStack()
                self._portal = stack.enter_context(start_blocking_portal("asyncio", name=self.name))
                self._stack = stack
            return self._portal

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def running(self) -> bool:
        return self._portal is not None and not self._closed

    def call(self, func: Callable[[], Awaitable[T]], timeout: float) -> T:
        """Run ``func()`` in the portal's event loop and wait for its result.

        Raises:
            TimeoutError: it did not finish within ``timeout`` seconds (it is cancelled).
            RuntimeError: the portal is closed, or this is called from its own event loop thread.
            Whatever the coroutine raised.
        """
        future = self._ensure().start_task_soon(func)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()  # the portal cancels the task
            raise TimeoutError(f"{self.name}: no result within {timeout:g} s") from exc

    def close(self, cleanup: Callable[[], Awaitable[Any]] | None = None, timeout: float = 5.0) -> None:
        """Run ``cleanup`` (if any) in the loop, cancel what still runs, close the portal; idempotent."""
        with self._lock:
            portal, stack = self._portal, self._stack
            self._closed = True
            self._portal = self._stack = None
        if portal is None or stack is None:
            return
        try:
            if cleanup is not None:
                portal.start_task_soon(cleanup).result(timeout)
        finally:
            with contextlib.suppress(RuntimeError):  # already stopped
                portal.call(portal.stop, True)  # cancel_remaining: a send still waiting is cancelled
            stack.close()  # joins the event loop thread
