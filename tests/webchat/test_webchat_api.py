"""The web chat page and its JSON API, through the real app on real Redis and SQLite."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from bots.pipeline.keys import Keys
from bots.services import build_services
from bots.web import create_app
from bots.web.chat import COOKIE_NAME, TOKEN_HEADER
from connectors.base import Inbound, Outbound, QuickReply
from connectors.webchat import WebchatConnector

pytestmark = pytest.mark.integration

API = "/chat/api/messages"
STATIC = Path(__file__).resolve().parents[2] / "bots" / "web" / "static"


@pytest.fixture
def app(make_settings, sql_engine, redis_client):
    settings = make_settings()
    services = build_services(settings)
    app = create_app(settings, services)
    app.config["TESTING"] = True
    yield app
    services.close()


@pytest.fixture
def client(app):
    return app.test_client()


def connector(app) -> WebchatConnector:
    return app.extensions["webchat"].connector


def queued(app) -> list[Inbound]:
    """Every inbound message waiting in the pipeline's streams."""
    services = app.extensions["brandbot"]
    keys = Keys(services.settings.stores.key_prefix, services.settings.pipeline.shards)
    found = []
    for shard in range(keys.shards):
        for _id, fields in services.redis.xrange(keys.stream(shard)):
            found.append(Inbound.from_dict(json.loads(fields[b"m"])))
    return found


def visitor_of(client) -> str:
    [msg] = queued(client.application)
    return msg.sender_id


def post(client, body, **kw):
    return client.post(API, json=body, **kw)


def test_chat_page_is_branded_and_sets_a_visitor_cookie(client) -> None:
    page = client.get("/chat")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<title>Chat with Test Air</title>" in html
    assert 'src="/chat/static/chat.js"' in html
    cookie = client.get_cookie(COOKIE_NAME, path="/chat")
    assert cookie is not None and cookie.http_only
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert client.get("/chat/static/chat.js").status_code == 200
    assert client.get("/chat/static/chat.css").status_code == 200


def test_chat_page_speaks_french_to_a_french_browser(client) -> None:
    html = client.get("/chat", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="fr">' in html and "Envoyer" in html


def test_first_post_without_cookie_creates_a_visitor_and_enqueues(client) -> None:
    answer = post(client, {"text": "Bonjour", "client_id": "c-first-0001"})
    assert answer.status_code == 202, answer.json
    assert answer.json["status"] == "accepted"
    assert client.get_cookie(COOKIE_NAME, path="/chat") is not None
    [msg] = queued(client.application)
    assert msg.channel == "webchat" and msg.text == "Bonjour"
    assert msg.conversation_id == f"webchat:{msg.sender_id}"
    # the same browser keeps its visitor id
    post(client, {"text": "encore", "client_id": "c-first-0002"})
    assert {m.sender_id for m in queued(client.application)} == {msg.sender_id}


def test_a_retried_post_is_enqueued_and_shown_once(client) -> None:
    body = {"text": "Je voudrais changer de place", "client_id": "c-retry-0001"}
    assert post(client, body).json["status"] == "accepted"
    again = post(client, body)
    assert again.status_code == 202 and again.json["status"] == "duplicate"
    assert len(queued(client.application)) == 1
    transcript = client.get(f"{API}?after=0&wait=0").json["messages"]
    assert [(m["role"], m["text"]) for m in transcript] == [("customer", "Je voudrais changer de place")]


def test_replies_sent_through_the_connector_come_back_after_the_cursor(client) -> None:
    post(client, {"text": "Bonjour", "client_id": "c-reply-0001"})
    visitor = visitor_of(client)
    first = client.get(f"{API}?after=0&wait=0").json
    assert [m["role"] for m in first["messages"]] == ["customer"]
    connector(client.application).send(
        Outbound(
            "webchat",
            visitor,
            "Bonjour ! Que puis-je faire ?",
            quick_replies=(QuickReply("Changer de siège", "/change_seat"),),
        )
    )
    second = client.get(f"{API}?after={first['cursor']}&wait=0").json
    [reply] = second["messages"]
    assert reply["role"] == "bot" and reply["text"] == "Bonjour ! Que puis-je faire ?"
    assert reply["quick_replies"] == [{"title": "Changer de siège", "payload": "/change_seat"}]
    assert client.get(f"{API}?after={second['cursor']}&wait=0").json["messages"] == []


def test_a_waiting_poll_returns_as_soon_as_a_reply_is_sent(client) -> None:
    post(client, {"text": "hello", "client_id": "c-poll-0001"})
    visitor = visitor_of(client)
    cursor = client.get(f"{API}?after=0&wait=0").json["cursor"]
    timer = threading.Timer(0.3, lambda: connector(client.application).send(Outbound("webchat", visitor, "hi!")))
    timer.start()
    started = time.monotonic()
    got = client.get(f"{API}?after={cursor}&wait=5").json
    timer.join()
    assert [m["text"] for m in got["messages"]] == ["hi!"]
    assert time.monotonic() - started < 3


def test_a_script_message_comes_back_as_inert_json_text(client) -> None:
    evil = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
    post(client, {"text": evil, "client_id": "c-evil-0001"})
    answer = client.get(f"{API}?after=0&wait=0")
    assert answer.mimetype == "application/json"
    assert answer.json["messages"][0]["text"] == evil
    # the page never renders transcript text on the server, and the script only ever uses textContent
    assert evil not in client.get("/chat").get_data(as_text=True)
    js = (STATIC / "chat.js").read_text(encoding="utf-8")
    assert "textContent" in js
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", js)


def test_payload_of_a_pressed_button_reaches_the_queue(client) -> None:
    assert post(client, {"text": "Oui", "payload": "/affirm", "client_id": "c-button-01"}).status_code == 202
    [msg] = queued(client.application)
    assert (msg.text, msg.payload) == ("Oui", "/affirm")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ('{"text": "hi", ', "not valid UTF-8 JSON"),
        ("[1]", "must be a JSON object"),
        ('{"text": "hi"}', "client_id"),
        (json.dumps({"text": "x" * 2001, "client_id": "c-long-0001"}), "2001 characters; the limit is 2000"),
    ],
)
def test_malformed_posts_answer_400_and_enqueue_nothing(client, data: str, match: str) -> None:
    answer = client.post(API, data=data, content_type="application/json")
    assert answer.status_code == 400
    assert re.search(match, answer.json["error"])
    assert queued(client.application) == []


