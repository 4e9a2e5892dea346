"""Schema-based fuzzing of every HTTP endpoint (Schemathesis), on the real app, Redis and SQLite
(and again, for the paths that store input, on PostgreSQL).

Requests are generated from the OpenAPI descriptions in ``bots/web/openapi/`` (positive data,
negative data, and positive data with one hostile value put in: a lone surrogate, NUL, a number
no SQL integer holds...), sent to ``create_app`` through WSGI, and checked: never a 5xx, and the answer
conforms to the description (status code, content type, headers, JSON schema). The staff API is
fuzzed with a real token and without one, the console signed in and not; the webhooks once as
any client sends them (refused 403 by their signature check) and once signed correctly, so the
channel parsers behind the check are reached. Afterwards the queued inbound messages go through
real worker turns (demo airline NLU and actions, fake Telegram and Twilio APIs): nothing may stay
pending, no turn may be dead-lettered, and every accepted message must have had its turn.

Deterministic (Hypothesis ``derandomize``, no example database); the number of generated
requests per endpoint group is printed (``pytest -s``) and kept as the test's user properties.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bots.dialogue.runtime import build_runtime
from bots.pipeline import keys_for
from bots.pipeline.keys import GROUP
from bots.pipeline.worker import Worker
from bots.runtime import build_connectors_for
from bots.services import Services
from bots.staff.accounts import Accounts
from bots.web import create_app
from bots.web.chat import TOKEN_HEADER
from bots.web.openapi import Description, load
from connectors.base import Inbound
from connectors.telegram import SECRET_HEADER
from tests.desk.conftest import desk_config
from tests.fakes.graph_api import DEFAULT_PAGE_ID, DEFAULT_PHONE_NUMBER_ID, FakeGraphAPI
from tests.fakes.graph_api import DEFAULT_TOKEN as META_TOKEN
from tests.fakes.telegram_api import DEFAULT_TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import DEFAULT_SID, FakeTwilioAPI
from tests.fakes.twilio_api import DEFAULT_TOKEN as TWILIO_TOKEN
from tests.support.signing import meta_signed, twilio_signature

pytestmark = pytest.mark.integration

PUBLIC = "https://bot.example.com"
TG_SECRET = "fuzz-webhook-secret_0123"
META_SECRET = "fuzz-meta-app-secret"
PASSWORD = "correct horse battery staple"
WHATSAPP_FROM, SMS_FROM = "whatsapp:+3120000000", "+3120000001"
#: generated requests per operation and pass (positive, negative, positive with a hostile value).
EXAMPLES = 10
#: text no schema generator produces (Hypothesis leaves out surrogates) but any client can send,
#: put before a generated string: digits int() refuses or no SQL integer holds, a lone surrogate
#: (valid JSON, not valid Unicode), NUL and C1 controls, bidi and BOM marks, a decomposed accent,
#: an astral character, and a text far over every limit.
HOSTILE = (
    "\u00b2",  # a digit (str.isdigit) that int() refuses
    "9" * 30,  # a number no SQL integer holds
    "\ud800",
    "\udfff\ud800",
    "a\x00b",
    "\x85\x9f\x1b[31m",
    "\u202eevil",
    "\ufeff",
    "e\u0301",
    "\U0001f600",
    "x" * 5000,
)
#: numbers beyond what SQL integers hold, in place of a generated number.
HUGE = (10**30, -(2**63) - 1, 2**63)
#: the part of ``HOSTILE`` that form fields, query strings and paths can carry (UTF-8 encodable).
HOSTILE_ENCODABLE = tuple(h for h in HOSTILE if not any(0xD800 <= ord(c) <= 0xDFFF for c in h))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Fuzzed:
    """What one campaign sent and what it found."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    #: inbound message ids of the web chat posts answered 202 "accepted".
    accepted_chat: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)


@dataclass
class World:
    app: Flask
    services: Services
    worker: Worker
    handled: set[str]
    token: str
    session_cookie: str
    conversation_id: str


@pytest.fixture(scope="module")
def demo_nlu_module(demo_nlu_dir: Path) -> Any:
    import nlu

    return nlu.NLU.load(demo_nlu_dir, ["en", "fr"], "en")


@pytest.fixture
def world(make_settings, redis_client, sql_engine, redis_url, demo_nlu_module, tmp_path) -> Iterator[World]:
    """The app on Redis and SQLite, with every channel on (fake Telegram and Twilio APIs)."""
    yield from build_world(make_settings, redis_client, sql_engine, redis_url, demo_nlu_module, tmp_path)


