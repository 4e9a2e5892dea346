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
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

__all__ = [
    "Flight",
    "Booking",
    "AirlineBackend",
    "SQLiteAirline",
    "BackendUnavailable",
    "SeatTaken",
    "SeatInvalid",
    "ROWS",
    "SEAT_LETTERS",
    "OUTAGE_REF",
]

ROWS = 30
SEAT_LETTERS = "ABCDEF"
#: the demo's switch to simulate an outage of the booking system.
OUTAGE_REF = "ERR500"


class BackendUnavailable(RuntimeError):
    """Raised when the booking system does not answer (the demo simulates it for ERR500)."""


class SeatTaken(ValueError):
    """Raised when the requested seat is already assigned to someone else."""


class SeatInvalid(ValueError):
    """Raised when the seat does not exist on the aircraft (rows 1-30, letters A-F)."""


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
    def change_seat(self, ref: str, seat: str) -> Booking: ...
    def request_cancellation(self, ref: str) -> Booking: ...


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
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
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
                db.execute("DELETE FROM bookings")
                db.execute("DELETE FROM flights")
                newest = None
            if newest is None:
                self._seed(db, today)
            db.execute("COMMIT")

    @staticmethod
    def _seed(db: sqlite3.Connection, today: date) -> None:
        def d(n: int) -> str:
            return (today + timedelta(days=n)).isoformat()

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
            row = db.execute(
                "SELECT b.ref, b.surname, b.first_name, b.seat, b.status AS bstatus, f.* FROM bookings b "
                "JOIN flights f ON f.number = b.flight_number AND f.day = b.flight_day WHERE b.ref = ?",
                (ref,),
            ).fetchone()
        if row is None:
            return None
        return Booking(row["ref"], row["surname"], row["first_name"], self._flight(row), row["seat"], row["bstatus"])

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
    def change_seat(self, ref: str, seat: str) -> Booking:
        """Move a booking to ``seat``.

        Raises:
            SeatInvalid: no such seat. SeatTaken: someone else has it.
            LookupError: no such booking.
        """
        seat = seat.upper()
        if not seat_exists(seat):
            raise SeatInvalid(f"seat {seat!r} does not exist (rows 1-{ROWS}, letters {SEAT_LETTERS})")
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                n = db.execute("UPDATE bookings SET seat = ? WHERE ref = ?", (seat, ref.upper())).rowcount
            except sqlite3.IntegrityError as exc:
                db.execute("ROLLBACK")
                raise SeatTaken(f"seat {seat} is taken") from exc
            db.execute("COMMIT")
        if n == 0:
            raise LookupError(f"no booking {ref!r}")
        booking = self.find_booking(ref)
        assert booking is not None
        return booking

    def request_cancellation(self, ref: str) -> Booking:
        with self._db() as db:
            n = db.execute(
                "UPDATE bookings SET status = 'cancellation_requested' WHERE ref = ?", (ref.upper(),)
            ).rowcount
        if n == 0:
            raise LookupError(f"no booking {ref!r}")
        booking = self.find_booking(ref)
        assert booking is not None
        return booking
