"""An admin erases a customer from the console, in a real browser.

Real app (no workers: nothing needs a turn), real Redis, SQLite, Debian's Chromium driven by
Playwright. The admin opens a waiting conversation, reads its consent panel, opens "Erase
customer…", types ERASE, confirms, and lands on the inbox, where that conversation is gone
and the other one is still there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from bots.privacy import ConsentBook, Wording, customer
from bots.services import build_services
from bots.staff.accounts import Accounts
from bots.stores.models import conversations, messages

from .conftest import LiveBot, serve

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ADMIN = ("root@nimbus.example", "correct horse battery")
ERASED, KEPT = "vcustomer42", "vcustomer77"


def _seed(bot: LiveBot, app: Any, visitor: str, text: str) -> None:
    """A web chat conversation waiting for a person, with one customer message."""
    from bots.handoff.modes import Modes  # after bots.web: importing it first is an import cycle

    engine = bot.services.engine
    cid = f"webchat:{visitor}"
    at = datetime.now(UTC) - timedelta(minutes=3)
    with engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=cid,
                channel="webchat",
                customer_id=visitor,
                language="en",
                mode="bot",
                created_at=at,
                updated_at=at,
                last_message_at=at,
                last_preview=text,
            )
        )
        conn.execute(
            insert(messages).values(
                conversation_id=cid,
                direction="in",
                channel="webchat",
                message_id=f"{visitor}:m1",
                text=text,
                data={},
                created_at=at,
            )
        )
    store = app.extensions["console"].desk.store
    Modes(store, engine, clock=lambda: at).change(cid, "webchat", "waiting", actor="customer", reason="human_request")


@pytest.fixture
def privacy_console(make_settings, sql_engine, redis_client) -> Iterator[LiveBot]:
    """The app alone on the test Redis and SQLite, one admin, two waiting web chat customers."""
    from bots.web import create_app

    settings = make_settings({"console": {"secure_cookies": False}})
    services = build_services(settings)
    Accounts(services.engine).add(ADMIN[0], "admin", password=ADMIN[1], name="Root")
    app = create_app(settings, services)
    console = app.extensions["console"]
    console.stream_seconds = 5.0  # the page's event stream ends soon after the test
    try:
        with serve(app, services, "live-privacy-console") as bot:
            _seed(bot, app, ERASED, "Please delete everything about me <b>now</b>")
            _seed(bot, app, KEPT, "Where is my bag?")
            ConsentBook(services.engine).grant(
                customer("webchat", ERASED),
                "feedback_analytics",
                how="button",
                wording=Wording("feedback-1", "May we learn from this conversation?", "en"),
            )
            yield bot
    finally:
        console.hub.stop(timeout=2)
        services.close()


def test_admin_sees_consent_erases_the_customer_and_lands_on_the_inbox(privacy_console, new_page) -> None:
    bot = privacy_console
    page = new_page()
    page.goto(bot.url + "/console")
    page.get_by_label("Email").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.get_by_role("link", name=ERASED).first.click()
    page.wait_for_url(f"**/console/c/webchat:{ERASED}")
    panel = page.locator("#consent-panel")
    assert panel.locator("[data-purpose=feedback_analytics] .consent-status").inner_text() == "Granted"
    assert panel.locator("[data-purpose=marketing] .consent-status").inner_text() == "Never asked"
    page.get_by_text("Please delete everything about me <b>now</b>").first.wait_for()  # shown as text

    page.get_by_text("Erase customer…").click()
    erase = page.get_by_role("button", name="Erase customer", exact=True)
    confirm = page.get_by_label("to confirm")
    assert confirm.evaluate("input => input.required && input.validity.valueMissing")  # not sent empty
    confirm.fill("ERASE")
    erase.click()

    page.wait_for_url(lambda url: url.rstrip("/").endswith("/console"))
    assert "Customer erased" in page.locator("#flashes").inner_text()
    page.get_by_role("link", name=KEPT).wait_for()
    assert page.get_by_role("link", name=ERASED).count() == 0
    assert page.dialogs == []