@pytest.fixture
def world_pg(make_settings, redis_client, pg_engine, redis_url, demo_nlu_module, tmp_path) -> Iterator[World]:
    """The same on PostgreSQL (which refuses what SQLite takes: NUL bytes, integers over 64 bits)."""
    yield from build_world(make_settings, redis_client, pg_engine, redis_url, demo_nlu_module, tmp_path)


def build_world(make_settings, redis_client, sql_engine, redis_url, demo_nlu, tmp_path) -> Iterator[World]:
    with FakeTelegramAPI() as telegram, FakeTwilioAPI() as twilio, FakeGraphAPI() as graph:
        settings = make_settings(
            desk_config(
                dialogue={
                    "actions_module": "bots.airline.actions",
                    "actions_options": {"database": str(tmp_path / "airline.db")},
                },
                channels={
                    "telegram": {
                        "enabled": True,
                        "token": TG_TOKEN,
                        "webhook_secret": TG_SECRET,
                        "api_base_url": telegram.base_url,
                    },
                    "twilio": {
                        "enabled": True,
                        "account_sid": DEFAULT_SID,
                        "auth_token": TWILIO_TOKEN,
                        "whatsapp_from": WHATSAPP_FROM,
                        "sms_from": SMS_FROM,
                        "api_base_url": twilio.base_url,
                        "public_url": PUBLIC,
                    },
                    "meta": {
                        "enabled": True,
                        "app_secret": META_SECRET,
                        "verify_token": "fuzz-verify-token",
                        "access_token": META_TOKEN,
                        "api_base_url": graph.base_url,
                        "page_id": DEFAULT_PAGE_ID,
                        "whatsapp_phone_number_id": DEFAULT_PHONE_NUMBER_ID,
                    },
                },
                pipeline={"shards": 2, "turn_max_attempts": 2},
            )
        )
        services = Services(settings, redis_client, sql_engine, redis_url)
        app = create_app(settings, services)
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        chat = app.extensions["webchat"]
        chat.rate_per_minute = 100_000  # the campaign posts from one address; 429 is tested elsewhere
        chat.max_wait_seconds = 0.0
        console = app.extensions["console"]
        console.stream_seconds, console.poll_seconds = 0.0, 0.01
        runtime = build_runtime(services, nlu=demo_nlu)
        handled: set[str] = set()

        def handler(inbound: Inbound) -> Any:
            result = runtime.handle(inbound)
            handled.add(f"{inbound.channel}/{inbound.message_id}")
            return result

        worker = Worker(
            redis_client, sql_engine, settings, handler, build_connectors_for(services), sleep=lambda _s: None
        )
        accounts = Accounts(sql_engine)
        accounts.add("bob@nimbus.example", "admin", name="Bob", password=PASSWORD)
        token = accounts.issue_token("bob@nimbus.example")
        client = app.test_client()
        signed_in = client.post("/console/login", data={"email": "bob@nimbus.example", "password": PASSWORD})
        assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
        cookie = client.get_cookie("session")
        assert cookie is not None
        # one real conversation waiting for a person, so ids in the path also reach the desk's actions
        asked = client.post("/chat/api/messages", json={"text": "I want to talk to a human", "client_id": "seed-0001"})
        assert asked.status_code == 202, asked.get_data(as_text=True)
        drain(worker)
        [conversation_id] = [
            c["id"] for c in client.get("/api/v1/conversations", headers=bearer(token)).json["conversations"]
        ]
        yield World(app, services, worker, handled, token, cookie.value, conversation_id)
        for connector in (services.connectors or {}).values():
            getattr(connector, "close", lambda: None)()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def drain(worker: Worker, timeout: float = 60.0) -> None:
    """Run worker rounds until the inbound streams have nothing new and nothing pending."""
    deadline = time.monotonic() + timeout
    idle_rounds = 0
    while idle_rounds < 3:
        assert time.monotonic() < deadline, "the worker did not drain the inbound queue in time (a stalled worker)"
        idle_rounds = 0 if worker.run_once() else idle_rounds + 1


def queued_ids(services: Services) -> set[str]:
    """``channel/message_id`` of every inbound message in the streams."""
    found = set()
    for stream in keys_for(services.settings).all_streams():
        for _id, fields in services.redis.xrange(stream):
            inbound = Inbound.from_dict(json.loads(fields[b"m"]))
            found.add(f"{inbound.channel}/{inbound.message_id}")
    return found


