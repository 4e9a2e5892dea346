"""A whole deployment with customers on every channel, for the erasure and export tests.

The shipped config.yaml with every channel on (fake Telegram, Twilio and Graph APIs on
127.0.0.1), the trained demo NLU and the real dialogue runtime: customers' messages go
through the signed webhooks (or the web chat API), the inbound queue and a worker's real
turns, and the replies through the real connectors. Consent, signals, a staff note, a
mode change, a dead letter, a pending inbound, an SMS opt-out and a blocked Telegram chat
are written through their own modules, so the customer has data in every store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import redis
from sqlalchemy import Engine, MetaData, insert, select
from twilio.request_validator import RequestValidator

from bots.handoff.modes import ModeChange, record
from bots.pipeline import DeadLetters, Worker, keys_for
from bots.privacy import ConsentBook, Customer, Pseudonyms, Signals, Wording, customer
from bots.runtime import build_pipeline, close_connectors
from bots.services import Services, build_services
from bots.settings import Settings, load_settings
from bots.stores.models import notes
from bots.web.app import create_app
from bots.web.chat import COOKIE_NAME
from connectors.telegram import TelegramConnector
from tests.conftest import REPO
from tests.connectors.meta_payloads import messaging, page_body, wa_message, whatsapp_body
from tests.fakes.graph_api import DEFAULT_PAGE_ID, DEFAULT_PHONE_NUMBER_ID, FakeGraphAPI
from tests.fakes.graph_api import DEFAULT_TOKEN as META_TOKEN
from tests.fakes.telegram_api import DEFAULT_TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN, FakeTwilioAPI
from tests.support.signing import meta_signed

from .conftest import SECRET

PUBLIC = "https://bot.example.com"
TG_SECRET = "tg-secret-privacy"
META_SECRET = "meta-secret-privacy"
SMS_FROM = "+3120000001"
WA_FROM = "whatsapp:+3120000000"
FEEDBACK = Wording("feedback-1", "May we learn from this conversation (anonymised)?", "en")


@dataclass
class World:
    settings: Settings
    services: Services
    web: Any
    worker: Worker
    pseudonyms: Pseudonyms
    #: the customers whose data a test erases, and others who must keep theirs.
    targets: dict[str, Customer] = field(default_factory=dict)
    controls: dict[str, Customer] = field(default_factory=dict)

    @property
    def redis(self) -> redis.Redis:
        return self.services.redis

    @property
    def engine(self) -> Engine:
        return self.services.engine

    def drain(self) -> None:
        quiet = 0
        for _ in range(300):
            quiet = quiet + 1 if self.worker.run_once() == 0 else 0
            if quiet >= 3:
                return
        raise AssertionError("queue did not drain")

    # -- inbound through the real doors --------------------------------------------
    def twilio(self, sid: str, who: Customer, body: str) -> None:
        sender = f"whatsapp:{who.id}" if who.channel == "whatsapp" else who.id
        form = {
            "MessageSid": sid,
            "AccountSid": DEFAULT_SID,
            "From": sender,
            "To": WA_FROM if who.channel == "whatsapp" else SMS_FROM,
            "Body": body,
            "NumMedia": "0",
        }
        sig = RequestValidator(DEFAULT_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)
        r = self.web.post(
            "/webhooks/twilio",
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": sig},
        )
        assert r.status_code == 200, r.get_data(as_text=True)

    def telegram(self, update_id: int, who: Customer, text: str) -> None:
        chat = int(who.id)
        update = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "text": text,
                "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "Ana"},
            },
        }
        r = self.web.post("/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
        assert r.status_code == 200, r.get_data(as_text=True)

    def meta(self, who: Customer, text: str) -> None:
        if who.channel == "messenger":
            payload = page_body(messaging(who.id, message={"text": text}))
        else:
            payload = whatsapp_body([wa_message(who.id.lstrip("+"), text={"body": text})])
        body, headers = meta_signed(META_SECRET, payload)
        r = self.web.post("/webhooks/meta", data=body, headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)

    def say(self, who: Customer, n: int, text: str, browser: Any = None) -> None:
        if who.channel in ("sms", "whatsapp"):
            self.twilio(f"SM{who.channel[:2]}{who.id[1:]}{n:03d}", who, text)
        elif who.channel == "telegram":
            self.telegram(int(who.id) * 1000 + n, who, text)
        elif who.channel in ("messenger", "whatsapp_cloud"):
            self.meta(who, text)
        else:
            r = browser.post("/chat/api/messages", json={"text": text, "client_id": f"c-{n:04d}-privacy"})
            assert r.status_code == 202, r.get_data(as_text=True)


def _visitor(browser: Any) -> str:
    """The web chat visitor id behind the browser's signed cookie."""
    signed = browser.get_cookie(COOKIE_NAME, path="/chat").value
    state = browser.application.extensions["webchat"]
    return state.signer.loads(signed)


