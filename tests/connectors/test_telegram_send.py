"""Telegram sending with the real python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import threading

import pytest

from connectors._ratelimit import Rate
from connectors.base import Attachment, Outbound, QuickReply
from connectors.errors import PermanentSendError, TransientSendError
from connectors.telegram import TelegramConnector
from tests.fakes.telegram_api import DEFAULT_TOKEN

from .conftest import TG_SECRET, load_fixture, telegram_request

pytestmark = pytest.mark.integration  # real Redis and the fake channel APIs


def test_short_text_is_one_message(telegram, fake_telegram):
    delivery = telegram.send(Outbound("telegram", "5123456789", "Your flight KL1234 is on time."))
    assert delivery == "1000"
    [call] = fake_telegram.calls("sendMessage")
    assert call.params == {"chat_id": "5123456789", "text": "Your flight KL1234 is on time."}


def test_long_text_is_split_at_4096_on_word_boundaries(telegram, fake_telegram):
    words = [f"word{i}" for i in range(1500)]
    text = " ".join(words)
    delivery = telegram.send(Outbound("telegram", "42", text))
    texts = fake_telegram.sent_texts(42)
    assert len(texts) == len(delivery.split(",")) == 4  # 12,390 characters
    assert all(len(t) <= 4096 for t in texts)
    assert " ".join(texts).split(" ") == words  # no word cut in two, nothing lost


def test_quick_replies_become_an_inline_keyboard_on_the_last_message(telegram, fake_telegram):
    telegram.send(
        Outbound(
            "telegram",
            "telegram:42",
            "Change your seat?",
            quick_replies=(QuickReply("Yes, please", "seat_change:yes"), QuickReply("No", "seat_change:no")),
        )
    )
    [call] = fake_telegram.calls("sendMessage")
    assert call.params["chat_id"] == "42"
    assert call.json_param("reply_markup") == {
        "inline_keyboard": [
            [{"text": "Yes, please", "callback_data": "seat_change:yes"}],
            [{"text": "No", "callback_data": "seat_change:no"}],
        ]
    }


def test_long_callback_payload_is_hashed_within_64_bytes_and_resolved_on_press(telegram, fake_telegram):
    payload = 'intent:change_seat{"flight": "KL1234", "seat": "12A", "note": "près du hublot"}'
    assert len(payload.encode()) > 64
    telegram.send(Outbound("telegram", "5123456789", "Confirm?", quick_replies=(QuickReply("Confirm", payload),)))
    data = fake_telegram.calls("sendMessage")[0].json_param("reply_markup")["inline_keyboard"][0][0]["callback_data"]
    assert len(data.encode()) <= 64 and data.startswith("#h:")

    update = load_fixture("telegram_callback_query")
    update["callback_query"]["data"] = data
    update["callback_query"]["message"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] = data
    [raw] = telegram.parse(telegram_request(update))
    assert raw.payload == data, "the webhook only parses"
    inb = telegram.resolve(raw)  # in the worker, before the turn
    assert inb.payload == payload
    assert inb.text == "Yes, please"


def test_a_pressed_button_is_answered_before_the_next_reply(telegram, fake_telegram):
    [pressed] = telegram.parse(telegram_request(load_fixture("telegram_callback_query")))
    telegram.resolve(pressed)  # in the worker, before the turn
    telegram.send(Outbound("telegram", "5123456789", "Done, seat 12A is yours."))
    assert [r.endpoint for r in fake_telegram.requests] == ["answerCallbackQuery", "sendMessage"]
    assert fake_telegram.calls("answerCallbackQuery")[0].params["callback_query_id"] == "4382bfdwdsb323b2d9"
    telegram.send(Outbound("telegram", "5123456789", "Anything else?"))
    assert len(fake_telegram.calls("answerCallbackQuery")) == 1  # answered once


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_flood_control_429_raises_transient_with_retry_after(telegram, fake_telegram):
    fake_telegram.fail_retry_after("sendMessage", retry_after=7)
    with pytest.raises(TransientSendError, match="retry after 7") as info:
        telegram.send(Outbound("telegram", "42", "hello"))
    assert info.value.retry_after == 7
    assert info.value.code == "429"
    assert telegram.send(Outbound("telegram", "42", "hello")) == "1000"  # next try goes through


@pytest.mark.parametrize(
    "status, description, error, code",
    [
        (403, "Forbidden: bot was blocked by the user", PermanentSendError, "403"),
        (400, "Bad Request: chat not found", PermanentSendError, "400"),
        (500, "Internal Server Error", TransientSendError, None),
        (502, "Bad Gateway", TransientSendError, None),
    ],
)
def test_api_errors_map_to_permanent_or_transient(telegram, fake_telegram, status, description, error, code):
    fake_telegram.fail_with("sendMessage", status, description)
    with pytest.raises(error, match="(?i)" + description.split(":")[-1].strip()) as info:
        telegram.send(Outbound("telegram", "42", "hello"))
    assert info.value.code == code


def test_a_retried_send_with_the_same_idempotency_key_sends_once(telegram, fake_telegram):
    msg = Outbound("telegram", "42", "Boarding starts at 10:15.", idempotency_key="815400001:0")
    first = telegram.send(msg)
    assert telegram.send(msg) == first
    assert len(fake_telegram.calls("sendMessage")) == 1


def test_a_retry_after_a_failed_part_does_not_resend_the_parts_that_went_out(telegram, fake_telegram):
    text = " ".join(["segment"] * 900)  # 7,199 characters: 2 parts
    fake_telegram.fail(
        "sendMessage",
        500,
        {"ok": False, "error_code": 500, "description": "Internal Server Error"},
        when=lambda rec: len(fake_telegram.calls("sendMessage")) == 2,
    )
    msg = Outbound("telegram", "42", text, idempotency_key="815400002:0")
    with pytest.raises(TransientSendError):
        telegram.send(msg)
    telegram.send(msg)
    texts = fake_telegram.sent_texts(42)
    assert len(texts) == 3  # part 1, failed part 2, part 2 again: part 1 never twice
    assert texts[0] != texts[1] and texts[1] == texts[2]


def test_photos_and_documents_are_sent_with_captions(telegram, fake_telegram):
    delivery = telegram.send(
        Outbound(
            "telegram",
            "42",
            "Here is your boarding pass.",
            media=(
                Attachment("image", url="https://cdn.example.com/bp.png", caption="Boarding pass"),
                Attachment("document", file_id="BQACAgQAAxkBAAIBs2Doc", name="receipt.pdf"),
            ),
        )
    )
    assert [r.endpoint for r in fake_telegram.requests] == ["sendPhoto", "sendDocument", "sendMessage"]
    photo = fake_telegram.calls("sendPhoto")[0].params
    assert photo["photo"] == "https://cdn.example.com/bp.png" and photo["caption"] == "Boarding pass"
    assert fake_telegram.calls("sendDocument")[0].params["document"] == "BQACAgQAAxkBAAIBs2Doc"
    assert len(delivery.split(",")) == 3


def test_a_location_is_sent_as_a_location(telegram, fake_telegram):
    telegram.send(Outbound("telegram", "42", media=(Attachment("location", latitude=52.308613, longitude=4.763889),)))
    [call] = fake_telegram.calls("sendLocation")
    assert (float(call.params["latitude"]), float(call.params["longitude"])) == (52.308613, 4.763889)


def test_a_recipient_that_is_not_a_chat_id_is_refused_without_a_call(telegram, fake_telegram):
    with pytest.raises(PermanentSendError, match="not a chat id"):
        telegram.send(Outbound("telegram", "+31612345678", "hi"))
    assert fake_telegram.requests == []


def test_per_chat_rate_limit_spaces_messages_and_raises_when_the_wait_is_too_long(fake_telegram, redis_client):
    waits: list[float] = []
    conn = TelegramConnector(
        DEFAULT_TOKEN,
        TG_SECRET,
        redis_client,
        "test",
        api_base_url=fake_telegram.base_url,
        per_chat=Rate(1),
        overall=Rate(30),
        max_rate_wait=2,
        sleep=waits.append,
    )
    try:
        conn.send(Outbound("telegram", "42", "one"))
        conn.send(Outbound("telegram", "43", "other chat: no wait"))
        assert waits == []
        # the sleep is recorded, not slept, so the slot is still taken: the wait grows past max_rate_wait
        with pytest.raises(TransientSendError, match="rate limit") as info:
            conn.send(Outbound("telegram", "42", "two"))
        assert 0 < info.value.retry_after <= 1
        assert len(fake_telegram.calls("sendMessage")) == 2
    finally:
        conn.close()


def test_many_worker_threads_share_one_event_loop(telegram, fake_telegram):
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(5):
                telegram.send(Outbound("telegram", str(1000 + n), f"message {i}"))
        except BaseException as exc:  # noqa: BLE001 - collected for the assert
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(fake_telegram.calls("sendMessage")) == 40
    loops = [t for t in threading.enumerate() if t.name == "telegram-connector"]
    assert len(loops) == 1


def test_close_stops_the_loop_thread_and_is_idempotent(fake_telegram, redis_client):
    conn = TelegramConnector(DEFAULT_TOKEN, TG_SECRET, redis_client, "test", api_base_url=fake_telegram.base_url)
    conn.send(Outbound("telegram", "42", "hi"))
    conn.close()
    conn.close()
    assert not any(t.name == "telegram-connector" and t.is_alive() for t in threading.enumerate())
    with pytest.raises(RuntimeError, match="closed"):
        conn.send(Outbound("telegram", "42", "after close"))


def test_webhook_admin_calls(telegram, fake_telegram):
    assert telegram.get_me()["username"] == "nimbus_air_bot"
    telegram.set_webhook("https://bot.example.com/webhooks/telegram", "abc_DEF-123")
    assert fake_telegram.webhook["secret_token"] == "abc_DEF-123"
    assert telegram.webhook_url() == "https://bot.example.com/webhooks/telegram"
    telegram.delete_webhook()
    assert telegram.webhook_url() == ""
