"""One asyncio event loop in a daemon thread, for async SDKs called from worker threads.

The runtime's workers are threads; python-telegram-bot is async. Instead of an
``asyncio.run()`` per message, a connector owns one :class:`LoopThread` and
submits coroutines to it with a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Awaitable, Callable, Coroutine, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """An event loop running forever in a daemon thread, started on first use.

    Args:
        name: thread name (shows in thread dumps).
    """

    def __init__(self, name: str = "connector-loop") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name}: the event loop is closed (close() was called)")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name=self.name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def running(self) -> bool:
        return self._loop is not None and not self._closed

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop and wait for its result.

        Raises:
            TimeoutError: it did not finish within ``timeout`` seconds (it is cancelled).
            Whatever the coroutine raised.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(f"{self.name}: run() called from inside the loop thread would deadlock")
        try:
            loop = self._ensure()
        except RuntimeError:
            coro.close()
            raise
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise TimeoutError(f"{self.name}: no result within {timeout:g} s") from exc

    def close(self, cleanup: Callable[[], Awaitable[Any]] | None = None, timeout: float = 5.0) -> None:
        """Run ``cleanup`` (if any) on the loop, then stop and close it; idempotent."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._closed = True
            self._loop = None
        if loop is None:
            return
        try:
            if cleanup is not None:
                asyncio.run_coroutine_threadsafe(cleanup(), loop).result(timeout)  # type: ignore[arg-type]
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(timeout)
            if not loop.is_running():
                loop.close()
