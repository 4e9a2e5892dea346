"""The staff JSON API end to end: a real dialogue turn asks for a person, an agent answers over /api/v1."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from connectors.base import Inbound

from .conftest import World

CID = "fake:cust9"
_ids = itertools.count(1)


def say(world: World, text: str, conv: str = CID) -> list[str]:
    """The customer writes; returns what the channel received for this turn."""
    before = len(world.channel.sent)
    world.runner.run(
        Inbound(
            channel="fake",
            sender_id=conv.split(":", 1)[1],
            conversation_id=conv,
            message_id=f"in{next(_ids)}",
            text=text,
        )
    )
    return [m["text"] for m in world.channel.sent[before:]]


def test_handoff_takeover_reply_handback_flow(world: World) -> None:
    web = world.client
    assert say(world, "Hello"), "the bot answers"
    assert say(world, "I want to talk to a human")
    waiting = web.get("/api/v1/conversations?mode=waiting", headers=world.auth())
    assert waiting.status_code == 200 and waiting.headers["Cache-Control"] == "no-store"
    body = waiting.get_json()
    assert [c["id"] for c in body["conversations"]] == [CID] and body["view"] == "waiting"
    assert body["counts"]["waiting"] == 1
    item = body["conversations"][0]
    assert item["mode"] == "waiting" and datetime.fromisoformat(item["waiting_since"]).tzinfo is not None

    r = web.post(f"/api/v1/conversations/{CID}/takeover", headers=world.auth())
    assert r.status_code == 200
    assert (r.get_json()["conversation"]["mode"], r.get_json()["conversation"]["assigned_name"]) == ("human", "Ana")
    again = web.post(f"/api/v1/conversations/{CID}/takeover", headers=world.auth("bob"))
    assert again.status_code == 409 and "Ana" in again.get_json()["error"]

    r = web.post(
        f"/api/v1/conversations/{CID}/messages", json={"text": "Hi, I'm Ana. How can I help?"}, headers=world.auth()
    )
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["delivery"] == {"status": "sent", "reason": None} and out["message"]["author"] == "staff"
    assert world.channel.sent[-1]["text"] == "Hi, I'm Ana. How can I help?"
    assert world.channel.sent[-1]["to"] == "cust9"

    assert say(world, "my bag is lost, what is the baggage allowance?") == [], "the bot keeps quiet"
    r = web.post(f"/api/v1/conversations/{CID}/notes", json={"text": "lost bag"}, headers=world.auth())
    assert r.status_code == 201 and r.get_json()["note"]["author_name"] == "Ana"

    detail = web.get(f"/api/v1/conversations/{CID}", headers=world.auth()).get_json()
    authors = [m["author"] for m in detail["messages"]]
    assert authors[-2:] == ["staff", "customer"] and "bot" in authors
    last = detail["messages"][-1]
    assert last["intent"] and isinstance(last["confidence"], float) and last["sentiment_label"]
    assert [n["text"] for n in detail["notes"]] == ["lost bag"]
    assert detail["conversation"]["mode"] == "human" and isinstance(detail["slots"], dict)
    assert detail["profile"]["messages"] == len(detail["messages"]) and detail["window"] is None
    assert 1 <= len(detail["suggestions"]) <= 5

    r = web.post(f"/api/v1/conversations/{CID}/handback", headers=world.auth())
    assert r.status_code == 200 and r.get_json()["conversation"]["mode"] == "bot"
    assert world.channel.sent[-1]["text"] == "You're back with the Nimbus Air assistant."
    assert web.post(f"/api/v1/conversations/{CID}/handback", headers=world.auth()).status_code == 409
    assert say(world, "what is the baggage allowance?"), "the bot answers again"

    r = web.post(f"/api/v1/conversations/{CID}/resolve", headers=world.auth("bob"))
    assert r.status_code == 200 and r.get_json()["conversation"]["mode"] == "resolved"
    listed = web.get("/api/v1/conversations?view=resolved&q=BAGGAGE", headers=world.auth()).get_json()
    assert [c["id"] for c in listed["conversations"]] == [CID]


def test_assign_by_id_and_email(world: World) -> None:
    say(world, "I want to talk to a human")
    bob = world.accounts.by_email("bob@nimbus.example")
    r = world.client.post(
        f"/api/v1/conversations/{CID}/assign", json={"email": "bob@nimbus.example"}, headers=world.auth()
    )
    assert r.status_code == 200 and r.get_json()["conversation"]["assigned_to"] == bob.id
    mine = world.client.get("/api/v1/conversations?view=mine", headers=world.auth("bob")).get_json()
    assert [c["id"] for c in mine["conversations"]] == [CID]
    ivy = world.accounts.by_email("ivy@nimbus.example")
    r = world.client.post(f"/api/v1/conversations/{CID}/assign", json={"staff_id": ivy.id}, headers=world.auth())
    assert r.status_code == 422 and "analyst" in r.get_json()["error"]
    r = world.client.post(
        f"/api/v1/conversations/{CID}/assign", json={"email": "who@nimbus.example"}, headers=world.auth()
    )
    assert r.status_code == 404
    for bad in ({}, {"staff_id": "3"}, {"staff_id": True}, {"staff_id": 1, "email": "x@y"}):
        r = world.client.post(f"/api/v1/conversations/{CID}/assign", json=bad, headers=world.auth())
        assert r.status_code == 422, bad


def test_tokens_and_roles(world: World) -> None:
    web = world.client
    r = web.get("/api/v1/conversations")
    assert r.status_code == 401 and "error" in r.get_json() and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert web.get("/api/v1/conversations", headers={"Authorization": "Bearer bbt_nope"}).status_code == 401
    r = web.get("/api/v1/conversations", headers=world.auth("ivy"))
    assert r.status_code == 403 and "analyst" in r.get_json()["error"]
    assert web.get("/api/v1/conversations", headers=world.auth("bob")).status_code == 200
    world.accounts.revoke_token(world.tokens["ana"])
    r = web.get("/api/v1/conversations", headers=world.auth())
    assert r.status_code == 401 and r.get_json()["error"]
    assert web.post(f"/api/v1/conversations/{CID}/takeover", headers=world.auth()).status_code == 401


def test_json_errors_everywhere(world: World) -> None:
    web, auth = world.client, world.auth()
    say(world, "I want to talk to a human")
    cases = [
        (web.get("/api/v1/conversations/fake:nobody", headers=auth), 404, "no conversation 'fake:nobody'"),
        (web.post("/api/v1/conversations/fake:nobody/takeover", headers=auth), 404, "no conversation"),
        (web.get("/api/v1/nothing-here", headers=auth), 404, ""),
        (web.delete(f"/api/v1/conversations/{CID}/notes", headers=auth), 405, ""),
        (web.get("/api/v1/conversations?view=later", headers=auth), 422, "view: must be one of"),
        (web.get("/api/v1/conversations?limit=ten", headers=auth), 422, "limit: must be a whole number"),
        (
            web.post(
                f"/api/v1/conversations/{CID}/messages", data="{not json", content_type="application/json", headers=auth
            ),
            400,
            "not valid JSON",
        ),
        (web.post(f"/api/v1/conversations/{CID}/messages", data="text=hi", headers=auth), 400, "Content-Type"),
        (web.post(f"/api/v1/conversations/{CID}/messages", json=["hi"], headers=auth), 400, "JSON object"),
        (web.post(f"/api/v1/conversations/{CID}/messages", json={}, headers=auth), 422, "text: is required"),
        (web.post(f"/api/v1/conversations/{CID}/messages", json={"text": "  "}, headers=auth), 422, "empty"),
        (web.post(f"/api/v1/conversations/{CID}/messages", json={"text": "a\u0000b"}, headers=auth), 422, "NUL"),
        (
            web.post(
                f"/api/v1/conversations/{CID}/messages",
                data='{"text": "\\ud800"}',
                content_type="application/json",
                headers=auth,
            ),
            422,
            "lone surrogate",
        ),
        (web.post(f"/api/v1/conversations/{CID}/messages", json={"text": "x" * 5000}, headers=auth), 422, "4096"),
        (
            web.post(f"/api/v1/conversations/{CID}/messages", json={"text": "hi", "template": 3}, headers=auth),
            422,
            "template",
        ),
        (web.post(f"/api/v1/conversations/{CID}/notes", json={"text": None}, headers=auth), 422, "string"),
        (
            web.post(f"/api/v1/conversations/{CID}/takeover", data="junk", content_type="text/plain", headers=auth),
            400,
            "Content-Type",
        ),
    ]
    for i, (r, status, fragment) in enumerate(cases):
        assert r.status_code == status, (i, r.status_code, r.get_data(as_text=True))
        assert r.is_json and isinstance(r.get_json()["error"], str), (i, r.get_data(as_text=True))
        assert fragment in r.get_json()["error"], (i, r.get_json())
    assert world.desk.conversation(CID).mode == "waiting", "no bad request changed anything"


def test_a_refused_reply_is_a_502_with_the_reason(world: World) -> None:
    world.channel.permanent_to.add("cust9")
    say(world, "I want to talk to a human")
    r = world.client.post(f"/api/v1/conversations/{CID}/messages", json={"text": "hello?"}, headers=world.auth())
    assert r.status_code == 502
    body = r.get_json()
    assert body["delivery"]["status"] == "failed" and "invalid recipient" in body["error"]
    assert body["message"]["delivery"] == "failed"


@pytest.mark.parametrize("path", ["/console/anything", "/somewhere"])
def test_other_paths_keep_flasks_own_404(world: World, path: str) -> None:
    r = world.client.get(path)
    assert r.status_code == 404 and not r.is_json
