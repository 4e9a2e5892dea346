"""``GET/POST /webhooks/meta`` with really signed requests: the subscription check, forged and
unsigned posts refused, batched deliveries, redeliveries queued once, WhatsApp statuses recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from bots.pipeline.delivery_parts import record_parts
from bots.services import Services
from bots.stores.models import deliveries, delivery_parts
from tests.support.signing import meta_signed

from .conftest import META_SECRET, META_VERIFY
from .meta_payloads import instagram_body, messaging, page_body, wa_message, wa_status, whatsapp_body
from .test_webhooks_http import backlog

pytestmark = pytest.mark.integration  # real Redis, SQL and the fake channel APIs

PSID = "6543210987654321"


def post_meta(
    client: Any, payload: dict[str, Any] | bytes, secret: str | None = META_SECRET, headers: dict | None = None
):
    body, signed = meta_signed(secret or "unused", payload)
    if secret is None:
        del signed["X-Hub-Signature-256"]
    return client.post("/webhooks/meta", data=body, headers={**signed, **(headers or {})})


def test_the_subscription_check_echoes_the_challenge_only_for_our_token(app_services) -> None:
    app, _ = app_services
    client = app.test_client()
    ok = client.get(f"/webhooks/meta?hub.mode=subscribe&hub.verify_token={META_VERIFY}&hub.challenge=1158201444")
    assert (ok.status_code, ok.get_data(as_text=True)) == (200, "1158201444")
    for query in (
        "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1",
        f"hub.mode=unsubscribe&hub.verify_token={META_VERIFY}&hub.challenge=1",
        f"hub.mode=subscribe&hub.verify_token={META_VERIFY}",
        "",
    ):
        refused = client.get(f"/webhooks/meta?{query}")
        assert refused.status_code == 403, query
        assert "1158201444" not in refused.get_data(as_text=True) and META_VERIFY not in refused.get_data(as_text=True)


def test_forged_and_unsigned_posts_are_refused_and_nothing_is_queued(app_services) -> None:
    app, services = app_services
    client = app.test_client()
    body = page_body(messaging(PSID, message={"text": "Bonjour"}))
    assert post_meta(client, body, secret="not-our-secret").status_code == 403
    assert post_meta(client, body, secret=None).status_code == 403
    signed, headers = meta_signed(META_SECRET, body)
    tampered = signed.replace(b"Bonjour", b"Bonjoux")
    assert client.post("/webhooks/meta", data=tampered, headers=headers).status_code == 403
    assert backlog(services) == []


def test_a_malformed_body_is_a_400_with_the_reason(app_services) -> None:
    app, services = app_services
    client = app.test_client()
    answer = post_meta(client, b"{not json")
    assert answer.status_code == 400 and "malformed" in answer.get_data(as_text=True)
    lone = json.dumps(page_body(messaging(PSID, message={"text": "x"}))).replace('"x"', '"\\ud800"').encode()
    assert post_meta(client, lone).status_code == 400
    assert backlog(services) == []


def test_a_batched_delivery_queues_every_event_of_every_entry_and_a_redelivery_once(app_services) -> None:
    app, services = app_services
    client = app.test_client()
    first = messaging(PSID, message={"text": "Bonjour"})
    second = messaging("7000000000000002", postback={"title": "Changer de siège", "payload": "/change_seat"})
    insta = instagram_body(messaging("1784140000000042", account="17841400000000001", message={"text": "Hi"}))
    batched = page_body(first, second)
    batched["entry"].append(dict(batched["entry"][0], messaging=[messaging(PSID, message={"text": "Encore moi"})]))
    for _ in range(3):  # Meta redelivers a delivery it thinks failed
        assert post_meta(client, batched).status_code == 200
    assert post_meta(client, insta).status_code == 200
    queued = backlog(services)
    # one conversation's messages stay in order (its shard); shards are read one after the other
    assert [(q["kind"], q["text"]) for q in queued if q["conversation_id"] == f"messenger:{PSID}"] == [
        ("message", "Bonjour"),
        ("message", "Encore moi"),
    ]
    assert [
        (q["kind"], q["payload"], q["text"]) for q in queued if q["conversation_id"] == "messenger:7000000000000002"
    ] == [("callback", "/change_seat", "Changer de siège")]
    assert [(q["conversation_id"], q["text"]) for q in queued if q["channel"] == "instagram"] == [
        ("instagram:1784140000000042", "Hi")
    ]


def test_echoes_and_reads_are_answered_200_and_not_queued(app_services) -> None:
    app, services = app_services
    client = app.test_client()
    echo = messaging(PSID, message={"text": "our own reply", "is_echo": True})
    read = messaging(PSID, read={"watermark": 1764370000000})
    assert post_meta(client, page_body(echo, read)).status_code == 200
    assert backlog(services) == []


def _delivery(services: Services, wamid: str) -> None:
    """A sent WhatsApp Cloud reply as the pipeline records it (one part)."""
    now = datetime.now(UTC)
    with services.engine.begin() as conn:
        conn.execute(
            insert(deliveries).values(
                idempotency_key="k-status",
                channel="whatsapp_cloud",
                recipient="+33612345678",
                conversation_id="whatsapp_cloud:+33612345678",
                provider_id=wamid,
                status="sent",
                created_at=now,
                updated_at=now,
            )
        )
        record_parts(conn, "k-status", [wamid])


def test_whatsapp_statuses_update_the_delivery_record(app_services) -> None:
    app, services = app_services
    client = app.test_client()
    _delivery(services, "wamid.out1")
    delivered = whatsapp_body(statuses=[wa_status("wamid.out1", "delivered", "33612345678")])
    assert post_meta(client, delivered).status_code == 200
    read = whatsapp_body(statuses=[wa_status("wamid.out1", "read", "33612345678")])
    assert post_meta(client, read).status_code == 200
    with services.engine.connect() as conn:
        part = conn.execute(
            select(delivery_parts.c.status).where(delivery_parts.c.provider_id == "wamid.out1")
        ).scalar()
        whole = conn.execute(select(deliveries.c.status).where(deliveries.c.idempotency_key == "k-status")).scalar()
    assert part == "read" and whole == "read"


def test_a_whatsapp_message_and_a_pressed_button_are_queued_with_the_sender_name(app_services) -> None:
    app, services = app_services
    client = app.test_client()
    text = wa_message("33612345678", text={"body": "Je voudrais changer de siège"})
    button = wa_message(
        "33612345678",
        "interactive",
        interactive={"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Oui"}},
    )
    assert post_meta(client, whatsapp_body([text, button])).status_code == 200
    queued = backlog(services)
    assert [(q["conversation_id"], q["kind"], q["payload"], q["sender_name"]) for q in queued] == [
        ("whatsapp_cloud:+33612345678", "message", None, "Camille Martin"),
        ("whatsapp_cloud:+33612345678", "callback", "/affirm", "Camille Martin"),
    ]