@contextmanager
def world(engine_url: str, redis_url: str, nlu_dir: Path, tmp: Path) -> Iterator[World]:
    """The deployment, on the database at ``engine_url`` (already migrated) and ``redis_url``."""
    tg, tw, graph = FakeTelegramAPI().start(), FakeTwilioAPI().start(), FakeGraphAPI(instagram_id="").start()
    env = {
        "TELEGRAM_ENABLED": "true",
        "TELEGRAM_BOT_TOKEN": TG_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "TWILIO_ENABLED": "true",
        "TWILIO_ACCOUNT_SID": DEFAULT_SID,
        "TWILIO_AUTH_TOKEN": DEFAULT_TOKEN,
        "TWILIO_WHATSAPP_FROM": WA_FROM,
        "TWILIO_SMS_FROM": SMS_FROM,
        "TWILIO_API_BASE_URL": tw.base_url,
        "TWILIO_PUBLIC_URL": PUBLIC,
        "META_ENABLED": "true",
        "META_APP_SECRET": META_SECRET,
        "META_VERIFY_TOKEN": "verify-privacy",
        "META_ACCESS_TOKEN": META_TOKEN,
        "META_API_BASE_URL": graph.base_url,
        "META_PAGE_ID": DEFAULT_PAGE_ID,
        "META_WHATSAPP_PHONE_NUMBER_ID": DEFAULT_PHONE_NUMBER_ID,
        "REDIS_URL": redis_url,
        "DATABASE_URL": engine_url,
    }
    settings = load_settings(
        REPO / "config.yaml",
        env=env,
        overrides={
            "nlu.model_dir": str(nlu_dir),
            "dialogue.actions_options.database": str(tmp / "airline.db"),
            "pipeline.shards": 4,
            "channels.telegram.per_chat_messages": 100,  # no waiting for Telegram's 1/s per chat
            "pipeline.send_backoff_initial": 0.001,
            "pipeline.send_backoff_max": 0.01,
        },
    )
    services = build_services(settings)
    pipeline = build_pipeline(services)
    app = create_app(settings, services)
    app.config["TESTING"] = True
    worker = Worker(services.redis, services.engine, settings, pipeline.handler, pipeline.connectors)
    try:
        yield World(settings, services, app.test_client(), worker, Pseudonyms(SECRET))
    finally:
        close_connectors(pipeline.connectors)
        pipeline.close()
        services.close()
        tg.stop()
        tw.stop()
        graph.stop()