def test_a_form_post_is_refused(client) -> None:
    answer = client.post(API, data={"text": "hi", "client_id": "c-form-0001"})
    assert answer.status_code == 415
    assert queued(client.application) == []


def test_bad_cursor_is_a_400_naming_it(client) -> None:
    answer = client.get(f"{API}?after=nope")
    assert answer.status_code == 400 and "nope" in answer.json["error"]


def test_a_forged_cookie_is_a_new_visitor_not_someone_else(client) -> None:
    post(client, {"text": "mine", "client_id": "c-owner-001"})
    owner = visitor_of(client)
    stranger = client.application.test_client()
    stranger.set_cookie(COOKIE_NAME, owner, path="/chat")  # an unsigned id
    assert stranger.get(f"{API}?after=0&wait=0").json["visitor"] is False
    post(stranger, {"text": "theirs", "client_id": "c-strng-001"})
    senders = {m.text: m.sender_id for m in queued(client.application)}
    assert senders["mine"] == owner and senders["theirs"] != owner


def test_the_token_header_identifies_the_visitor_without_cookies(client) -> None:
    token = post(client, {"text": "hi", "client_id": "c-token-001"}).json["token"]
    cookieless = client.application.test_client(use_cookies=False)
    got = cookieless.get(f"{API}?after=0&wait=0", headers={TOKEN_HEADER: token}).json
    assert [m["text"] for m in got["messages"]] == ["hi"]


def test_a_flooding_visitor_is_slowed_down(client) -> None:
    post(client, {"text": "0", "client_id": "c-flood-000"})
    codes = [
        post(client, {"text": str(i), "client_id": f"c-flood-{i:03d}"}).status_code for i in range(1, 65)
    ]  # 64 posts: over 30 even if split across two minutes
    assert codes.count(429) > 0 and codes[0] == 202


def test_a_non_number_wait_is_a_400(client) -> None:
    for bad in ("soon", "nan", "inf"):
        answer = client.get(f"{API}?after=0&wait={bad}")
        assert answer.status_code == 400 and "wait must be a number" in answer.json["error"]


def test_redis_down_answers_503_with_retry_after(make_settings, sql_engine, tmp_path) -> None:
    from bots.stores.redis_client import EmbeddedRedis, free_port

    port = free_port()
    server = EmbeddedRedis(tmp_path / "r", port=port, persist=False).start()
    settings = make_settings({"stores": {"redis_url": f"redis://127.0.0.1:{port}/0"}})
    services = build_services(settings)
    client = create_app(settings, services).test_client()
    try:
        assert post(client, {"text": "hi", "client_id": "c-down-0001"}).status_code == 202
        server.stop()
        down = post(client, {"text": "hi again", "client_id": "c-down-0002"})
        assert down.status_code == 503 and down.headers["Retry-After"] == "2"
        assert client.get(f"{API}?after=0&wait=0").status_code == 503
    finally:
        server.stop()
        services.close()


def test_a_disabled_web_chat_is_not_mounted(make_settings, sql_engine) -> None:
    settings = make_settings({"channels": {"webchat": {"enabled": False}}})
    services = build_services(settings)
    client = create_app(settings, services).test_client()
    try:
        assert client.get("/chat").status_code == 404
        assert client.post(API, json={"text": "hi", "client_id": "c-off-00001"}).status_code == 404
    finally:
        services.close()


def test_the_polling_fallback_waits_at_most_five_seconds(client) -> None:
    post(client, {"text": "hi", "client_id": "c-slots-001"})
    cursor = client.get(f"{API}?after=0&wait=0").json["cursor"]
    started = time.monotonic()
    held = client.get(f"{API}?after={cursor}&wait=0.5").json
    assert time.monotonic() - started >= 0.4 and held["messages"] == []
    assert client.application.extensions["webchat"].max_wait_seconds == 5
