"""The inbox: tabs (Waiting, Mine, All open, Resolved) with counts, filters in the URL, search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from ...desk.errors import InvalidInput
from ...staff.web_auth import current_staff, require_roles
from ._shared import MODES, ROLES_DESK, bp, state

__all__ = ["TABS", "InboxQuery", "inbox_query"]

#: tab key -> label, in the order shown.
TABS: dict[str, str] = {"waiting": "Waiting", "mine": "Mine", "open": "All open", "resolved": "Resolved"}
PAGE_SIZE = 50
_MAX_Q = 200


@dataclass(frozen=True)
class InboxQuery:
    """The inbox's URL parameters, checked."""

    view: str = "waiting"
    channel: str | None = None
    language: str | None = None
    mode: str | None = None
    q: str | None = None
    page: int = 1

    def params(self, **change: Any) -> dict[str, Any]:
        """URL parameters of this query with ``change`` applied (empty values left out)."""
        values = {
            "view": self.view,
            "channel": self.channel,
            "language": self.language,
            "mode": self.mode,
            "q": self.q,
            "page": self.page if self.page > 1 else None,
        }
        values.update(change)
        return {k: v for k, v in values.items() if v}

    @property
    def filtered(self) -> bool:
        return bool(self.channel or self.language or self.mode or self.q)


def inbox_query(args: Any, channels: list[str], languages: list[str]) -> InboxQuery:
    """Read the inbox parameters; unknown values are ignored (a stale bookmark still works)."""
    view = args.get("view", "waiting")
    channel = args.get("channel") or None
    language = args.get("language") or None
    mode = args.get("mode") or None
    q = (args.get("q") or "").strip()[:_MAX_Q] or None
    try:
        page = max(1, min(1000, int(args.get("page", "1"))))
    except ValueError:
        page = 1
    return InboxQuery(
        view=view if view in TABS else "waiting",
        channel=channel if channel in channels else None,
        language=language if language in languages else None,
        mode=mode if mode in MODES else None,
        q=q,
        page=page,
    )


#: config sections whose conversations carry other channel names (Twilio serves two, Meta three).
_CONVERSATION_CHANNELS = {"twilio": ("whatsapp", "sms"), "meta": ("messenger", "instagram", "whatsapp_cloud")}


def _choices() -> tuple[list[str], list[str]]:
    settings = state().settings
    channels = [c for name in settings.enabled_channels() for c in _CONVERSATION_CHANNELS.get(name, (name,))]
    if "webchat" not in channels:
        channels.append("webchat")
    return channels, list(settings.brand.languages)


def _load(query: InboxQuery) -> tuple[list[Any], dict[str, int], bool]:
    desk = state().desk
    staff = current_staff()
    try:
        rows = desk.inbox(
            query.view,
            staff,
            channel=query.channel,
            language=query.language,
            mode=query.mode,
            q=query.q,
            limit=PAGE_SIZE + 1,
            offset=(query.page - 1) * PAGE_SIZE,
        )
    except InvalidInput as exc:  # e.g. a search with control characters
        flash(str(exc), "error")
        rows = []
    more = len(rows) > PAGE_SIZE
    return rows[:PAGE_SIZE], desk.counts(staff), more


@bp.get("")
@require_roles(*ROLES_DESK)
def inbox():
    """The inbox page."""
    return _render("console/inbox.html")


@bp.get("/inbox/rows")
@require_roles(*ROLES_DESK)
def inbox_rows():
    """The inbox table body with the tab counts, for the page's live refresh (inside a
    ``<table>``: an HTML parser drops a ``<tbody>`` that stands alone)."""
    return _render("console/_rows_page.html")


def _render(template: str) -> str:
    """``template`` with the inbox of this request's query string."""
    channels, languages = _choices()
    query = inbox_query(request.args, channels, languages)
    rows, counts, more = _load(query)
    return render_template(
        template, query=query, rows=rows, counts=counts, more=more, tabs=TABS, channels=channels, languages=languages
    )


@bp.get("/")
@require_roles("agent", "analyst", "admin")
def welcome():
    """Where a sign-in lands (``/console/``): agents go on to the inbox, analysts learn where to look."""
    staff = current_staff()
    if staff is None:  # pragma: no cover - require_roles guarantees it
        abort(403)
    if staff.can(*ROLES_DESK):
        return redirect(url_for("console.inbox"))
    return render_template("console/welcome.html", staff=staff)
