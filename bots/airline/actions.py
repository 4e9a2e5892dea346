"""Nimbus Air's actions: what the flows in ``domain.yml`` call.

Each action gets an :class:`~bots.dialogue.actions.ActionContext` (slots,
language, ``api`` = the :class:`~bots.airline.backend.AirlineBackend`) and
returns an :class:`~bots.dialogue.actions.ActionResult` naming the response to
say and its variables. Exceptions and timeouts are handled by the runtime
(polite message + offer of a human), so actions do not catch the backend's outages.

The writes (a seat change, a cancellation request) send ``ctx.idempotency_key`` and
``ctx.deadline`` to the backend: a turn redone after a crash gets the first outcome
back instead of a second change, and a write that would finish after the runner gave
up is rolled back, so "couldn't finish this" is true.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from ..calendar_words import MONTHS, words_for
from ..dialogue.actions import ActionContext, ActionResult, action
from .backend import Booking, Flight, SeatInvalid, SeatTaken, SQLiteAirline, seat_exists

__all__ = ["make_api"]

AIRPORTS = {
    "CDG": {"en": "Paris-Charles de Gaulle", "fr": "Paris-Charles de Gaulle"},
    "AMS": {"en": "Amsterdam", "fr": "Amsterdam"},
    "LHR": {"en": "London Heathrow", "fr": "Londres Heathrow"},
    "NCE": {"en": "Nice", "fr": "Nice"},
    "MAD": {"en": "Madrid", "fr": "Madrid"},
    "JFK": {"en": "New York JFK", "fr": "New York JFK"},
}
STATUS = {
    "on_time": {"en": "on time", "fr": "à l'heure"},
    "delayed": {"en": "delayed", "fr": "retardé"},
    "cancelled": {"en": "cancelled", "fr": "annulé"},
    "confirmed": {"en": "confirmed", "fr": "confirmée"},
    "cancellation_requested": {"en": "pending cancellation", "fr": "en cours d'annulation"},
}
GATE_UNKNOWN = {"en": "not yet announced", "fr": "pas encore annoncée"}


def make_api(settings: Any, options: dict[str, Any]) -> SQLiteAirline:
    """The demo backend; ``options.database`` is its SQLite file (relative to the config)."""
    path = options.get("database", "var/airline.db")
    return SQLiteAirline(settings.path(path) if settings is not None else path)


def _day(d: date, lang: str) -> str:
    months = MONTHS[words_for(lang)]
    return f"{d.day} {months[d.month - 1]}" if lang == "fr" else f"{months[d.month - 1]} {d.day}"


def _flight_values(f: Flight, lang: str) -> dict[str, Any]:
    return {
        "flight_number": f.number,
        "origin": AIRPORTS.get(f.origin, {}).get(lang, f.origin),
        "destination": AIRPORTS.get(f.destination, {}).get(lang, f.destination),
        "date": _day(f.date, lang),
        "departure": f.departure,
        "arrival": f.arrival,
        "status": STATUS[f.status].get(lang, f.status),
        "delay": f.delay_minutes,
        "gate": f.gate or GATE_UNKNOWN.get(lang, GATE_UNKNOWN["en"]),
    }


def _booking_values(b: Booking, lang: str) -> dict[str, Any]:
    return {
        **_flight_values(b.flight, lang),
        "booking_ref": b.ref,
        "passenger": f"{b.first_name} {b.surname}",
        "surname": b.surname,
        "current_seat": b.seat,
        "booking_status": STATUS[b.status].get(lang, b.status),
    }


def _remember(b: Booking) -> dict[str, Any]:
    """What later flows may pre-fill ("is my flight on time?" after a booking check), and what
    the booking is about: a later message naming another airport, date or flight is not about it."""
    f = b.flight
    about = {"airport": [f.origin, f.destination], "date": [f.date.isoformat()], "flight_number": [f.number]}
    return {"booking_ref": b.ref, "flight_number": f.number, "about": about}


def _with_booking(fn: Callable[[ActionContext, Booking], ActionResult]) -> Callable[[ActionContext], ActionResult]:
    """Look up ``slots.booking_ref`` first: an unknown reference says so and asks again."""

    @functools.wraps(fn)
    def run(ctx: ActionContext) -> ActionResult:
        ref = str(ctx.slots.get("booking_ref", "")).upper()
        booking = ctx.api.find_booking(ref)
        if booking is None:
            return ActionResult(
                ok=False, response="booking_not_found", values={"booking_ref": ref}, reask="booking_ref"
            )
        return fn(ctx, booking)

    return run


def _same_name(a: str, b: str) -> bool:
    """Surnames compared as people type them: case, accents, spaces, hyphens and apostrophes aside."""

    def norm(x: str) -> str:
        decomposed = unicodedata.normalize("NFKD", x.casefold())
        return "".join(c for c in decomposed if c.isalnum())

    return bool(norm(a)) and norm(a) == norm(b)


@action("verify_identity")
def verify_identity(ctx: ActionContext) -> ActionResult:
    """The identity step: the booking exists and its surname is the one given. Which of the two
    is wrong is not said (that would tell a guesser a reference exists)."""
    ref = str(ctx.slots.get("booking_ref", "")).upper()
    booking = ctx.api.find_booking(ref)
    if booking is None or not _same_name(booking.surname, str(ctx.slots.get("surname", ""))):
        return ActionResult(ok=False, values={"booking_ref": ref})
    return ActionResult(slots={"surname": booking.surname}, remember=_remember(booking))


@action("booking_status")
@_with_booking
def booking_status(ctx: ActionContext, booking: Booking) -> ActionResult:
    return ActionResult(values=_booking_values(booking, ctx.language), remember=_remember(booking))


@action("travel_details")
@_with_booking
def travel_details(ctx: ActionContext, booking: Booking) -> ActionResult:
    """The itinerary; a delayed or cancelled flight says so (and a cancelled one offers a person)."""
    key = {"on_time": None, "delayed": "travel_details_delayed", "cancelled": "travel_details_cancelled"}[
        booking.flight.status
    ]
    return ActionResult(response=key, values=_booking_values(booking, ctx.language), remember=_remember(booking))


@action("flight_status")
def flight_status(ctx: ActionContext) -> ActionResult:
    """The flight's status; on the date asked when one was given ("NM1234 on 10 December"), and
    said plainly when the flight does not fly that day (never another day's status silently)."""
    number = str(ctx.slots.get("flight_number", "")).replace(" ", "").upper()
    asked = _asked_date(ctx.slots.get("date"))
    flight = ctx.api.find_flight(number, on=asked) if asked else ctx.api.find_flight(number)
    if flight is None and len(number) == 6 and not number.startswith("NM"):
        booking = ctx.api.find_booking(number)  # a booking reference given for "my flight"
        flight = booking.flight if booking is not None else None
        if flight is not None and asked and flight.date != asked:
            return _not_on_date(flight, asked, ctx.language)
    if flight is None and asked:
        other = ctx.api.find_flight(number)
        if other is not None:
            return _not_on_date(other, asked, ctx.language)
    if flight is None:
        return ActionResult(
            ok=False, response="flight_not_found", values={"flight_number": number}, reask="flight_number"
        )
    key = {"on_time": "flight_on_time", "delayed": "flight_delayed", "cancelled": "flight_cancelled"}[flight.status]
    return ActionResult(response=key, values=_flight_values(flight, ctx.language))


def _asked_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _not_on_date(flight: Flight, asked: date, lang: str) -> ActionResult:
    values = {**_flight_values(flight, lang), "asked_date": _day(asked, lang)}
    return ActionResult(ok=False, response="flight_not_on_date", values=values)


@action("check_seat")
@_with_booking
def check_seat(ctx: ActionContext, booking: Booking) -> ActionResult:
    """Before confirming: the booking exists, its flight flies, the seat exists and is free."""
    values = _booking_values(booking, ctx.language)
    seat = str(ctx.slots.get("seat", "")).upper()
    values["seat"] = seat
    keep = {k: values[k] for k in ("current_seat", "passenger", "flight_number", "date")}
    if booking.flight.status == "cancelled":
        return ActionResult(ok=False, response="seat_flight_cancelled", values=values)
    if not seat_exists(seat):
        return ActionResult(ok=False, response="seat_invalid", values=values, reask="seat", slots=keep)
    if seat == booking.seat:
        return ActionResult(ok=False, response="seat_same", values=values, reask="seat", slots=keep)
    if not ctx.api.seat_free(booking, seat):
        return ActionResult(ok=False, response="seat_taken", values=values, reask="seat", slots=keep)
    return ActionResult(slots={**keep, "seat": seat}, remember=_remember(booking))


@action("change_seat")
def change_seat(ctx: ActionContext) -> ActionResult:
    seat = str(ctx.slots["seat"]).upper()
    try:
        booking = ctx.api.change_seat(
            str(ctx.slots["booking_ref"]), seat, key=ctx.idempotency_key or None, deadline=ctx.deadline
        )
    except (SeatTaken, SeatInvalid):
        return ActionResult(ok=False, response="seat_taken", values={"seat": seat}, reask="seat")
    values = _booking_values(booking, ctx.language)
    return ActionResult(
        values={**values, "seat": booking.seat}, events=[{"type": "seat_changed", "seat": booking.seat}]
    )


@action("check_cancellable")
@_with_booking
def check_cancellable(ctx: ActionContext, booking: Booking) -> ActionResult:
    values = _booking_values(booking, ctx.language)
    if booking.status == "cancellation_requested":
        return ActionResult(ok=False, response="cancel_already_requested", values=values)
    return ActionResult(
        slots={k: values[k] for k in ("origin", "destination", "date", "flight_number")},
        remember=_remember(booking),
    )


@action("cancel_booking")
def cancel_booking(ctx: ActionContext) -> ActionResult:
    booking = ctx.api.request_cancellation(
        str(ctx.slots["booking_ref"]), key=ctx.idempotency_key or None, deadline=ctx.deadline
    )
    return ActionResult(
        values=_booking_values(booking, ctx.language),
        events=[{"type": "cancellation_requested", "booking_ref": booking.ref}],
    )
