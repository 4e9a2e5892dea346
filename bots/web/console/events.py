"""``/console/events``: the console's Server-Sent Events, fed by the process's LiveHub.

An inbox tab gets every ``mode``, ``assign`` and ``erased`` event and every new message
(to move rows and previews); a conversation tab (``?conversation=<id>``) gets that
conversation's events plus every ``mode`` event (the waiting badge and its sound).
Every tab also gets ``resync`` (events may have been lost: reload the state).
Opening the stream and each heartbeat mark the agent online (``Presence.beat``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, request

from ...live_events import encode
from ...staff.web_auth import require_roles, signed_in_staff
from ..live import SseEvent, Subscription, sse_response
from ._shared import ROLES_DESK, bp, state

__all__ = ["matcher", "frames"]

_INBOX_TYPES = frozenset({"mode", "assign", "message", "erased"})
#: longest wait for one event before the stream checks its heartbeat and time limit.
_POLL_SECONDS = 5.0


def matcher(conversation_id: str | None) -> Callable[[dict[str, Any]], bool]:
    """Which live events a tab wants."""
    if conversation_id:

        def for_conversation(event: dict[str, Any]) -> bool:
            return event.get("conversation_id") == conversation_id or event.get("type") == "mode"

        return for_conversation

    def for_inbox(event: dict[str, Any]) -> bool:
        return event.get("type") in _INBOX_TYPES

    return for_inbox


def _event_name(event: dict[str, Any]) -> str:
    kind = str(event.get("type") or "message")
    return "".join(ch for ch in kind if ch.isalnum() or ch in "_-")[:32] or "message"


def frames(subscription: Subscription, poll_seconds: float = _POLL_SECONDS) -> Iterator[SseEvent | None]:
    """The subscription's events as SSE events (None while idle); closes it at the end."""
    try:
        while True:
            event = subscription.get(timeout=poll_seconds)
            yield None if event is None else SseEvent(encode(event), event=_event_name(event))
    finally:
        subscription.close()


@bp.get("/events")
@require_roles(*ROLES_DESK)
def events() -> Response:
    """The event stream of one console tab."""
    st = state()
    staff_id = signed_in_staff().id
    conversation_id = (request.args.get("conversation") or "").strip()[:200] or None
    presence = st.presence

    def beat() -> None:
        presence.beat(staff_id)

    beat()
    subscription = st.hub.subscribe(matcher(conversation_id))
    return sse_response(
        frames(subscription, st.poll_seconds),
        heartbeat_seconds=st.heartbeat_seconds,
        max_seconds=st.stream_seconds,
        on_heartbeat=beat,
    )
