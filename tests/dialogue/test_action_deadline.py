"""Actions run with a deadline they can see and an idempotency key (issue 14).

A timed-out action keeps running in its thread (Python cannot stop it): these tests check
that a write it makes late is refused by a backend that honours the deadline, so the
customer told "I couldn't finish this" is told the truth, and that the runner waits for
a commit already under way instead of calling it a failure.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bots.airline.backend import Booking, SQLiteAirline
from bots.dialogue.actions import (
    ActionContext,
    ActionRegistry,
    ActionResult,
    Deadline,
    DeadlineExceeded,
    action_key,
    load_actions,
)
from bots.dialogue.runtime import ConversationRuntime

from .conftest import inbound

pytestmark = pytest.mark.integration


def ctx(**kw: Any) -> ActionContext:
    return ActionContext("web:1", "en", {}, "run", "f", datetime.now(UTC), **kw)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


# ---------------------------------------------------------------- Deadline
def test_deadline_counts_down_and_refuses_a_late_commit() -> None:
    clock = Clock()
    d = Deadline.within(2.0, clock)
    assert d.remaining() == 2.0 and not d.expired
    clock.t += 2.5
    assert d.remaining() == 0.0 and d.expired
    with pytest.raises(DeadlineExceeded, match=r"passed 0\.500s ago"), d.commit():
        pytest.fail("the block must not run")
    assert not d.committed


def test_runner_giving_up_first_refuses_the_commit_and_a_commit_first_keeps_the_runner_waiting() -> None:
    gave_up = Deadline.within(10)
    assert gave_up.expire() and gave_up.remaining() == 0.0
    with pytest.raises(DeadlineExceeded, match="stopped waiting"), gave_up.commit():
        pass
    committing = Deadline.within(10)
    with committing.commit():
        assert not committing.expire()  # a commit is under way: the runner must wait for it
    assert committing.committed and not committing.expire()


def test_a_context_built_by_hand_has_no_deadline_and_no_key() -> None:
    c = ctx()
    assert c.remaining() == float("inf") and c.idempotency_key == ""


def test_action_key_names_the_inbound_and_the_step() -> None:
    assert action_key("sms", "SM1", "change_seat:change_seat") == "sms:SM1:change_seat:change_seat"
    assert action_key("sms", "SM1", "change_seat:change_seat", 2) == "sms:SM1:change_seat:change_seat:2"


# ---------------------------------------------------------------- the registry
def test_registry_gives_each_run_a_deadline_of_its_timeout() -> None:
    seen: list[float] = []
    reg = ActionRegistry({"a": lambda c: seen.append(c.remaining())}, timeout=2.0)
    assert reg.run("a", ctx()).ok
    assert 1.0 < seen[0] <= 2.0


def test_a_late_commit_is_refused_and_the_run_reported_as_timed_out() -> None:
    done = threading.Event()
    box: list[BaseException] = []

    def slow(c: ActionContext) -> ActionResult:
        try:
            time.sleep(0.5)
            with c.deadline.commit():
                box.append(AssertionError("committed after the deadline"))
        except DeadlineExceeded as exc:
            box.append(exc)
        finally:
            done.set()
        return ActionResult()

    result = ActionRegistry({"slow": slow}, timeout=0.2).run("slow", ctx())
    assert not result.ok and result.error == "timeout after 0.2s"
    assert done.wait(5)
    assert isinstance(box[0], DeadlineExceeded)


def test_a_commit_under_way_at_the_timeout_is_waited_for_and_its_result_told() -> None:
    """The change is being made final when the timeout comes: "it failed" would be a lie."""

    def commit_across_the_deadline(c: ActionContext) -> ActionResult:
        with c.deadline.commit():
            time.sleep(c.remaining() + 0.1)  # the commit ends just after the deadline (grace: 0.5 s)
        return ActionResult(values={"seat": "15C"})

    result = ActionRegistry({"a": commit_across_the_deadline}, timeout=2.0).run("a", ctx())
    assert result.ok and result.values == {"seat": "15C"}, result.error


def test_an_action_stuck_after_its_commit_is_reported_as_such() -> None:
    release = threading.Event()

    def stuck(c: ActionContext) -> ActionResult:
        with c.deadline.commit():
            pass
        release.wait(5)
        return ActionResult()

    result = ActionRegistry({"a": stuck}, timeout=0.2).run("a", ctx())
    release.set()
    assert result.error == "timeout after 0.2s after making a change final"


# ---------------------------------------------------------------- the airline, end to end in-process
class SlowAirline(SQLiteAirline):
    """The demo backend behind a slow network: each seat change starts ``delay`` s late."""

    def __init__(self, path: Path, delay: float) -> None:
        super().__init__(path)
        self.delay = delay
        self.finished = threading.Event()
        self.keys: list[str | None] = []

    def change_seat(self, ref: str, seat: str, **kw: Any) -> Booking:
        try:
            time.sleep(self.delay)
            self.keys.append(kw.get("key"))
            return super().change_seat(ref, seat, **kw)
        finally:
            self.finished.set()


def seat_change(runtime: ConversationRuntime, last_id: str = "3") -> str:
    runtime.handle(inbound("change my seat on booking X7K9QZ", conv="test:slow", message_id="1"))
    runtime.handle(inbound("Dupont", conv="test:slow", message_id="1s"))  # the identity step's surname
    runtime.handle(inbound("15C", conv="test:slow", message_id="2"))
    return " | ".join(o.text for o in runtime.handle(inbound("yes", conv="test:slow", message_id=last_id)).outbounds)


def airline_registry(settings: Any, api: Any, timeout: float) -> ActionRegistry:
    d = settings.dialogue
    actions = load_actions(d.actions_module, settings, d.actions_options, d.action_timeout_seconds).actions
    return ActionRegistry(actions, api=api, timeout=timeout)


def test_seat_change_past_its_timeout_never_commits_and_the_customer_hears_it_failed(
    make_runtime, airline_settings, tmp_path: Path
) -> None:
    settings = airline_settings()
    api = SlowAirline(tmp_path / "airline.db", delay=1.6)
    runtime = make_runtime(settings=settings, actions=airline_registry(settings, api, timeout=1.0))
    said = seat_change(runtime)
    assert "isn't answering" in said and "now 15C" not in said
    assert api.finished.wait(10), "the abandoned action finished"
    time.sleep(0.1)
    assert api.find_booking("X7K9QZ").seat == "14C", "the late write was refused: what the customer heard is true"


def test_seat_change_waiting_for_a_busy_booking_system_never_commits_after_the_timeout(
    make_runtime, airline_settings, tmp_path: Path
) -> None:
    """The booking system's write lock is held past the timeout, then released: the
    abandoned write must not go through then (it used to wait 10 s and commit)."""
    import sqlite3

    settings = airline_settings()
    api = SlowAirline(tmp_path / "airline.db", delay=0.0)
    runtime = make_runtime(settings=settings, actions=airline_registry(settings, api, timeout=1.0))
    runtime.handle(inbound("change my seat on booking X7K9QZ", conv="test:slow", message_id="1"))
    runtime.handle(inbound("Dupont", conv="test:slow", message_id="1s"))  # the identity step's surname
    runtime.handle(inbound("15C", conv="test:slow", message_id="2"))
    blocker = sqlite3.connect(api.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        said = " | ".join(o.text for o in runtime.handle(inbound("yes", conv="test:slow", message_id="3")).outbounds)
    finally:
        time.sleep(0.3)  # the lock is freed after the runner gave up, while the write may still wait
        blocker.execute("ROLLBACK")
        blocker.close()
    assert "isn't answering" in said
    assert api.finished.wait(15)
    assert api.find_booking("X7K9QZ").seat == "14C"


def test_a_fast_seat_change_carries_the_inbound_and_the_step_as_its_key(
    make_runtime, airline_settings, tmp_path: Path
) -> None:
    settings = airline_settings()
    api = SlowAirline(tmp_path / "airline.db", delay=0.0)
    runtime = make_runtime(settings=settings, actions=airline_registry(settings, api, timeout=2.0))
    assert "now 15C" in seat_change(runtime, last_id="m-yes")
    assert api.keys == ["test:m-yes:change_seat:change_seat"]
