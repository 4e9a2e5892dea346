"""The web chat's Server-Sent Events stream, served over real HTTP on real Redis."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from bots.services import build_services
from bots.web import create_app
from bots.web.live import live_hub
from connectors.base import Outbound
from connectors.webchat import WebchatConnector

pytestmark = pytest.mark.integration


@contextmanager
def serve(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def chat(make_settings, sql_engine, redis_client) -> Iterator[tuple[str, Any]]:
    # a key prefix of our own: pub/sub channels are shared by every database index
    settings = make_settings({"stores": {"key_prefix": f"t{uuid.uuid4().hex[:10]}"}})
    services = build_services(settings)
    app = create_app(settings, services)
    try:
        with serve(app) as url:
            yield url, app
    finally:
        live_hub(app).stop()
        services.close()


class Events:
    """Reads SSE events off one streamed response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
        return read_events(self.lines, count, timeout)


def read_events(lines: Iterator[str], count: int, timeout: float) -> list[dict[str, str]]:
    """The next ``count`` SSE events (comments skipped) as field dicts."""
    events: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    for line in lines:
        if time.monotonic() > deadline:
            break
        if line == "":
            if "data" in fields:
                events.append(fields)
                if len(events) == count:
                    return events
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = fields[name] + "\n" + value if name in fields else value
    raise AssertionError(f"got {events} before the stream ended or timed out")


def start(url: str, client: httpx.Client) -> str:
    """Load the page (visitor cookie), post one message; returns the visitor token."""
    html = client.get(f"{url}/chat").text
    token = re.search(r'data-token="([^"]+)"', html).group(1)
    answer = client.post(f"{url}/chat/api/messages", json={"text": "<b>hello</b>", "client_id": "c-sse-00001"})
    assert answer.status_code == 202
    return token


def test_the_stream_replays_the_backlog_then_pushes_a_reply(chat) -> None:
    url, app = chat
    connector: WebchatConnector = app.extensions["webchat"].connector
    with httpx.Client(timeout=10) as client:
        start(url, client)
        polled = client.get(f"{url}/chat/api/messages?after=0").json()
        assert [m["text"] for m in polled["messages"]] == ["<b>hello</b>"]
        with client.stream("GET", f"{url}/chat/api/events?after=0") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = Events(stream)
            [backlog] = events.next(1)
            assert json.loads(backlog["data"])["text"] == "<b>hello</b>"
            sender = _visitor(app, client)
            sent_at = time.monotonic()
            connector.send(Outbound("webchat", sender, "Bonjour !"))  # as a worker would
            [reply] = events.next(1)
            assert time.monotonic() - sent_at < 2
            entry = json.loads(reply["data"])
            assert (entry["role"], entry["text"], reply["id"]) == ("bot", "Bonjour !", entry["id"])
        # reconnecting with Last-Event-ID resumes after it: only what came since
        connector.send(Outbound("webchat", sender, "Encore là ?"))
        with client.stream("GET", f"{url}/chat/api/events", headers={"Last-Event-ID": reply["id"]}) as stream:
            [resumed] = Events(stream).next(1)
            assert json.loads(resumed["data"])["text"] == "Encore là ?"


def _visitor(app: Any, client: httpx.Client) -> str:
    signer = app.extensions["webchat"].signer
    return signer.loads(client.cookies.get("bb_webchat"))


def test_the_token_parameter_identifies_a_cookieless_visitor(chat) -> None:
    url, _app = chat
    with httpx.Client(timeout=10) as with_cookies:
        token = start(url, with_cookies)
    with httpx.Client(timeout=10) as cookieless:
        assert cookieless.get(f"{url}/chat/api/events").status_code == 403
        with cookieless.stream("GET", f"{url}/chat/api/events", params={"token": token}) as stream:
            [event] = Events(stream).next(1)
            assert json.loads(event["data"])["role"] == "customer"


def test_a_bad_cursor_is_a_400(chat) -> None:
    url, _app = chat
    answer = httpx.get(f"{url}/chat/api/events", headers={"Last-Event-ID": "nope"})
    assert answer.status_code == 400 and "nope" in answer.json()["error"]


def test_the_connector_publishes_each_new_entry_once(redis_client) -> None:
    channel = f"t{uuid.uuid4().hex[:10]}:live"
    chat = WebchatConnector(redis_client, "tpub", live_channel=channel)
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    try:
        time.sleep(0.05)
        first = chat.send(Outbound("webchat", "visitor-0001", 'say "\u0001id\u0001" <i>', idempotency_key="k1"))
        chat.send(Outbound("webchat", "visitor-0001", "again", idempotency_key="k1"))  # deduped: not published
        got = []
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            msg = pubsub.get_message(timeout=0.2)
            if msg:
                got.append(json.loads(msg["data"]))
        [event] = got
        assert event["type"] == "webchat" and event["visitor"] == "visitor-0001"
        assert event["entry"]["id"] == first.removeprefix("webchat:")
        assert event["entry"]["text"] == 'say "\u0001id\u0001" <i>' and event["entry"]["role"] == "bot"
    finally:
        pubsub.close()
