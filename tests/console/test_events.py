"""``/console/events``: the LiveHub's events reach a console tab as Server-Sent Events."""

from __future__ import annotations

import json
import threading
import time

import pytest

from bots.live_events import publish

from .conftest import CID

pytestmark = pytest.mark.integration


def _frames(response):
    """Yield the SSE frames (text) of a streamed test-client response, one chunk at a time."""
    for chunk in response.response:
        yield chunk.decode() if isinstance(chunk, bytes) else chunk


#: the conversations these tests publish events about.
_OURS = frozenset({CID, "webchat:someoneelse"})


def _next_event(frames, kind: str, timeout: float = 10.0) -> dict:
    """The next ``kind`` event about one of :data:`_OURS`: the live channel is shared by every
    test database, so other test runs' events (other conversations) are skipped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = next(frames)
        if frame.startswith(f"event: {kind}\n"):
            event = json.loads(frame.split("data: ", 1)[1])
            if event.get("conversation_id") in _OURS:
                return event
    raise AssertionError(f"no {kind} event within {timeout}s")


def _publish_when_connected(app, events: list[dict]) -> threading.Thread:
    services = app.extensions["brandbot"]
    hub = app.extensions["console"].hub

    def run() -> None:
        hub.wait_connected(10)
        time.sleep(0.1)
        for event in events:
            publish(services.redis, services.settings.stores.key_prefix, event)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_the_inbox_stream_gets_mode_events_and_marks_the_agent_online(app, agent_client, console, staff) -> None:
    response = agent_client.get("/console/events", buffered=False)
    try:
        assert response.status_code == 200
        assert response.mimetype == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-store"
        assert console.presence.online() == 1
        frames = _frames(response)
        assert next(frames).startswith("retry:")
        _publish_when_connected(
            app,
            [
                {"type": "note", "conversation_id": CID, "text": "not for the inbox"},
                {
                    "type": "mode",
                    "conversation_id": CID,
                    "channel": "webchat",
                    "mode": "waiting",
                    "old": "bot",
                    "actor": "customer",
                    "reason": "human_request",
                },
            ],
        )
        event = _next_event(frames, "mode")
        assert event["conversation_id"] == CID and event["mode"] == "waiting"
    finally:
        response.close()
    assert console.hub.subscriptions == 0  # closing the stream unsubscribed


def test_a_conversation_stream_gets_its_own_messages_only(app, agent_client, console, staff) -> None:
    response = agent_client.get(f"/console/events?conversation={CID}", buffered=False)
    try:
        frames = _frames(response)
        next(frames)
        _publish_when_connected(
            app,
            [
                {"type": "message", "conversation_id": "webchat:someoneelse", "direction": "in", "text": "other"},
                {
                    "type": "message",
                    "conversation_id": CID,
                    "direction": "in",
                    "text": "<b>mine</b>",
                    "nlu": {"intent": "refund", "confidence": 0.9},
                },
            ],
        )
        event = _next_event(frames, "message")
        assert event["text"] == "<b>mine</b>" and event["conversation_id"] == CID
    finally:
        response.close()
