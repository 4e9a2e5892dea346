"""The airline's systems as the bot sees them, and a demo implementation on SQLite.

A real brand replaces :class:`SQLiteAirline` with a client of its own booking
API implementing :class:`AirlineBackend`; the actions only use the interface.

The demo database (``dialogue.actions_options.database``, default
``var/airline.db``) is created and seeded on first use with fictional data,
dated relative to the day it is seeded (and seeded afresh once all its flights
are in the past):

========  ========  =========================  ===========================
booking   surname   flight                      note
========  ========  =========================  ===========================
X7K9QZ    Dupont    NM1234 CDG->AMS, today+3   seat 14C (try a seat change)
K3LM8P    Martin    NM1234 CDG->AMS, today+3   seat 2A (so 2A is taken)
R4TW2B    Smith     NM452 LHR->CDG, today+1    flight delayed 95 minutes
P9DX3C    Bernard   NM780 CDG->NCE, today+2    flight cancelled
H5NB6E    Garcia    NM2210 CDG->MAD, today+5   on time
ERR500    (none)    -                          the booking system "fails"
========  ========  =========================  ===========================

Writes honour the action's deadline and idempotency key, as a brand's booking API
should: ``change_seat(ref, seat, key=ctx.idempotency_key, deadline=ctx.deadline)``
returns the first outcome again for a key it has applied (a redone turn changes
nothing), and makes the change final only while the deadline holds (a late write is
rolled back, never committed after the customer was told it failed). The key and
its outcome are stored in the same transaction as the change (``applied_requests``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from ..dialogue.actions import Deadline, DeadlineExceeded

__all__ = [
    "Flight",
    "Booking",
    "AirlineBackend",
    "SQLiteAirline",
    "BackendUnavailable",
    "SeatTaken",
    "SeatInvalid",
    "IdempotencyConflict",
    "ROWS",
    "SEAT_LETTERS",
    "OUTAGE_REF",
]

ROWS = 30
SEAT_LETTERS = "ABCDEF"
#: the demo's switch to simulate an outage of the booking system.
OUTAGE_REF = "ERR500"
#: how long an applied request's key is kept (a redo comes within minutes; keys are pruned on writes).
KEEP_REQUESTS = timedelta(days=7)
#: the longest a write waits for SQLite's write lock when it has no deadline.
LOCK_WAIT_SECONDS = 10.0


class BackendUnavailable(RuntimeError):
    """Raised when the booking system does not answer (the demo simulates it for ERR500)."""


class SeatTaken(ValueError):
    """Raised when the requested seat is already assigned to someone else."""


class SeatInvalid(ValueError):
    """Raised when the seat does not exist on the aircraft (rows 1-30, letters A-F)."""


class IdempotencyConflict(ValueError):
    """Raised when an idempotency key already applied is sent with a different request."""


@dataclass(frozen=True)
class Flight:
    number: str
    date: date
    origin: str
    destination: str
    departure: str  # "14:30", local time at origin
    arrival: str
    status: str  # "on_time" | "delayed" | "cancelled"
    delay_minutes: int = 0
    gate: str = ""


@dataclass(frozen=True)
class Booking:
    ref: str
    surname: str
    first_name: str
    flight: Flight
    seat: str
    status: str  # "confirmed" | "cancellation_requested"


class AirlineBackend(Protocol):
    """What the airline actions need from the brand's systems."""

    def find_booking(self, ref: str) -> Booking | None: ...
    def find_flight(self, number: str, on: date | None = None) -> Flight | None: ...
    def seat_free(self, booking: Booking, seat: str) -> bool: ...

    def change_seat(self, ref: str, seat: str, *, key: str | None = None, deadline: Deadline | None = None) -> Booking:
        """Move the booking; ``key`` applied before -> its first outcome, nothing changed;
        ``deadline`` passed -> :class:`DeadlineExceeded`, nothing changed."""
        ...

    def request_cancellation(self, ref: str, *, key: str | None = None, deadline: Deadline | None = None) -> Booking:
        """Mark the booking for cancellation (``key`` and ``deadline`` as for :meth:`change_seat`)."""
        ...


def seat_exists(seat: str) -> bool:
    seat = seat.upper()
    return len(seat) >= 2 and seat[:-1].isdigit() and 1 <= int(seat[:-1]) <= ROWS and seat[-1] in SEAT_LETTERS


_SCHEMA = """
CREATE TABLE IF NOT EXISTS flights (
  number TEXT NOT NULL, day TEXT NOT NULL, origin TEXT NOT NULL, destination TEXT NOT NULL,
  departure TEXT NOT NULL, arrival TEXT NOT NULL, status TEXT NOT NULL,
  delay_minutes INTEGER NOT NULL DEFAULT 0, gate TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (number, day)
);
CREATE TABLE IF NOT EXISTS bookings (
  ref TEXT PRIMARY KEY, surname TEXT NOT NULL, first_name TEXT NOT NULL,
  flight_number TEXT NOT NULL, flight_day TEXT NOT NULL, seat TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'confirmed'
);
CREATE UNIQUE INDEX IF NOT EXISTS seat_once ON bookings (flight_number, flight_day, seat);
CREATE TABLE IF NOT EXISTS applied_requests (
  key TEXT PRIMARY KEY, request TEXT NOT NULL, result TEXT NOT NULL, at TEXT NOT NULL
);
"""


