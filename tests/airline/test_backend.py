"""The demo backend's writes honour an idempotency key and a deadline (issue 14)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bots.airline.backend import IdempotencyConflict, SeatTaken, SQLiteAirline
from bots.dialogue.actions import Deadline, DeadlineExceeded


def seat_writes(db: Path) -> list[tuple[str, str, str]]:
    """Every UPDATE of a booking's seat, recorded by a trigger the test installs (independent of the backend)."""
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT ref, old, new FROM seat_writes ORDER BY rowid").fetchall()


@pytest.fixture
def airline(tmp_path: Path) -> SQLiteAirline:
    backend = SQLiteAirline(tmp_path / "airline.db")
    with sqlite3.connect(backend.path) as conn:
        conn.executescript(
            "CREATE TABLE seat_writes (ref TEXT, old TEXT, new TEXT);"
            "CREATE TRIGGER log_seat AFTER UPDATE OF seat ON bookings "
            "BEGIN INSERT INTO seat_writes VALUES (new.ref, old.seat, new.seat); END;"
        )
    return backend


def applied(backend: SQLiteAirline) -> list[tuple[str, str]]:
    with sqlite3.connect(backend.path) as conn:
        return conn.execute("SELECT key, result FROM applied_requests ORDER BY key").fetchall()


def test_same_key_twice_applies_once_and_answers_the_same(airline: SQLiteAirline) -> None:
    first = airline.change_seat("X7K9QZ", "15C", key="sms:SM1:change_seat:change_seat")
    again = airline.change_seat("x7k9qz", "15c", key="sms:SM1:change_seat:change_seat")
    assert first == again and again.seat == "15C"
    assert seat_writes(airline.path) == [("X7K9QZ", "14C", "15C")]
    assert [k for k, _ in applied(airline)] == ["sms:SM1:change_seat:change_seat"]


def test_a_replayed_key_returns_its_first_outcome_even_after_a_later_change(airline: SQLiteAirline) -> None:
    airline.change_seat("X7K9QZ", "15C", key="k1")
    airline.change_seat("X7K9QZ", "16A", key="k2")
    assert airline.change_seat("X7K9QZ", "15C", key="k1").seat == "15C"  # the answer the first call gave
    assert airline.find_booking("X7K9QZ").seat == "16A"  # and nothing moved back
    assert len(seat_writes(airline.path)) == 2


def test_a_key_reused_for_another_request_is_refused(airline: SQLiteAirline) -> None:
    airline.change_seat("X7K9QZ", "15C", key="k1")
    with pytest.raises(IdempotencyConflict, match="'k1' was applied to"):
        airline.change_seat("X7K9QZ", "16A", key="k1")
    assert airline.find_booking("X7K9QZ").seat == "15C"


def test_cancellation_request_is_idempotent_too(airline: SQLiteAirline) -> None:
    a = airline.request_cancellation("H5NB6E", key="k")
    b = airline.request_cancellation("H5NB6E", key="k")
    assert a == b and b.status == "cancellation_requested"
    assert [k for k, _ in applied(airline)] == ["k"]


def test_a_refused_write_records_no_key_so_a_retry_can_succeed(airline: SQLiteAirline) -> None:
    with pytest.raises(SeatTaken):
        airline.change_seat("X7K9QZ", "2A", key="k")  # K3LM8P sits in 2A
    assert applied(airline) == []
    with pytest.raises(LookupError, match="no booking"):
        airline.change_seat("NOSUCH", "3A", key="k2")
    assert applied(airline) == [] and seat_writes(airline.path) == []


def test_past_deadline_nothing_is_committed(airline: SQLiteAirline) -> None:
    with pytest.raises(DeadlineExceeded):
        airline.change_seat("X7K9QZ", "15C", key="k", deadline=Deadline(time.monotonic() - 0.01))
    assert airline.find_booking("X7K9QZ").seat == "14C"
    assert applied(airline) == []


def test_a_deadline_given_up_by_the_runner_refuses_the_commit(airline: SQLiteAirline) -> None:
    deadline = Deadline.within(60)
    assert deadline.expire()  # the runner stopped waiting before the write reached its commit
    with pytest.raises(DeadlineExceeded, match="stopped waiting"):
        airline.request_cancellation("H5NB6E", key="k", deadline=deadline)
    assert airline.find_booking("H5NB6E").status == "confirmed"


def test_a_write_waiting_for_the_lock_past_its_deadline_gives_up_and_never_commits(airline: SQLiteAirline) -> None:
    """Another writer holds SQLite's write lock past the deadline: the write fails at the
    deadline (not 10 s later) and does not commit once the lock is free."""
    blocker = sqlite3.connect(airline.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    outcome: list[BaseException | str] = []

    def write() -> None:
        try:
            outcome.append(airline.change_seat("X7K9QZ", "15C", key="k", deadline=Deadline.within(0.3)).seat)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    t = threading.Thread(target=write)
    started = time.monotonic()
    t.start()
    t.join(5)
    took = time.monotonic() - started
    blocker.execute("ROLLBACK")
    blocker.close()
    assert len(outcome) == 1 and isinstance(outcome[0], DeadlineExceeded), outcome
    assert took < 3
    time.sleep(0.2)
    assert airline.find_booking("X7K9QZ").seat == "14C" and applied(airline) == []


def test_old_keys_are_pruned_on_write(airline: SQLiteAirline) -> None:
    airline.change_seat("X7K9QZ", "15C", key="old")
    with sqlite3.connect(airline.path) as conn:
        conn.execute("UPDATE applied_requests SET at = '2000-01-01T00:00:00+00:00'")
    airline.change_seat("X7K9QZ", "16A", key="new")
    assert [k for k, _ in applied(airline)] == ["new"]


def test_reset_puts_the_demo_data_back(airline: SQLiteAirline) -> None:
    airline.change_seat("X7K9QZ", "15C", key="k")
    airline.request_cancellation("H5NB6E")
    airline.reset()
    assert airline.find_booking("X7K9QZ").seat == "14C"
    assert airline.find_booking("H5NB6E").status == "confirmed"
    assert applied(airline) == []
    assert airline.change_seat("X7K9QZ", "15C", key="k").seat == "15C"  # the key is free again