def pending(services: Services) -> int:
    total = 0
    for stream in keys_for(services.settings).all_streams():
        if services.redis.exists(stream):
            total += int(services.redis.xpending(stream, GROUP)["pending"])
    return total


# -- the campaign ---------------------------------------------------------------------------------


def fuzz(
    world: World,
    fuzzed: Fuzzed,
    group: str,
    description: Description,
    *,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    path_parameters: dict[str, Any] | None = None,
    skip: frozenset[str] = frozenset(),
    prepare: Callable[[Case], None] = lambda _case: None,
    examples: int = EXAMPLES,
) -> None:
    """Send ``examples`` generated requests of each mode to each operation of ``description``."""
    schema = schemathesis.openapi.from_dict(load(description))
    schema.app = world.app
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") in skip:
            continue
        params = {k: v for k, v in (path_parameters or {}).items() if "{" + k + "}" in operation.path}
        if path_parameters and not params:
            continue  # a pass for given path parameters skips the operations that have none
        for mode, hostile in (
            (GenerationMode.POSITIVE, False),
            (GenerationMode.NEGATIVE, False),
            (GenerationMode.POSITIVE, True),
        ):
            strategy = operation.as_strategy(mode, headers=headers, path_parameters=params or None)
            send = _sender(world, fuzzed, group, cookies, prepare, hostile, frozenset(params))
            try:
                _generated(strategy, examples)(send)()
            except hypothesis.errors.Unsatisfiable:
                continue  # nothing to make invalid (no parameters, no body): the positive mode covers it
            except Exception as exc:  # noqa: BLE001 - every finding is collected, then reported at once
                kind = "hostile text" if hostile else mode.value
                fuzzed.failures.append(f"[{group}] {operation.label} ({kind}):\n{exc}")


def _generated(strategy: st.SearchStrategy[Case], examples: int) -> Callable[..., Any]:
    """The Hypothesis decorators of one pass: ``examples`` cases, deterministic, no shrinking."""

    def decorate(send: Callable[[Case, st.DataObject], None]) -> Callable[[], None]:
        settings = hypothesis.settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        return settings(hypothesis.given(case=strategy, data=st.data())(send))

    return decorate


def _sender(
    world: World,
    fuzzed: Fuzzed,
    group: str,
    cookies: dict[str, str] | None,
    prepare: Callable[[Case], None],
    hostile: bool,
    keep: frozenset[str],
) -> Callable[[Case, st.DataObject], None]:
    """Send one generated case and check the answer (no 5xx, conforms to the description)."""

    def send(case: Case, data: st.DataObject) -> None:
        if hostile:
            spoil(case, data, keep)
        prepare(case)
        response = case.call(cookies=cookies)
        fuzzed.requests[group] += 1
        fuzzed.statuses[f"{group} {case.method} {case.path} {response.status_code}"] += 1
        case.validate_response(response, checks=CHECKS)
        if case.path == "/chat/api/messages" and case.method == "POST" and response.status_code == 202:
            body = response.json()
            if body["status"] == "accepted":
                visitor = world.app.extensions["webchat"].signer.loads(body["token"])
                fuzzed.accepted_chat.add(f"webchat/{visitor}:{body['client_id']}")

    return send


def _leaves(container: Any, kind: type | tuple[type, ...]) -> Iterator[tuple[Any, Any]]:
    """(container, key) of every ``kind`` value inside ``container`` (dicts and lists, any depth)."""
    items = container.items() if isinstance(container, dict) else enumerate(container)
    for key, value in items:
        if isinstance(value, kind) and not isinstance(value, bool):
            yield container, key
        elif isinstance(value, dict | list):
            yield from _leaves(value, kind)


def spoil(case: Case, data: st.DataObject, keep: frozenset[str]) -> None:
    """Put one hostile value into the generated request: a hostile text before one of its strings
    (anywhere in a JSON body), or a number beyond the database's integers instead of one of its
    numbers."""
    places: list[tuple[Any, Any, tuple[Any, ...]]] = []
    containers = [c for c in (case.query, case.path_parameters) if c]
    if isinstance(case.body, dict | list):
        texts = HOSTILE if (case.media_type or "").endswith("json") else HOSTILE_ENCODABLE
        places += [(c, k, texts) for c, k in _leaves(case.body, str)]
        places += [(c, k, HUGE) for c, k in _leaves(case.body, int)]
    for container in containers:
        places += [(c, k, HOSTILE_ENCODABLE) for c, k in _leaves(container, str) if k not in keep]
        places += [(c, k, HUGE) for c, k in _leaves(container, int) if k not in keep]
    if not places:
        return
    container, key, choices = data.draw(st.sampled_from(places), label="where")
    hostile = data.draw(st.sampled_from(choices), label="hostile")
    container[key] = hostile if isinstance(hostile, int) else hostile + container[key]


