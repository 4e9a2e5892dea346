"""The agent console in a real browser: a WhatsApp customer asks for a person, an agent answers.

Real app, real Redis, SQLite, the demo NLU, embedded queue workers, the real twilio client
against the fake Twilio API, and Debian's Chromium driven by Playwright. Screenshots of the
inbox and of the conversation view are saved to docs/screenshots/ (the README shows one).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bots.services import build_services
from bots.settings import load_settings
from bots.stores.sql import upgrade
from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN, FakeTwilioAPI

from .conftest import REPO, LiveBot, serve

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

PUBLIC = "https://bot.example.com"
BRAND_NUMBER = "whatsapp:+3120000000"
CUSTOMER = "whatsapp:+31611111111"
AGENT = ("anna@nimbus.example", "correct horse battery")
SHOTS = REPO / "docs" / "screenshots"
_sids = itertools.count(1)


class Customer:
    """A WhatsApp customer: signed Twilio webhooks in, the fake Twilio API's sends out."""

    def __init__(self, bot: LiveBot, twilio: FakeTwilioAPI, number: str = CUSTOMER) -> None:
        self.bot, self.twilio, self.number = bot, twilio, number

    def says(self, text: str) -> None:
        form = {
            "MessageSid": f"SMcust{next(_sids):06d}",
            "AccountSid": DEFAULT_SID,
            "From": self.number,
            "To": BRAND_NUMBER,
            "Body": text,
            "NumMedia": "0",
            "ProfileName": "Ana",
        }
        sig = RequestValidator(DEFAULT_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)
        r = httpx.post(
            self.bot.url + "/webhooks/twilio",
            content=urlencode(form),
            headers={"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200, r.text

    def received(self) -> list[str]:
        return [m["Body"] for m in self.twilio.messages(to=self.number)]

    def wait_for(self, predicate: Callable[[list[str]], bool], what: str, timeout: float = 15) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if predicate(got):
                return got
            time.sleep(0.1)
        raise AssertionError(f"the customer never got {what}; got {self.received()}")


@pytest.fixture
def console_bot(redis_url: str, redis_client, tmp_path: Path, demo_nlu_dir: Path) -> Iterator[tuple[LiveBot, Customer]]:
    """The demo airline with WhatsApp on (fake Twilio API), staff open every hour, one agent account."""
    from bots.runtime import start_embedded
    from bots.staff.accounts import Accounts
    from bots.web import create_app

    twilio = FakeTwilioAPI().start()
    env = {
        "TWILIO_ENABLED": "true",
        "TWILIO_ACCOUNT_SID": DEFAULT_SID,
        "TWILIO_AUTH_TOKEN": DEFAULT_TOKEN,
        "TWILIO_WHATSAPP_FROM": BRAND_NUMBER,
        "TWILIO_PUBLIC_URL": PUBLIC,
        "TWILIO_API_BASE_URL": twilio.base_url,
    }
    settings = load_settings(
        REPO / "config.yaml",
        env=env,
        overrides={
            "stores.redis_url": redis_url,
            "stores.database_url": f"sqlite:///{tmp_path / 'brandbot.db'}",
            "nlu.model_dir": str(demo_nlu_dir),
            "dialogue.actions_options.database": str(tmp_path / "airline.db"),
            "server.embedded_workers": 2,
            "pipeline.send_backoff_initial": 0.01,
            "handoff.business_hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "console.secure_cookies": False,
        },
    )
    services = build_services(settings)
    upgrade(services.engine)
    Accounts(services.engine).add(AGENT[0], "agent", password=AGENT[1], name="Anna")
    app = create_app(settings, services)
    workers = start_embedded(services, settings.server.embedded_workers)
    try:
        with serve(app, services, "live-console") as bot:
            yield bot, Customer(bot, twilio)
    finally:
        workers.stop()
        services.close()
        twilio.stop()


def sign_in(page: Any, bot: LiveBot) -> None:
    page.goto(bot.url + "/console")
    assert "/console/login" in page.url, "the console asks for a login first"
    page.get_by_label("Email").fill(AGENT[0])
    page.get_by_label("Password").fill(AGENT[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_agent_takes_over_a_whatsapp_customer_answers_and_hands_back(console_bot, new_page) -> None:
    bot, customer = console_bot
    page = new_page()
    sign_in(page, bot)
    page.get_by_role("link", name="Waiting").first.click()
    time.sleep(0.5)  # the inbox's live stream is open (and the agent counts as online)

    customer.says("I want to talk to a person please")
    first = customer.wait_for(lambda got: len(got) >= 1, "the handoff message")
    assert "team" in first[0].lower(), first
    row = page.get_by_role("link", name="+31611111111").first
    row.wait_for()  # appeared live, without a reload
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "console-inbox.png"))

    row.click()
    page.get_by_role("button", name="Take over").click()
    page.get_by_label("Reply").fill("Hello, this is Anna from Nimbus Air. How can I help?")
    page.get_by_role("button", name="Send").click()
    customer.wait_for(lambda got: any("this is Anna" in t for t in got), "the agent's reply")

    before = len(customer.received())
    customer.says("My suitcase did not arrive in Nice")
    page.get_by_text("My suitcase did not arrive in Nice").wait_for()  # reached the agent live
    time.sleep(1.0)
    assert len(customer.received()) == before, "the bot must not talk over the agent"
    page.screenshot(path=str(SHOTS / "console-conversation.png"), full_page=True)

    page.get_by_role("button", name="Hand back to bot").click()
    customer.wait_for(lambda got: len(got) > before, "the hand-back message")
    customer.says("What is the baggage allowance?")
    customer.wait_for(lambda got: any("23 kg" in t for t in got), "the bot's answer after the hand-back")
    assert page.dialogs == []


def test_customer_html_is_shown_as_text_and_runs_nothing(console_bot, new_page) -> None:
    bot, customer = console_bot
    page = new_page()
    sign_in(page, bot)
    hostile = "<img src=x onerror=alert(1)>"
    customer.says("I want to talk to a person")
    customer.wait_for(lambda got: len(got) >= 1, "the handoff message")  # the conversation exists: it is listed
    customer.says(hostile)
    page.goto(bot.url + "/console?view=all")
    page.get_by_role("link", name="+31611111111").first.click()
    page.get_by_text(hostile).first.wait_for()
    assert page.locator("img[src='x']").count() == 0
    time.sleep(0.5)
    assert page.dialogs == [], "a script ran"
