"""A customer message on each channel gets the airline bot's answer at the channel's API.

The whole path as `make run` runs it: the app's webhook (real signature), the inbound
queue, embedded workers, the trained NLU, the dialogue, and the real
python-telegram-bot and twilio clients delivering to the fake APIs on 127.0.0.1.
Telegram shows quick replies as an inline keyboard; WhatsApp and SMS as numbered text.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.telegram_api import DEFAULT_TOKEN as TG_TOKEN
from tests.support.live import deployment

from .conftest import DEFAULT_SID, SMS_FROM, TG_SECRET, TWILIO_TOKEN, WHATSAPP_FROM, load_fixture
from .test_webhooks_http import PUBLIC, post_telegram, post_twilio

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def wait_for(probe: Callable[[], list], count: int = 1, timeout: float = 20.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if len(got) >= count or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


@pytest.fixture
def live(redis_url, redis_client, demo_nlu_dir: Path, tmp_path: Path, fake_telegram, fake_twilio):
    """The shipped config.yaml with the channels switched on by environment, as an operator would."""
    env = {
        "TELEGRAM_ENABLED": "true",
        "TELEGRAM_BOT_TOKEN": TG_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "TWILIO_ENABLED": "true",
        "TWILIO_ACCOUNT_SID": DEFAULT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "TWILIO_SMS_FROM": SMS_FROM,
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
        "TWILIO_PUBLIC_URL": PUBLIC,
    }
    with deployment(env, redis_url, demo_nlu_dir, tmp_path) as (client, _services):
        yield client


def test_each_channel_gets_the_answer_in_its_own_format(live, fake_telegram, fake_twilio) -> None:
    update = copy.deepcopy(load_fixture("telegram_message_text"))
    update["message"]["text"] = "Hello"
    chat_id = update["message"]["chat"]["id"]
    for _ in range(3):  # Telegram retries a delivery: answered once
        assert post_telegram(live, update).status_code == 200

    whatsapp = dict(load_fixture("twilio_whatsapp_text"), Body="Hi, what can you do?")
    sms = dict(load_fixture("twilio_sms_text"), Body="Bonjour")
    for form in (whatsapp, sms, sms):
        assert post_twilio(live, form).status_code == 200

    sent = wait_for(lambda: fake_telegram.calls("sendMessage"))
    assert len(sent) >= 1
    greeting = sent[0]
    assert "Nimbus Air" in greeting.params["text"]
    keyboard = greeting.json_param("reply_markup")["inline_keyboard"]
    assert keyboard and all(len(b["callback_data"].encode()) <= 64 for row in keyboard for b in row)

    wa = wait_for(lambda: fake_twilio.messages(to=whatsapp["From"]))
    text = wait_for(lambda: fake_twilio.messages(to=sms["From"]))
    assert len(wa) == 1 and len(text) == 1
    assert wa[0]["From"] == WHATSAPP_FROM and "\n1. " in wa[0]["Body"]
    assert text[0]["From"] == SMS_FROM and "Bonjour" in text[0]["Body"] and "\n1. " in text[0]["Body"]

    time.sleep(0.5)  # nothing more arrives: each retried delivery was answered once
    assert len(fake_telegram.sent_texts(chat_id)) == 1
    assert len(fake_twilio.messages(to=sms["From"])) == 1


def test_a_pressed_telegram_button_continues_the_conversation(live, fake_telegram) -> None:
    update = copy.deepcopy(load_fixture("telegram_message_text"))
    update["message"]["text"] = "I want to change my seat on booking X7K9QZ"
    assert post_telegram(live, update).status_code == 200
    [ask_surname] = wait_for(lambda: fake_telegram.calls("sendMessage"))
    assert "surname" in ask_surname.params["text"].lower()

    surname = copy.deepcopy(update)
    surname["update_id"] += 1
    surname["message"]["message_id"] += 1
    surname["message"]["text"] = "Dupont"
    assert post_telegram(live, surname).status_code == 200
    ask = wait_for(lambda: fake_telegram.calls("sendMessage"), count=2)[1]
    assert "seat" in ask.params["text"].lower()

    seat = copy.deepcopy(surname)
    seat["update_id"] += 1
    seat["message"]["message_id"] += 1
    seat["message"]["text"] = "15C"
    assert post_telegram(live, seat).status_code == 200
    confirm = wait_for(lambda: fake_telegram.calls("sendMessage"), count=3)[2]
    assert "15C" in confirm.params["text"]
    [[yes, *_]] = confirm.json_param("reply_markup")["inline_keyboard"][:1] or [[None]]
    press = copy.deepcopy(load_fixture("telegram_callback_query"))
    press["update_id"] = seat["update_id"] + 1
    press["callback_query"]["data"] = yes["callback_data"]
    press["callback_query"]["message"]["chat"]["id"] = update["message"]["chat"]["id"]
    press["callback_query"]["from"]["id"] = update["message"]["from"]["id"]
    assert post_telegram(live, press).status_code == 200
    done = wait_for(lambda: fake_telegram.calls("sendMessage"), count=4)
    assert len(done) == 4, [c.params.get("text") for c in done]
    assert "15C" in done[3].params["text"]
    assert wait_for(lambda: fake_telegram.calls("answerCallbackQuery"))
    assert json.dumps(done[3].params)  # plain data
