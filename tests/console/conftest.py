"""Console fixtures: the real app on real Redis and SQLite, staff accounts, a seeded conversation.

``create_app`` mounts the console with sign-in and CSRF, a Desk on the process's connectors
(here the web chat: its outbox in Redis is the "channel"), the LiveHub and Presence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from bots.services import build_services
from bots.stores.models import conversations, messages
from bots.web import create_app
from bots.web.console import ConsoleState

REPO = Path(__file__).resolve().parents[2]
CANNED = [
    {
        "shortcut": "refund",
        "title": "Refund policy",
        "text": {"en": "Refunds reach your card within 7 days.", "fr": "Le remboursement arrive sous 7 jours."},
        "intents": ["refund"],
    },
    {"shortcut": "hello", "title": "Greeting", "text": {"en": "Hello, I'm here to help."}},
]
XSS = "<img src=x onerror=alert(1)>"
PASSWORD = "correct horse battery"


@pytest.fixture
def app(make_settings, sql_engine, redis_client) -> Iterator[Flask]:
    settings = make_settings(
        {
            "console": {"canned_replies": CANNED},
            "dialogue": {"domain_file": str(REPO / "bots" / "airline" / "domain.yml")},
        }
    )
    services = build_services(settings)
    app = create_app(settings, services)
    app.config["TESTING"] = True
    yield app
    hub = app.extensions["console"].hub
    hub.stop(timeout=2)
    services.close()


@pytest.fixture
def console(app: Flask) -> ConsoleState:
    return app.extensions["console"]


@dataclass
class Staff:
    agent: Any
    agent2: Any
    analyst: Any
    admin: Any


def make_staff(console: ConsoleState) -> Staff:
    """The four accounts every console test signs in with."""
    accounts = console.accounts
    return Staff(
        agent=accounts.add("agent@example.com", "agent", password=PASSWORD, name="Ada Agent"),
        agent2=accounts.add("bob@example.com", "agent", password=PASSWORD, name="Bob"),
        analyst=accounts.add("analyst@example.com", "analyst", password=PASSWORD, name="Ann Analyst"),
        admin=accounts.add("admin@example.com", "admin", password=PASSWORD, name="Root"),
    )


@pytest.fixture
def staff(console: ConsoleState) -> Staff:
    return make_staff(console)


def sign_in(client: FlaskClient, member: Any) -> FlaskClient:
    """Sign in through the real login form."""
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={
            "email": member.email,
            "password": PASSWORD,
            "csrf_token": csrf_of(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


@pytest.fixture
def agent_client(app: Flask, staff: Staff) -> FlaskClient:
    return sign_in(app.test_client(), staff.agent)


CID = "webchat:vcustomer42"


@pytest.fixture
def waiting_conversation(app: Flask, console: ConsoleState) -> str:
    """A web chat conversation whose customer asked for a person (with an HTML-looking message)."""
    return seed_waiting_conversation(app, console)


def seed_waiting_conversation(app: Flask, console: ConsoleState) -> str:
    """Insert :data:`CID` (two messages, the customer's looks like HTML) and put it in ``waiting``."""
    from bots.handoff.modes import Modes

    engine = app.extensions["brandbot"].engine
    now = datetime.now(UTC) - timedelta(minutes=7)
    with engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=CID,
                channel="webchat",
                customer_id="vcustomer42",
                language="en",
                mode="bot",
                created_at=now,
                updated_at=now,
                last_message_at=now,
                last_preview=XSS,
            )
        )
        conn.execute(
            insert(messages).values(
                conversation_id=CID,
                direction="in",
                channel="webchat",
                message_id="m1",
                text=XSS,
                data={
                    "nlu": {"intent": "refund", "confidence": 0.87, "sentiment": {"score": -0.62, "label": "negative"}}
                },
                created_at=now,
            )
        )
        conn.execute(
            insert(messages).values(
                conversation_id=CID,
                direction="out",
                channel="webchat",
                message_id="m1:0",
                text="Let me find a person for you.",
                data={},
                created_at=now + timedelta(seconds=1),
            )
        )
    desk = console.desk
    Modes(desk.store, engine, clock=lambda: now).change(
        CID, "webchat", "waiting", actor="customer", reason="human_request"
    )
    return CID
