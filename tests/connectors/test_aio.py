"""The connector-owned event loop thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from connectors._aio import LoopThread


def test_runs_coroutines_from_many_threads_on_one_loop():
    loop = LoopThread("test-loop")
    seen: set[int] = set()

    async def which() -> int:
        await asyncio.sleep(0.01)
        return id(asyncio.get_running_loop())

    def worker() -> None:
        for _ in range(5):
            seen.add(loop.run(which(), timeout=5))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 1
    loop.close()
    assert not any(t.name == "test-loop" and t.is_alive() for t in threading.enumerate())


def test_a_slow_coroutine_times_out_and_is_cancelled():
    loop = LoopThread("test-loop-timeout")
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match="no result within 0.05 s"):
        loop.run(slow(), timeout=0.05)
    assert cancelled.wait(2)
    loop.close()


def test_errors_of_the_coroutine_reach_the_caller():
    loop = LoopThread()

    async def boom() -> None:
        raise ValueError("bad value 7")

    with pytest.raises(ValueError, match="bad value 7"):
        loop.run(boom(), timeout=1)
    loop.close()
    with pytest.raises(RuntimeError, match="closed"):
        loop.run(boom(), timeout=1)