class SQLiteAirline:
    """Demo :class:`AirlineBackend` on a small SQLite file, seeded on first use.

    Args:
        path: the database file (its folder is created).
        today: the date the seed is relative to (default: today).
    """

    def __init__(self, path: str | Path, today: date | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._seed_lock = threading.Lock()
        self._ensure(today or date.today())

    @contextmanager
    def _db(self, lock_wait: float = LOCK_WAIT_SECONDS) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=lock_wait, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    def _ensure(self, today: date) -> None:
        with self._seed_lock, self._db() as db:
            db.executescript(_SCHEMA)
            db.execute("BEGIN IMMEDIATE")
            newest = db.execute("SELECT MAX(day) FROM flights").fetchone()[0]
            if newest is not None and newest < today.isoformat():
                # every demo flight is in the past: seed afresh so X7K9QZ is again a few days away
                newest = None
            if newest is None:
                self._seed(db, today)
            db.execute("COMMIT")

    def reset(self, today: date | None = None) -> None:
        """Put the demo data back as first seeded (changed seats, cancellations and applied keys go)."""
        with self._seed_lock, self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            self._seed(db, today or date.today())
            db.execute("COMMIT")

    @staticmethod
    def _seed(db: sqlite3.Connection, today: date) -> None:
        def d(n: int) -> str:
            return (today + timedelta(days=n)).isoformat()

        db.execute("DELETE FROM applied_requests")
        db.execute("DELETE FROM bookings")
        db.execute("DELETE FROM flights")

        flights = [
            ("NM1234", d(3), "CDG", "AMS", "14:30", "15:45", "on_time", 0, "F32"),
            ("NM1235", d(10), "AMS", "CDG", "18:10", "19:25", "on_time", 0, "D4"),
            ("NM452", d(1), "LHR", "CDG", "09:15", "11:30", "delayed", 95, "B12"),
            ("NM780", d(2), "CDG", "NCE", "07:05", "08:35", "cancelled", 0, ""),
            ("NM2210", d(5), "CDG", "MAD", "11:50", "13:55", "on_time", 0, "K21"),
            ("NM610", d(0), "CDG", "JFK", "16:40", "19:05", "on_time", 0, "M40"),
        ]
        bookings = [
            ("X7K9QZ", "Dupont", "Camille", "NM1234", d(3), "14C"),
            ("K3LM8P", "Martin", "Louis", "NM1234", d(3), "2A"),
            ("R4TW2B", "Smith", "Alex", "NM452", d(1), "21F"),
            ("P9DX3C", "Bernard", "Chloé", "NM780", d(2), "8B"),
            ("H5NB6E", "Garcia", "Lucía", "NM2210", d(5), "17A"),
        ]
        db.executemany("INSERT INTO flights VALUES (?,?,?,?,?,?,?,?,?)", flights)
        db.executemany(
            "INSERT INTO bookings (ref, surname, first_name, flight_number, flight_day, seat) VALUES (?,?,?,?,?,?)",
            bookings,
        )

    # ---- reads -----------------------------------------------------------
    @staticmethod
    def _flight(row: sqlite3.Row) -> Flight:
        return Flight(
            row["number"],
            date.fromisoformat(row["day"]),
            row["origin"],
            row["destination"],
            row["departure"],
            row["arrival"],
            row["status"],
            row["delay_minutes"],
            row["gate"],
        )

    def find_booking(self, ref: str) -> Booking | None:
        ref = ref.strip().upper()
        if ref == OUTAGE_REF:
            raise BackendUnavailable("the booking system did not answer (demo outage for ERR500)")
        with self._db() as db:
            return self._booking(db, ref)

    @classmethod
    def _booking(cls, db: sqlite3.Connection, ref: str) -> Booking | None:
        row = db.execute(
            "SELECT b.ref, b.surname, b.first_name, b.seat, b.status AS bstatus, f.* FROM bookings b "
            "JOIN flights f ON f.number = b.flight_number AND f.day = b.flight_day WHERE b.ref = ?",
            (ref,),
        ).fetchone()
        if row is None:
            return None
        return Booking(row["ref"], row["surname"], row["first_name"], cls._flight(row), row["seat"], row["bstatus"])

    def find_flight(self, number: str, on: date | None = None) -> Flight | None:
        number = number.replace(" ", "").upper()
        with self._db() as db:
            if on is not None:
                row = db.execute(
                    "SELECT * FROM flights WHERE number = ? AND day = ?", (number, on.isoformat())
                ).fetchone()
            else:
                row = db.execute(
                    "SELECT * FROM flights WHERE number = ? ORDER BY day >= date('now') DESC, "
                    "CASE WHEN day >= date('now') THEN day END ASC, day DESC LIMIT 1",
                    (number,),
                ).fetchone()
        return self._flight(row) if row else None

    def seat_free(self, booking: Booking, seat: str) -> bool:
        with self._db() as db:
            row = db.execute(
                "SELECT ref FROM bookings WHERE flight_number = ? AND flight_day = ? AND seat = ?",
                (booking.flight.number, booking.flight.date.isoformat(), seat.upper()),
            ).fetchone()
        return row is None or row["ref"] == booking.ref

    # ---- writes ----------------------------------------------------------
    def change_seat(self, ref: str, seat: str, *, key: str | None = None, deadline: Deadline | None = None) -> Booking:
        """Move a booking to ``seat``, once per ``key``, only while ``deadline`` holds.

        Raises:
            SeatInvalid: no such seat. SeatTaken: someone else has it.
            LookupError: no such booking.
            DeadlineExceeded: the deadline passed first (nothing changed).
            IdempotencyConflict: ``key`` was applied to another request.
        """
        seat, ref = seat.upper(), ref.strip().upper()
        if not seat_exists(seat):
            raise SeatInvalid(f"seat {seat!r} does not exist (rows 1-{ROWS}, letters {SEAT_LETTERS})")

        def change(db: sqlite3.Connection) -> int:
            try:
                return db.execute("UPDATE bookings SET seat = ? WHERE ref = ?", (seat, ref)).rowcount
            except sqlite3.IntegrityError as exc:
                raise SeatTaken(f"seat {seat} is taken") from exc

        return self._write({"op": "change_seat", "ref": ref, "seat": seat}, change, key, deadline)

    def request_cancellation(self, ref: str, *, key: str | None = None, deadline: Deadline | None = None) -> Booking:
        """Mark a booking for cancellation (``key`` and ``deadline`` as for :meth:`change_seat`).

        Raises:
            LookupError: no such booking. DeadlineExceeded, IdempotencyConflict: as for :meth:`change_seat`.
        """
        ref = ref.strip().upper()

        def change(db: sqlite3.Connection) -> int:
            return db.execute("UPDATE bookings SET status = 'cancellation_requested' WHERE ref = ?", (ref,)).rowcount

        return self._write({"op": "request_cancellation", "ref": ref}, change, key, deadline)

    def _write(
        self,
        request: dict[str, Any],
        change: Callable[[sqlite3.Connection], int],
        key: str | None,
        deadline: Deadline | None,
    ) -> Booking:
        """One write transaction: the stored outcome for a key seen before; else the change, the
        key and its outcome, committed only inside ``deadline.commit()``. Returns the booking as
        the (first) outcome left it, read in the same transaction: nothing after the commit can
        fail and turn a change that was made into an error told to the customer."""
        deadline = deadline or Deadline()
        deadline.check()
        ref = str(request["ref"])
        with self._db(min(LOCK_WAIT_SECONDS, deadline.remaining())) as db:
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # the write lock stayed taken past the deadline
                if deadline.expired:
                    raise DeadlineExceeded(f"the booking system stayed busy past the deadline ({exc})") from exc
                raise
            try:
                outcome = self._applied(db, key, request) if key else None
                if outcome is None and change(db) == 0:
                    raise LookupError(f"no booking {ref!r}")
                booking = self._booking(db, ref)
                if booking is None:
                    raise LookupError(f"no booking {ref!r}")
                if outcome is not None:  # applied before: its first outcome, nothing changed
                    db.execute("ROLLBACK")
                    return replace(booking, seat=outcome["seat"], status=outcome["status"])
                if key:
                    now = datetime.now(UTC)
                    db.execute("DELETE FROM applied_requests WHERE at < ?", ((now - KEEP_REQUESTS).isoformat(),))
                    db.execute(
                        "INSERT INTO applied_requests (key, request, result, at) VALUES (?, ?, ?, ?)",
                        (
                            key,
                            json.dumps(request, sort_keys=True),
                            json.dumps({"seat": booking.seat, "status": booking.status}),
                            now.isoformat(),
                        ),
                    )
                with deadline.commit():
                    db.execute("COMMIT")
                return booking
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    @staticmethod
    def _applied(db: sqlite3.Connection, key: str, request: dict[str, Any]) -> dict[str, Any] | None:
        """The stored outcome of ``key`` (None: not applied yet).

        Raises:
            IdempotencyConflict: the key was applied to another request.
        """
        row = db.execute("SELECT request, result FROM applied_requests WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        if json.loads(row["request"]) != request:
            raise IdempotencyConflict(f"key {key!r} was applied to {row['request']}, not to {request}")
        result: dict[str, Any] = json.loads(row["result"])
        return result
