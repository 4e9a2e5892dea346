"""A newcomer's first try: open /chat in a real browser and change a seat in French.

Set BRANDBOT_SCREENSHOTS=DIR to keep a screenshot of the finished conversation.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import LiveBot

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

REPLY_TIMEOUT = 30


def bot_texts(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#chat-log .msg-bot")]


def say(driver: Any, text: str) -> list[str]:
    """Type ``text``, press Enter, and return the bot's new replies once they stop coming."""
    import time

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    before = len(bot_texts(driver))
    box = driver.find_element(By.ID, "chat-input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    WebDriverWait(driver, REPLY_TIMEOUT).until(
        lambda d: len(bot_texts(d)) > before, message=f"no bot reply within {REPLY_TIMEOUT}s after {text!r}"
    )
    # a turn may answer with several messages: wait until none arrives for a moment.
    count, settled = len(bot_texts(driver)), time.monotonic()
    while time.monotonic() - settled < 0.8:
        time.sleep(0.1)
        now = len(bot_texts(driver))
        if now != count:
            count, settled = now, time.monotonic()
    return bot_texts(driver)[before:]


def test_a_newcomer_changes_a_seat_in_french_in_the_web_chat(live_bot: LiveBot, make_browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser = make_browser("fr-FR,fr")
    browser.get(f"{live_bot.url}/chat")
    assert browser.title == f"Discuter avec {live_bot.services.settings.brand.name}"
    assert browser.find_element(By.ID, "chat-send").text == "Envoyer"
    assert browser.find_element(By.CSS_SELECTOR, ".chat-title").text == live_bot.services.settings.brand.name

    transcript: list[tuple[str, list[str]]] = []

    def step(text: str) -> str:
        replies = say(browser, text)
        transcript.append((text, replies))
        return " ".join(replies)

    try:
        greeting = step("Bonjour")
        asked_booking = step("Je voudrais changer de place")
        asked_surname = step("X7K9QZ")
        asked_seat = step("Dupont")
        asked_confirm = step("15C")
        done = step("oui")
    except Exception:
        print("transcript so far:", *transcript, sep="\n  ")
        raise
    print("transcript:", *transcript, sep="\n  ")

    assert greeting, "the bot did not greet"
    assert re.search(r"r[ée]servation|booking", asked_booking, re.I), asked_booking
    assert re.search(r"nom de famille", asked_surname, re.I), asked_surname
    assert re.search(r"si[èe]ge|place", asked_seat, re.I), asked_seat
    assert "15C" in asked_confirm and "14C" in asked_confirm and "X7K9QZ" in asked_confirm, asked_confirm
    assert "15C" in done and re.search(r"confirm|chang|modifi|c'est fait|voil[aà]", done, re.I), done

    if os.environ.get("BRANDBOT_SCREENSHOTS"):
        folder = Path(os.environ["BRANDBOT_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(folder / "webchat-seat-change-fr.png"))

    # customer text is shown as text: a <script> message is inert.
    evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    step(evil)
    customer = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg-customer")]
    assert customer[-1] == evil
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "#chat-log script, #chat-log img") == []
    assert browser.find_element(By.ID, "chat-typing").is_displayed() is False

    # a reload replays the whole conversation from the visitor's outbox, in order.
    shown = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg")]
    browser.refresh()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#chat-log .msg")) >= len(shown))
    assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#chat-log .msg")] == shown