def populate(w: World) -> None:
    """A target and a control customer on each channel, with data in every store."""
    browsers = {"target": w.web, "control": w.web.application.test_client()}
    for role, phone_sms, phone_wa, chat, psid, phone_cloud in (
        ("target", "+33612345678", "+33611111111", "5550001", "6543210987650001", "+33633333333"),
        ("control", "+33698765432", "+33622222222", "5550002", "6543210987650002", "+33644444444"),
    ):
        people = [
            customer("sms", phone_sms),
            customer("whatsapp", phone_wa),
            customer("telegram", chat),
            customer("messenger", psid),
            customer("whatsapp_cloud", phone_cloud),
        ]
        browser = browsers[role]
        assert browser.get("/chat").status_code == 200
        people.append(customer("webchat", _visitor(browser)))
        for who in people:
            (w.targets if role == "target" else w.controls)[who.channel] = who
            w.say(who, 1, "Hello, my name is Ana Lima, my email is ana.lima@example.com", browser)
            w.say(who, 2, "Where is my booking X7K9QZ?", browser)
            w.say(who, 3, "I want to talk to a person", browser)
        w.drain()
    book = ConsentBook(w.engine)
    signals = Signals(w.engine, w.pseudonyms)
    keys = keys_for(w.settings)
    letters = DeadLetters(w.redis, keys)
    telegram = w.worker.deliverer.connectors["telegram"]
    assert isinstance(telegram, TelegramConnector)
    now = datetime.now(UTC)
    for who in [*w.targets.values(), *w.controls.values()]:
        book.grant(who, "feedback_analytics", how="button", wording=FEEDBACK)
        book.grant(who, "marketing", how="console", wording=Wording("marketing-1", "offers", "en"), actor="staff:1")
        signals.message(who, intent="booking_status", sentiment=-0.2, language="en")
        signals.csat(who, 4)
        signals.comment(who, "Great, thanks! I'm Ana, +33 6 12 34 56 78", sentiment=0.8)
        with w.engine.begin() as conn:
            conn.execute(
                insert(notes).values(conversation_id=who.conversation_id, staff_id=1, text="VIP", created_at=now)
            )
            record(conn, ModeChange(who.conversation_id, who.channel, "bot", "human", "staff:1", "takeover", now))
        letters.add("send", {"recipient": who.id, "text": "x"}, "boom", 5, who.channel, who.conversation_id)
    telegram.mark_blocked(w.targets["telegram"].id, "blocked the bot")
    w.twilio("SMstop0001", w.targets["sms"], "STOP")  # the opt-out record
    for who in (w.targets["sms"], w.targets["telegram"]):  # a message still queued (no worker ran)
        w.say(who, 9, "one more thing: +33 6 12 34 56 78")


# -- independent scans (not the registry under test) ---------------------------------
def _value(client: redis.Redis, key: bytes) -> Any:
    kind = client.type(key).decode()
    if kind == "string":
        return client.get(key)
    if kind == "hash":
        return client.hgetall(key)
    if kind == "list":
        return client.lrange(key, 0, -1)
    if kind == "set":
        return client.smembers(key)
    if kind == "zset":
        return client.zrange(key, 0, -1, withscores=True)
    if kind == "stream":
        return client.xrange(key, "-", "+")
    if kind == "none":  # expired since the scan listed it (rate-limit windows)
        return None
    raise AssertionError(f"unexpected Redis type {kind} of {key!r}")


def redis_hits(client: redis.Redis, needles: list[str]) -> dict[str, list[str]]:
    """Keys whose name or value holds a needle; for streams, the matching entry ids."""
    hits: dict[str, list[str]] = {}
    for raw in client.scan_iter(count=1000):
        key = raw.decode()
        value = _value(client, raw)
        if any(n in key for n in needles):
            hits[key] = ["(name)"]
        elif client.type(raw) == b"stream":
            ids = [i.decode() for i, f in value if any(n in repr(f) or n in json.dumps(_s(f)) for n in needles)]
            if ids:
                hits[key] = ids
        elif any(n in repr(value) or n in json.dumps(_s(value), ensure_ascii=False) for n in needles):
            hits[key] = ["(value)"]
    return hits


def _s(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple, set)):
        return [_s(v) for v in value]
    if isinstance(value, dict):
        return {_s(k): _s(v) for k, v in value.items()}
    return value


def sql_hits(engine: Engine, needles: list[str], subjects: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Primary keys, per table of the database (reflected: every table, known or not), of rows
    holding a needle in any column, or one of ``subjects`` (pseudonyms)."""
    meta = MetaData()
    meta.reflect(engine)
    hits: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            pk = [c.name for c in table.primary_key.columns]
            for row in conn.execute(select(table)).mappings():
                text = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)
                if any(n in text for n in [*needles, *subjects]):
                    hits.setdefault(table.name, []).append(tuple(str(row[c]) for c in pk))
    return hits
