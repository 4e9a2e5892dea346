"""What every console view shares: the blueprint, its state, display helpers, answers.

Views live in their own modules (inbox, conversation, actions, events, admin) and hang
their routes on :data:`bp`; :func:`bots.web.console.register` mounts it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from .privacy import PrivacyTools

__all__ = [
    "bp",
    "ConsoleState",
    "state",
    "CHANNELS",
    "MODES",
    "ROLES_DESK",
    "MAX_STAFF_ID",
    "staff_id_of",
    "wants_json",
    "done",
    "failed",
    "as_utc",
    "ago",
    "clock_time",
    "iso",
    "channel_info",
    "pick_text",
]

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: roles that work conversations (analysts see the dashboard, not customers' words).
ROLES_DESK = ("agent", "admin")

#: the largest staff id: what every SQL backend's INTEGER holds (a larger number is no one).
MAX_STAFF_ID = 2**31 - 1


def staff_id_of(raw: str) -> int | None:
    """A staff id typed in a form (ASCII digits, 1 to :data:`MAX_STAFF_ID`), else None.

    ``str.isdigit`` alone is not enough: ``"²"`` is a digit that ``int`` refuses, and an id with
    thirty digits overflows the database's integers.
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_STAFF_ID else None


#: channel -> (short label shown as an icon, full name).
CHANNELS: dict[str, tuple[str, str]] = {
    "telegram": ("TG", "Telegram"),
    "whatsapp": ("WA", "WhatsApp"),
    "sms": ("SMS", "SMS"),
    "webchat": ("Web", "Web chat"),
    "messenger": ("FB", "Messenger"),
    "instagram": ("IG", "Instagram"),
    "whatsapp_cloud": ("WA", "WhatsApp (Cloud API)"),
}

#: mode -> label shown on its badge.
MODES: dict[str, str] = {"bot": "Bot", "waiting": "Waiting", "human": "With agent", "resolved": "Resolved"}


@dataclass
class ConsoleState:
    """The console's dependencies, set once by ``register`` (``app.extensions["console"]``)."""

    settings: Any
    desk: Any
    accounts: Any
    hub: Any
    presence: Any
    clock: Callable[[], datetime]
    #: consent reads, export and erasure (:mod:`.privacy`).
    privacy: PrivacyTools
    #: longest life of one event stream before the browser reconnects (seconds).
    stream_seconds: float = 300.0
    #: silence after which the stream sends a heartbeat (and the agent's presence beat).
    heartbeat_seconds: float = 15.0
    #: longest wait for one live event before the stream checks its heartbeat and time limit.
    poll_seconds: float = 5.0


def state() -> ConsoleState:
    return current_app.extensions["console"]


# -- answers -----------------------------------------------------------------


def wants_json() -> bool:
    """A fetch() from our script (it asks for JSON); a plain form post wants a redirect."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _back(default: str) -> str:
    """Where a plain form post returns: its local ``next`` field, else ``default``."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return default


def done(message: str, default: str, **extra: Any) -> Response:
    """Success: JSON for the script, else a flash and a 303 back to the page."""
    if wants_json():
        return jsonify(ok=True, message=message, **extra)
    flash(message, "ok")
    return redirect(_back(default), code=303)


def failed(status: int, message: str, default: str) -> Response:
    """Refusal: JSON ``{"error"}`` with ``status`` for the script, else a flash and a 303 back."""
    if wants_json():
        response = jsonify(error=message)
        response.status_code = status
        return response
    flash(message, "error")
    return redirect(_back(default), code=303)


def conversation_url(conversation_id: str) -> str:
    return url_for("console.conversation", conversation_id=conversation_id)


# -- display -----------------------------------------------------------------


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they are UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str:
    at = as_utc(value)
    return at.isoformat(timespec="seconds").replace("+00:00", "Z") if at else ""


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """``"just now"``, ``"4 min"``, ``"2 h 5 min"``, ``"3 d"`` since ``value``."""
    at = as_utc(value)
    if at is None:
        return ""
    now = as_utc(now) or datetime.now(UTC)
    seconds = max(0, int((now - at).total_seconds()))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d"


def until(value: datetime | None, now: datetime | None = None) -> str:
    """``"5 h"``, ``"40 min"`` from now until ``value``."""
    at = as_utc(value)
    if at is None:
        return ""
    now = as_utc(now) or datetime.now(UTC)
    minutes = max(0, int((at - now).total_seconds()) // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def clock_time(value: datetime | None, now: datetime | None = None) -> str:
    """``"14:05"`` today, ``"12 Mar 14:05"`` before (UTC)."""
    at = as_utc(value)
    if at is None:
        return ""
    now = as_utc(now) or datetime.now(UTC)
    return at.strftime("%H:%M") if at.date() == now.date() else at.strftime("%d %b %H:%M")


def channel_info(channel: str) -> tuple[str, str]:
    return CHANNELS.get(channel, (channel[:3].upper(), channel.capitalize()))


def pick_text(texts: dict[str, str], language: str | None, default_language: str) -> str:
    """A canned reply's text in the conversation's language, else the brand's, else any."""
    for lang in (language, default_language):
        if lang and lang in texts:
            return texts[lang]
    return next(iter(texts.values()), "")
