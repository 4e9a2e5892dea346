"""The connector-owned anyio blocking portal: one loop for many worker threads, timeouts, close."""

from __future__ import annotations

import asyncio
import threading

import pytest

from connectors._aio import Portal


def _alive(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


def test_calls_from_many_threads_run_on_one_loop_in_one_named_thread():
    portal = Portal("test-portal")
    assert _alive("test-portal") == []  # opened on first use only
    loops: set[int] = set()
    threads_seen: set[str] = set()

    async def which() -> int:
        await asyncio.sleep(0.01)
        threads_seen.add(threading.current_thread().name)
        return id(asyncio.get_running_loop())

    def worker() -> None:
        for _ in range(5):
            loops.add(portal.call(which, timeout=5))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(loops) == 1 and threads_seen == {"test-portal"}
    assert len(_alive("test-portal")) == 1 and portal.running
    portal.close()
    assert _alive("test-portal") == [] and not portal.running


def test_a_slow_call_times_out_and_is_cancelled():
    portal = Portal("test-portal-timeout")
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"no result within 0.05 s"):
        portal.call(slow, timeout=0.05)
    assert cancelled.wait(2)
    assert portal.call(lambda: asyncio.sleep(0, "still usable"), timeout=2) == "still usable"
    portal.close()


def test_errors_reach_the_caller_and_a_closed_portal_refuses_calls():
    portal = Portal("test-portal-errors")

    async def boom() -> None:
        raise ValueError("bad value 7")

    with pytest.raises(ValueError, match="bad value 7"):
        portal.call(boom, timeout=1)
    portal.close()
    portal.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        portal.call(boom, timeout=1)


def test_close_runs_the_cleanup_in_the_loop_then_cancels_what_still_runs():
    portal = Portal("test-portal-close")
    started, cancelled = threading.Event(), threading.Event()
    cleaned: list[str] = []

    async def hangs() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def cleanup() -> None:
        cleaned.append(threading.current_thread().name)

    def call_until_closed() -> None:
        # whatever close() makes the call raise (cancelled, closed): the test checks the cleanup and the cancel
        with pytest.raises(BaseException):  # noqa: B017 - any exception, see above
            portal.call(hangs, 60)

    stuck = threading.Thread(target=call_until_closed, daemon=True)
    stuck.start()
    assert started.wait(5)
    portal.close(cleanup)
    assert cleaned == ["test-portal-close"]
    assert cancelled.wait(2)
    stuck.join(5)
    assert not stuck.is_alive() and _alive("test-portal-close") == []


def test_calling_from_inside_the_loop_thread_is_refused_not_deadlocked():
    portal = Portal("test-portal-reentry")

    async def reenter() -> str:
        try:
            portal.call(lambda: asyncio.sleep(0), timeout=1)
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    assert "event loop thread" in portal.call(reenter, timeout=5)
    portal.close()
