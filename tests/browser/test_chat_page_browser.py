"""The chat page in a real browser, with the test playing the bot through the connector.

Independent of NLU and dialogue: it checks what the page itself must do (send,
show replies and buttons, press a button, typing indicator, escaping, reload).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bots.live_events import live_channel
from bots.pipeline.keys import Keys
from connectors.base import Inbound, Outbound, QuickReply
from connectors.webchat import WebchatConnector

from .conftest import LiveBot

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def wait_for(predicate, timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class QueueReader:
    """Reads what the page enqueued, as a worker would (without acking anything)."""

    def __init__(self, bot: LiveBot) -> None:
        s = bot.services.settings
        self.redis = bot.services.redis
        self.keys = Keys(s.stores.key_prefix, s.pipeline.shards)
        self.seen = 0

    def all(self) -> list[Inbound]:
        found = []
        for shard in range(self.keys.shards):
            for _id, fields in self.redis.xrange(self.keys.stream(shard)):
                found.append(Inbound.from_dict(json.loads(fields[b"m"])))
        return sorted(found, key=lambda m: m.timestamp)

    def next(self) -> Inbound:
        msgs = wait_for(lambda: (lambda a: a if len(a) > self.seen else None)(self.all()), what="an enqueued message")
        self.seen += 1
        return msgs[self.seen - 1]


def test_the_page_sends_shows_replies_and_buttons_and_keeps_text_inert(live_chat: LiveBot, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys as K

    prefix = live_chat.services.settings.stores.key_prefix
    connector = WebchatConnector(live_chat.services.redis, prefix, live_channel=live_channel(prefix))
    queue = QueueReader(live_chat)
    browser.get(f"{live_chat.url}/chat")
    assert browser.title == "Chat with Test Air"

    def css(sel: str) -> list[Any]:
        return browser.find_elements(By.CSS_SELECTOR, sel)

    box = browser.find_element(By.ID, "chat-input")
    box.send_keys("Bonjour", K.ENTER)
    first = queue.next()
    assert (first.channel, first.text, first.payload) == ("webchat", "Bonjour", None)
    assert [e.text for e in css("#chat-log .msg-customer")] == ["Bonjour"]
    assert browser.find_element(By.ID, "chat-typing").is_displayed()  # waiting for the bot

    connector.send(
        Outbound(
            "webchat",
            first.sender_id,
            "Bonjour ! Voulez-vous changer de siège ?",
            quick_replies=(QuickReply("Oui", "/affirm"), QuickReply("Non", "/deny")),
        )
    )
    wait_for(lambda: css("#chat-log .msg-bot"), what="the bot reply")
    assert css("#chat-log .msg-bot")[0].text == "Bonjour ! Voulez-vous changer de siège ?"
    assert not browser.find_element(By.ID, "chat-typing").is_displayed()
    buttons = css("#chat-log .quick-reply")
    assert [b.text for b in buttons] == ["Oui", "Non"]

    buttons[0].click()
    pressed = queue.next()
    assert (pressed.text, pressed.payload, pressed.sender_id) == ("Oui", "/affirm", first.sender_id)
    assert all(not b.is_enabled() for b in css("#chat-log .quick-reply"))

    evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    box.send_keys(evil, K.ENTER)
    assert queue.next().text == evil
    connector.send(Outbound("webchat", first.sender_id, "<b>bold?</b> <script>window.__pwned = 3</script>"))
    wait_for(lambda: len(css("#chat-log .msg-bot")) == 2, what="the second bot reply")
    assert css("#chat-log .msg-customer")[-1].text == evil
    assert css("#chat-log .msg-bot")[-1].text == "<b>bold?</b> <script>window.__pwned = 3</script>"
    assert browser.execute_script("return window.__pwned === undefined")
    assert css("#chat-log script, #chat-log img, #chat-log b") == []

    # a reload replays the conversation, in order, each line once.
    shown = [e.text for e in css("#chat-log .msg")]
    assert shown == [
        "Bonjour",
        "Bonjour ! Voulez-vous changer de siège ?",
        "Oui",
        evil,
        "<b>bold?</b> <script>window.__pwned = 3</script>",
    ]
    browser.refresh()
    wait_for(lambda: len(css("#chat-log .msg")) >= len(shown), what="the replayed transcript")
    time.sleep(0.3)
    assert [e.text for e in css("#chat-log .msg")] == shown