def signed_delivery(ids: Iterator[int]) -> Callable[[Case], None]:
    """Make each generated webhook a delivery as the channel signs it: a fresh update id or
    MessageSid (as the real channel gives every delivery; otherwise most would be deduped), and
    for Twilio string form values, sent to one of our numbers, with the right ``X-Twilio-Signature``;
    for Meta the JSON body signed as sent (``X-Hub-Signature-256``)."""

    def prepare(case: Case) -> None:
        fresh = next(ids)
        body = case.body
        if case.path == "/webhooks/meta":
            if case.method == "POST" and isinstance(body, dict | list):
                case.body, signed = meta_signed(META_SECRET, json.dumps(body).encode("utf-8"))
                case.headers.update(signed)
            return
        if case.path == "/webhooks/telegram":
            if isinstance(body, dict) and isinstance(body.get("update_id"), int):
                body["update_id"] = fresh
            return
        form = body if isinstance(body, dict) else {}
        flat: dict[str, Any] = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in form.items()}
        if case.path == "/webhooks/twilio" and "MessageSid" in flat:
            flat["MessageSid"] = f"SM{fresh:032x}"
            if "To" in flat:  # Twilio only posts what was sent to one of our numbers
                flat["To"] = WHATSAPP_FROM if str(flat.get("From", "")).startswith("whatsapp:") else SMS_FROM
        case.body = flat
        case.headers["X-Twilio-Signature"] = twilio_signature(TWILIO_TOKEN, PUBLIC + case.path, flat)

    return prepare


def report(fuzzed: Fuzzed, record_property: Callable[[str, object], None]) -> None:
    for group, count in sorted(fuzzed.requests.items()):
        print(f"fuzz: {group}: {count} generated requests")
        record_property(f"requests {group}", count)
    for answer, count in sorted(fuzzed.statuses.items()):
        print(f"fuzz:   {answer}: {count}")
    print(
        f"fuzz: total {sum(fuzzed.requests.values())} generated requests in {time.monotonic() - fuzzed.started:.1f} s"
    )


def assert_no_lost_message(world: World, fuzzed: Fuzzed) -> None:
    queued = queued_ids(world.services)
    assert fuzzed.accepted_chat <= queued, "an accepted chat message is not in the queue"
    drain(world.worker)
    assert pending(world.services) == 0, "messages left pending"
    dead = [d for d in world.worker.dead_letters.list(1000) if d.kind == "turn"]
    assert not dead, [(d.error, d.payload) for d in dead]
    lost = queued - world.handled
    assert not lost, f"{len(lost)} queued messages never had a turn: {sorted(lost)[:5]}"
    sends = [d.error for d in world.worker.dead_letters.list(1000) if d.kind == "send"]
    print(f"fuzz: {len(queued)} queued messages, every one had its turn; {len(sends)} replies refused by a channel")
    # the workers are not stalled: a customer writing after the campaign is answered in one round
    client = world.app.test_client()
    posted = client.post("/chat/api/messages", json={"text": "Hello", "client_id": "after-campaign-1"})
    assert posted.status_code == 202, posted.get_data(as_text=True)
    started = time.monotonic()
    assert world.worker.run_once() == 1
    took = time.monotonic() - started
    replies = client.get("/chat/api/messages?after=0", headers={TOKEN_HEADER: posted.json["token"]}).json["messages"]
    assert [m["role"] for m in replies][:1] == ["customer"] and any(m["role"] == "bot" for m in replies), replies
    print(f"fuzz: a customer writing after the campaign was answered in {took * 1000:.0f} ms")


