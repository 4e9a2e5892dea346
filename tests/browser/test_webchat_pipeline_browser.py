"""The web chat as a real channel: browser -> /chat API -> Ingest -> embedded workers -> connector -> browser.

The dialogue here is a small deterministic handler (``Inbound -> TurnResult``)
so this test shows the channel path on its own; the airline bot's French seat
change through the same path is in test_webchat_browser.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from bots.live_events import live_channel
from bots.pipeline.turn import TurnResult
from bots.pipeline.worker import start_embedded_workers
from bots.services import build_services
from connectors.base import Inbound, Outbound, QuickReply
from connectors.webchat import WebchatConnector

from .conftest import LiveBot, serve

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def parrot(inbound: Inbound) -> TurnResult:
    """Answers every message once, with a button, keyed so a redone turn never shows twice."""
    said = inbound.payload or inbound.text
    return TurnResult(
        [
            Outbound(
                channel=inbound.channel,
                recipient=inbound.sender_id,
                text=f"Vous avez écrit : {said}",
                quick_replies=(QuickReply("Encore", "/again"),),
                idempotency_key=f"{inbound.message_id}:0",
                conversation_id=inbound.conversation_id,
            )
        ]
    )


@pytest.fixture
def live_parrot(make_settings, sql_engine, redis_client) -> Iterator[LiveBot]:
    from bots.web import create_app

    settings = make_settings()
    services = build_services(settings)
    app = create_app(settings, services)
    connector = WebchatConnector(
        services.redis, settings.stores.key_prefix, live_channel=live_channel(settings.stores.key_prefix)
    )
    workers = start_embedded_workers(services, parrot, {"webchat": connector}, 2)
    try:
        with serve(app, services, "live-parrot") as bot:
            yield bot
    finally:
        workers.stop(timeout=10)
        services.close()


def test_messages_go_through_the_pipeline_and_replies_come_back(live_parrot: LiveBot, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    def bot() -> list[str]:
        return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg-bot")]

    browser.get(f"{live_parrot.url}/chat")
    box = browser.find_element(By.ID, "chat-input")
    started = time.monotonic()
    box.send_keys("Bonjour", Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: bot() == ["Vous avez écrit : Bonjour"])
    first_reply = time.monotonic() - started
    browser.find_element(By.CSS_SELECTOR, "#chat-log .quick-reply").click()
    WebDriverWait(browser, 15).until(lambda d: len(bot()) == 2)
    assert bot()[1] == "Vous avez écrit : /again"
    box.send_keys("<script>window.__pwned = 1</script>", Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: len(bot()) == 3)
    assert bot()[2] == "Vous avez écrit : <script>window.__pwned = 1</script>"
    assert browser.execute_script("return window.__pwned === undefined")
    time.sleep(0.5)
    assert len(bot()) == 3, "a reply was shown twice"
    print(f"first reply shown {first_reply * 1000:.0f} ms after Enter")
    assert first_reply < 5
