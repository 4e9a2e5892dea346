"""The fake Meta Graph API itself: auth, the body checks Graph makes, its answers, failures and helpers."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes.graph_api import (
    DEFAULT_INSTAGRAM_ID,
    DEFAULT_PAGE_ID,
    DEFAULT_PHONE_NUMBER_ID,
    DEFAULT_TOKEN,
    FakeGraphAPI,
    graph_error,
    is_send,
)
from tests.support.signing import meta_signed

PSID = "6543210987654321"
WA = "31612345678"
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


@pytest.fixture
def fake() -> Iterator[FakeGraphAPI]:
    with FakeGraphAPI() as server:
        yield server


def post(fake: FakeGraphAPI, account: str, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(f"{fake.base_url}/{account}/messages", json=body, headers=AUTH if headers is None else headers)


def text(words: str = "Hello", /, **extra: Any) -> dict[str, Any]:
    """A Messenger text send; ``extra`` replaces or adds top-level fields (``message=...`` too)."""
    return {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": words}} | extra


def wa(kind: str, content: dict[str, Any], to: str = WA) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: content}


def error_of(resp: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = resp.json()["error"]
    return error


def refused(resp: requests.Response, field: str) -> None:
    assert resp.status_code == 400, resp.text
    error = error_of(resp)
    assert error["code"] == 100 and error["type"] == "OAuthException"
    assert field in error["message"]


# -- auth -------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": DEFAULT_TOKEN}])
def test_a_call_without_the_token_is_refused_with_190(fake, headers):
    resp = post(fake, DEFAULT_PAGE_ID, text(), headers)
    assert resp.status_code == 401
    error = error_of(resp)
    assert error["code"] == 190 and error["type"] == "OAuthException" and error["fbtrace_id"]
    resp = requests.get(f"{fake.base_url}/{DEFAULT_PAGE_ID}", params={"fields": "id,name"}, headers=headers)
    assert resp.status_code == 401 and error_of(resp)["code"] == 190


def test_the_doctor_check_reads_id_and_name(fake):
    for account in (DEFAULT_PAGE_ID, DEFAULT_INSTAGRAM_ID, DEFAULT_PHONE_NUMBER_ID):
        resp = requests.get(f"{fake.base_url}/{account}", params={"fields": "id,name"}, headers=AUTH)
        assert resp.status_code == 200
        assert resp.json() == {"id": account, "name": "Nimbus Air"}
    assert fake.base_url.endswith("/v21.0")


def test_an_unknown_account_is_an_unsupported_request(fake):
    resp = post(fake, "999", text())
    refused(resp, "Unsupported post request")
    assert error_of(resp)["error_subcode"] == 33
    resp = requests.get(f"{fake.base_url}/999", params={"fields": "id,name"}, headers=AUTH)
    refused(resp, "Unsupported get request")
    off = FakeGraphAPI(instagram_id="").start()
    try:
        refused(post(off, "", text()), "Unknown path")  # the path has no account at all
        refused(post(off, DEFAULT_INSTAGRAM_ID, text()), "Unsupported post request")
    finally:
        off.stop()


# -- Messenger / Instagram ----------------------------------------------------------
def test_messenger_text_answers_recipient_and_message_id(fake):
    resp = post(fake, DEFAULT_PAGE_ID, text())
    assert resp.status_code == 200
    assert resp.json() == {"recipient_id": PSID, "message_id": "m_1"}


def test_sender_actions_answer_the_recipient_only(fake):
    for action in ("typing_on", "typing_off", "mark_seen"):
        resp = post(fake, DEFAULT_PAGE_ID, {"recipient": {"id": PSID}, "sender_action": action})
        assert resp.status_code == 200 and resp.json() == {"recipient_id": PSID}
    refused(post(fake, DEFAULT_PAGE_ID, {"recipient": {"id": PSID}, "sender_action": "dance"}), "sender_action")
    refused(post(fake, DEFAULT_PAGE_ID, text(sender_action="typing_on")), "sender_action")


def test_messenger_attachment_and_quick_replies(fake):
    attachment = {"attachment": {"type": "image", "payload": {"url": "https://x.example/a.png", "is_reusable": True}}}
    body = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": attachment}
    assert post(fake, DEFAULT_PAGE_ID, body).status_code == 200
    replies = [{"content_type": "text", "title": f"Option {i}", "payload": f"P{i}"} for i in range(13)]
    assert post(fake, DEFAULT_PAGE_ID, text(message={"text": "Pick", "quick_replies": replies})).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"messaging_type": "RESPONSE", "message": {"text": "x"}}, "recipient"),
        ({"recipient": {}, "messaging_type": "RESPONSE", "message": {"text": "x"}}, "recipient[id]"),
        ({"recipient": {"id": PSID}}, "message or sender_action"),
        ({"recipient": {"id": PSID}, "message": {"text": "x"}}, "messaging_type"),
        (text(messaging_type="NOW"), "messaging_type"),
        (text(messaging_type="MESSAGE_TAG"), "tag"),
        (text(messaging_type="MESSAGE_TAG", tag="SPAM"), "tag"),
        (text(message={}), "message[text] or message[attachment]"),
        (text(message={"text": ""}), "message[text]"),
        (text("x" * 2001), "message[text]"),
        (text(message={"text": "x", "quick_replies": [{"title": "t", "payload": "p"}] * 14}), "quick_replies"),
        (text(message={"text": "x", "quick_replies": [{"title": "t" * 21, "payload": "p"}]}), "[title]"),
        (text(message={"text": "x", "quick_replies": [{"title": "t"}]}), "[payload]"),
        (text(message={"attachment": {"type": "gif", "payload": {"url": "u"}}}), "[type]"),
        (text(message={"attachment": {"type": "image", "payload": {}}}), "[url]"),
    ],
)
def test_messenger_bodies_graph_refuses(fake, body, field):
    refused(post(fake, DEFAULT_PAGE_ID, body), field)
    assert fake.sends() == [body]  # recorded even when refused


def test_a_message_tag_goes_out_with_its_tag(fake):
    assert post(fake, DEFAULT_PAGE_ID, text(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")).status_code == 200
    assert post(fake, DEFAULT_PAGE_ID, text(messaging_type="UPDATE")).status_code == 200


def test_instagram_texts_are_capped_at_1000(fake):
    assert post(fake, DEFAULT_INSTAGRAM_ID, text("x" * 1000)).status_code == 200
    refused(post(fake, DEFAULT_INSTAGRAM_ID, text("x" * 1001)), "message[text]")
    assert post(fake, DEFAULT_PAGE_ID, text("x" * 2000)).status_code == 200
    refused(post(fake, DEFAULT_INSTAGRAM_ID, text(messaging_type="MESSAGE_TAG", tag="ACCOUNT_UPDATE")), "tag")


# -- WhatsApp -----------------------------------------------------------------------
def test_whatsapp_text_answers_contacts_and_wamid(fake):
    resp = post(fake, DEFAULT_PHONE_NUMBER_ID, wa("text", {"body": "Hi", "preview_url": False}))
    assert resp.status_code == 200
    assert resp.json() == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": WA, "wa_id": WA}],
        "messages": [{"id": "wamid.1"}],
    }


def test_whatsapp_read_receipt_with_typing(fake):
    body = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.HBgL",
        "typing_indicator": {"type": "text"},
    }
    resp = post(fake, DEFAULT_PHONE_NUMBER_ID, body)
    assert resp.status_code == 200 and resp.json() == {"success": True}
    refused(post(fake, DEFAULT_PHONE_NUMBER_ID, body | {"message_id": ""}), "message_id")
    refused(post(fake, DEFAULT_PHONE_NUMBER_ID, body | {"status": "delivered"}), "status")
    refused(post(fake, DEFAULT_PHONE_NUMBER_ID, body | {"typing_indicator": {"type": "x"}}), "typing_indicator")


def buttons(n: int, title: str = "Yes") -> dict[str, Any]:
    return {
        "type": "button",
        "body": {"text": "Choose"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"{title}{i}"}} for i in range(n)]},
    }


def rows(n: int, title: str = "Row") -> dict[str, Any]:
    return {
        "type": "list",
        "body": {"text": "Choose"},
        "action": {
            "button": "Options",
            "sections": [{"title": "All", "rows": [{"id": f"r{i}", "title": f"{title}{i}"} for i in range(n)]}],
        },
    }


TEMPLATE = {
    "name": "reply",
    "language": {"code": "en"},
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "Hi"}]}],
}


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("interactive", buttons(3)),
        ("interactive", rows(10)),
        ("template", TEMPLATE),
        ("image", {"link": "https://x.example/a.png", "caption": "A"}),
        ("document", {"link": "https://x.example/a.pdf", "filename": "a.pdf"}),
        ("audio", {"id": "1234"}),
        ("video", {"link": "https://x.example/a.mp4"}),
    ],
)
def test_whatsapp_kinds_go_out(fake, kind, content):
    assert post(fake, DEFAULT_PHONE_NUMBER_ID, wa(kind, content)).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": WA, "type": "text", "text": {"body": "x"}}, "messaging_product"),
        (wa("text", {"body": "x"}, to=""), "to"),
        (wa("sticker", {"id": "1"}), "type"),
        ({"messaging_product": "whatsapp", "to": WA, "type": "text"}, "text"),
        (wa("text", {"body": ""}), "text.body"),
        (wa("text", {"body": "x" * 4097}), "text.body"),
        (wa("interactive", buttons(4)), "buttons"),
        (wa("interactive", buttons(1, "t" * 20)), "reply.title"),
        (wa("interactive", rows(11)), "rows"),
        (wa("interactive", rows(1, "t" * 24)), "rows[0].title"),
        (wa("interactive", {"type": "carousel", "body": {"text": "x"}, "action": {}}), "interactive.type"),
        (wa("template", {"language": {"code": "en"}}), "template.name"),
        (wa("template", {"name": "reply", "language": {}}), "template.language.code"),
        (wa("template", {"name": "reply"}), "template.language"),
        (wa("image", {"caption": "no media"}), "image.link"),
    ],
)
def test_whatsapp_bodies_graph_refuses(fake, body, field):
    refused(post(fake, DEFAULT_PHONE_NUMBER_ID, body), field)


def test_ten_rows_over_two_sections_are_too_many(fake):
    content = rows(6)
    content["action"]["sections"].append({"title": "More", "rows": [{"id": f"s{i}", "title": "R"} for i in range(5)]})
    refused(post(fake, DEFAULT_PHONE_NUMBER_ID, wa("interactive", content)), "10 rows")


# -- ids, failures, helpers ---------------------------------------------------------
def test_ids_increase_across_channels(fake):
    first = post(fake, DEFAULT_PAGE_ID, text()).json()["message_id"]
    post(fake, DEFAULT_PAGE_ID, {"recipient": {"id": PSID}, "sender_action": "typing_on"})
    second = post(fake, DEFAULT_PHONE_NUMBER_ID, wa("text", {"body": "x"})).json()["messages"][0]["id"]
    third = post(fake, DEFAULT_INSTAGRAM_ID, text()).json()["message_id"]
    assert (first, second, third) == ("m_1", "wamid.2", "m_3")


def test_fail_code_answers_the_graph_error_then_recovers(fake):
    fake.fail_code(10, subcode=2018278, times=2)
    for _ in range(2):
        resp = post(fake, DEFAULT_PAGE_ID, text())
        assert resp.status_code == 400
        error = error_of(resp)
        assert (error["code"], error["error_subcode"], error["type"]) == (10, 2018278, "OAuthException")
    assert post(fake, DEFAULT_PAGE_ID, text()).status_code == 200
    fake.fail_code(2, status=500)
    resp = post(fake, DEFAULT_PHONE_NUMBER_ID, wa("text", {"body": "x"}))
    assert resp.status_code == 500 and error_of(resp)["is_transient"] is True


def test_fail_code_can_spare_the_typing_calls(fake):
    fake.fail_code(551, when=is_send)
    assert post(fake, DEFAULT_PAGE_ID, {"recipient": {"id": PSID}, "sender_action": "typing_on"}).status_code == 200
    assert error_of(post(fake, DEFAULT_PAGE_ID, text()))["code"] == 551


@pytest.mark.parametrize(("code", "status"), [(613, 400), (4, 400), (80007, 400), (130429, 429), (131056, 429)])
def test_rate_limit_answers_like_graph(fake, code, status):
    fake.rate_limit(code=code)
    resp = post(fake, DEFAULT_PHONE_NUMBER_ID, wa("text", {"body": "x"}))
    assert resp.status_code == status
    assert error_of(resp)["code"] == code and error_of(resp)["is_transient"] is True
    assert post(fake, DEFAULT_PHONE_NUMBER_ID, wa("text", {"body": "x"})).status_code == 200


def test_graph_error_shape():
    body = graph_error(131047)
    error = body["error"]
    assert error["message"] == "(#131047) Re-engagement message" and error["code"] == 131047
    assert error["error_data"]["messaging_product"] == "whatsapp" and "error_subcode" not in error
    assert graph_error(100, "(#100) nope", subcode=33)["error"]["error_subcode"] == 33


def test_sends_typing_and_texts(fake):
    post(fake, DEFAULT_PAGE_ID, {"recipient": {"id": PSID}, "sender_action": "typing_on"})
    post(fake, DEFAULT_PAGE_ID, text("one"))
    post(fake, DEFAULT_PAGE_ID, text("other", recipient={"id": "42"}))
    post(fake, DEFAULT_INSTAGRAM_ID, text("two"))
    post(fake, DEFAULT_PHONE_NUMBER_ID, wa("text", {"body": "wa one"}))
    post(fake, DEFAULT_PHONE_NUMBER_ID, wa("interactive", buttons(2)))
    post(fake, DEFAULT_PHONE_NUMBER_ID, {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"})
    assert fake.texts(PSID) == ["one", "two"]
    assert fake.texts(WA) == ["wa one", "Choose"]
    assert [s["message"]["text"] for s in fake.sends(DEFAULT_PAGE_ID)] == ["one", "other"]
    assert fake.sends(DEFAULT_PHONE_NUMBER_ID)[1]["interactive"]["action"]["buttons"][0]["reply"]["id"] == "b0"
    assert len(fake.sends()) == 5
    assert fake.typing(DEFAULT_PAGE_ID) == [{"recipient": {"id": PSID}, "sender_action": "typing_on"}]
    assert [t.get("status") for t in fake.typing()] == [None, "read"]
    assert fake.calls("messages")[0].body  # the raw body is kept


def test_form_encoded_bodies_are_read_like_graph(fake):
    form = {"recipient": json.dumps({"id": PSID}), "messaging_type": "RESPONSE", "message": json.dumps({"text": "hi"})}
    resp = requests.post(f"{fake.base_url}/{DEFAULT_PAGE_ID}/messages", data=form, headers=AUTH)
    assert resp.status_code == 200 and fake.texts(PSID) == ["hi"]


def test_recorded_requests_list_with_their_bodies(fake):
    post(fake, DEFAULT_PAGE_ID, text("listed"))
    [rec] = requests.get(f"{fake.root_url}/_fake/requests").json()
    assert rec["endpoint"] == "messages" and json.loads(rec["body"])["message"]["text"] == "listed"


def test_meta_signed_signs_the_raw_body():
    body, headers = meta_signed("app-secret", {"object": "page", "entry": []})
    assert body == b'{"object":"page","entry":[]}'
    expected = hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert headers == {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={expected}"}
    assert meta_signed("s", b"raw")[0] == b"raw"