def test_http_fuzz_staff_api_and_operations(world: World, record_property) -> None:
    fuzzed = Fuzzed()
    fuzz(world, fuzzed, "api (token)", Description.API_V1, headers=bearer(world.token))
    fuzz(
        world,
        fuzzed,
        "api (token, real conversation)",
        Description.API_V1,
        headers=bearer(world.token),
        path_parameters={"conversation_id": world.conversation_id},
    )
    fuzz(world, fuzzed, "api (no token)", Description.API_V1)
    fuzz(world, fuzzed, "operations", Description.OPERATIONS)
    report(fuzzed, record_property)
    assert not fuzzed.failures, "\n\n".join(fuzzed.failures)
    assert_no_lost_message(world, fuzzed)


def test_http_fuzz_web_chat(world: World, record_property) -> None:
    fuzzed = Fuzzed()
    fuzz(world, fuzzed, "web chat", Description.WEB_CHAT, examples=2 * EXAMPLES)
    report(fuzzed, record_property)
    assert not fuzzed.failures, "\n\n".join(fuzzed.failures)
    assert fuzzed.accepted_chat, "no generated chat message was accepted: the campaign did not reach the queue"
    assert_no_lost_message(world, fuzzed)


def test_http_fuzz_webhooks_unsigned_and_signed(world: World, record_property) -> None:
    fuzzed = Fuzzed()
    fuzz(world, fuzzed, "webhooks (unsigned)", Description.WEBHOOKS)
    fuzz(
        world,
        fuzzed,
        "webhooks (signed)",
        Description.WEBHOOKS,
        headers={SECRET_HEADER: TG_SECRET},
        prepare=signed_delivery(itertools.count(1)),
        examples=2 * EXAMPLES,
    )
    report(fuzzed, record_property)
    assert not fuzzed.failures, "\n\n".join(fuzzed.failures)
    channels = {message_id.split("/")[0] for message_id in queued_ids(world.services)}
    assert {"telegram", "whatsapp", "sms"} <= channels, f"signed webhooks reached the queue only for {channels}"
    assert_no_lost_message(world, fuzzed)


def test_http_fuzz_console(world: World, record_property) -> None:
    fuzzed = Fuzzed()
    fuzz(
        world,
        fuzzed,
        "console (signed in)",
        Description.CONSOLE,
        cookies={"session": world.session_cookie},
        skip=frozenset({"logout", "login"}),
        examples=EXAMPLES // 2,
    )
    fuzz(
        world,
        fuzzed,
        "console (signed in, real conversation)",
        Description.CONSOLE,
        cookies={"session": world.session_cookie},
        path_parameters={"conversation_id": world.conversation_id},
        skip=frozenset({"logout", "login"}),
    )
    fuzz(
        world,
        fuzzed,
        "console (signed in, script asking JSON, real conversation)",
        Description.CONSOLE,
        headers={"Accept": "application/json"},
        cookies={"session": world.session_cookie},
        path_parameters={"conversation_id": world.conversation_id},
        examples=EXAMPLES // 2,
    )
    fuzz(world, fuzzed, "console (anonymous)", Description.CONSOLE, examples=EXAMPLES // 3)
    report(fuzzed, record_property)
    assert not fuzzed.failures, "\n\n".join(fuzzed.failures)
    assert_no_lost_message(world, fuzzed)


def test_http_fuzz_on_postgresql(world_pg: World, record_property) -> None:
    """The paths that write customer and staff input, again on PostgreSQL."""
    world, fuzzed = world_pg, Fuzzed()
    examples = EXAMPLES // 2
    fuzz(world, fuzzed, "pg api (token)", Description.API_V1, headers=bearer(world.token), examples=examples)
    fuzz(
        world,
        fuzzed,
        "pg api (token, real conversation)",
        Description.API_V1,
        headers=bearer(world.token),
        path_parameters={"conversation_id": world.conversation_id},
        examples=examples,
    )
    fuzz(world, fuzzed, "pg web chat", Description.WEB_CHAT, examples=examples)
    fuzz(
        world,
        fuzzed,
        "pg webhooks (signed)",
        Description.WEBHOOKS,
        headers={SECRET_HEADER: TG_SECRET},
        prepare=signed_delivery(itertools.count(1)),
        examples=examples,
    )
    fuzz(
        world,
        fuzzed,
        "pg console (signed in, real conversation)",
        Description.CONSOLE,
        cookies={"session": world.session_cookie},
        path_parameters={"conversation_id": world.conversation_id},
        examples=examples,
    )
    report(fuzzed, record_property)
    assert not fuzzed.failures, "\n\n".join(fuzzed.failures)
    assert_no_lost_message(world, fuzzed)
