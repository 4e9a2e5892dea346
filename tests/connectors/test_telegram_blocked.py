"""Issue 14: a customer who blocked the bot on Telegram gets nothing more, until they unblock it.

The real connector against the fake Bot API on real Redis; the last test goes through the
pipeline's Deliverer (real SQL) to show the refused send is recorded as failed and dead-lettered.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import redis
from sqlalchemy import select

from bots.pipeline import keys_for
from bots.pipeline.deliverer import Deliverer
from bots.pipeline.dlq import DeadLetters
from bots.stores.models import deliveries
from connectors.base import Outbound
from connectors.errors import PermanentSendError
from connectors.telegram import TelegramConnector
from connectors.telegram.connector import BLOCKED_CODE
from tests.fakes.telegram_api import FakeTelegramAPI

from .conftest import load_fixture, telegram_request

pytestmark = pytest.mark.integration  # real Redis and the fake Bot API

CHAT = "5123456789"
BLOCKED_KEY = "test:telegram:blocked:{telegram:5123456789}"


def member_update(status: str, update_id: int) -> dict[str, Any]:
    update = copy.deepcopy(load_fixture("telegram_my_chat_member_blocked"))
    update["update_id"] = update_id
    update["my_chat_member"]["new_chat_member"]["status"] = status
    return update


def blocked_send(telegram: TelegramConnector, fake: FakeTelegramAPI, text: str = "Your flight is on time.") -> None:
    """A send to the chat is refused with code "blocked", and Telegram is not called."""
    calls = len(fake.requests)
    with pytest.raises(PermanentSendError, match="blocked the bot") as info:
        telegram.send(Outbound("telegram", CHAT, text))
    assert info.value.code == BLOCKED_CODE
    assert len(fake.requests) == calls, "no Bot API call for a blocked chat"


def test_a_kicked_my_chat_member_records_the_chat_as_blocked_durably(
    telegram: TelegramConnector, fake_telegram: FakeTelegramAPI, redis_client: redis.Redis
) -> None:
    """The finding: the update was ignored and sends to the chat went on."""
    [event] = telegram.parse(telegram_request(member_update("kicked", 815400300)))
    assert (event.kind, event.event) == ("event", "bot_blocked")
    assert redis_client.exists(BLOCKED_KEY) and redis_client.ttl(BLOCKED_KEY) == -1  # under the prefix, no TTL
    assert telegram.blocked(CHAT) is not None
    blocked_send(telegram, fake_telegram)
    blocked_send(telegram, fake_telegram, "A second try is refused too.")


def test_an_unblock_lifts_it_and_sends_go_out_again(
    telegram: TelegramConnector, fake_telegram: FakeTelegramAPI
) -> None:
    telegram.parse(telegram_request(member_update("kicked", 815400301)))
    blocked_send(telegram, fake_telegram)
    [event] = telegram.parse(telegram_request(member_update("member", 815400302)))
    assert event.event == "bot_unblocked"
    assert telegram.blocked(CHAT) is None
    assert telegram.send(Outbound("telegram", CHAT, "Welcome back!"))
    assert fake_telegram.sent_texts(CHAT) == ["Welcome back!"]


@pytest.mark.parametrize("fixture", ["telegram_message_text", "telegram_callback_query"])
def test_a_new_message_from_the_chat_lifts_it_when_its_turn_starts(
    telegram: TelegramConnector, fake_telegram: FakeTelegramAPI, fixture: str
) -> None:
    [blocked] = telegram.parse(telegram_request(member_update("kicked", 815400303)))
    telegram.resolve(blocked)  # the worker records it again: idempotent
    assert telegram.blocked(CHAT) is not None
    [msg] = telegram.parse(telegram_request(load_fixture(fixture)))
    telegram.resolve(msg)  # in the worker, before the turn
    assert telegram.blocked(CHAT) is None
    telegram.send(Outbound("telegram", CHAT, "Happy to help."))
    assert fake_telegram.sent_texts(CHAT) == ["Happy to help."]


def test_a_block_in_a_group_or_of_another_chat_changes_nothing(
    telegram: TelegramConnector, fake_telegram: FakeTelegramAPI
) -> None:
    group = member_update("kicked", 815400304)
    group["my_chat_member"]["chat"] = {"id": -100987, "title": "Nimbus fans", "type": "supergroup"}
    assert telegram.parse(telegram_request(group)) == []
    telegram.parse(telegram_request(member_update("kicked", 815400305)))
    telegram.send(Outbound("telegram", "42", "Other customers still get replies."))
    assert fake_telegram.sent_texts(42) == ["Other customers still get replies."]


def test_a_403_blocked_by_the_user_marks_the_chat_blocked(
    telegram: TelegramConnector, fake_telegram: FakeTelegramAPI
) -> None:
    fake_telegram.fail_with("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(PermanentSendError) as info:
        telegram.send(Outbound("telegram", CHAT, "First try."))
    assert info.value.code == "403"
    assert telegram.blocked(CHAT) is not None
    blocked_send(telegram, fake_telegram)


def test_another_403_does_not_mark_the_chat_blocked(
    telegram: TelegramConnector, fake_telegram: FakeTelegramAPI
) -> None:
    fake_telegram.fail_with("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user")
    with pytest.raises(PermanentSendError):
        telegram.send(Outbound("telegram", CHAT, "Hello"))
    assert telegram.blocked(CHAT) is None


def test_the_deliverer_records_a_refused_send_as_failed_and_dead_letters_it_with_the_reason(
    telegram: TelegramConnector, fake_telegram: FakeTelegramAPI, make_settings, redis_client, sql_engine
) -> None:
    settings = make_settings()
    dead = DeadLetters(redis_client, keys_for(settings), 1000)
    deliverer = Deliverer.from_settings(
        redis_client, sql_engine, settings, {"telegram": telegram}, dead, sleep=lambda s: None
    )
    telegram.parse(telegram_request(member_update("kicked", 815400306)))
    ob = Outbound(
        "telegram",
        CHAT,
        "Your seat is 12A.",
        idempotency_key="telegram:815400001:0",
        conversation_id=f"telegram:{CHAT}",
    )
    assert deliverer.deliver(ob) == "failed"
    assert fake_telegram.calls("sendMessage") == []
    with sql_engine.connect() as conn:
        status, code = conn.execute(select(deliveries.c.status, deliveries.c.error_code)).one()
    assert (status, code) == ("failed", BLOCKED_CODE)
    [letter] = dead.list()
    assert letter.kind == "send" and "blocked the bot" in letter.error
