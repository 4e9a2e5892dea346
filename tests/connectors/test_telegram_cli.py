"""`brandbot telegram set-webhook|delete-webhook|poll` against the fake Bot API."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bots.cli import main
from bots.cli.telegram_cmd import poll_updates, webhook_url_for
from bots.errors import BrandbotError
from connectors.base import Inbound
from tests.fakes.telegram_api import DEFAULT_TOKEN

from .conftest import load_fixture

pytestmark = pytest.mark.integration  # real Redis and the fake channel APIs


@pytest.fixture
def config(write_config, redis_url, sqlite_url, fake_telegram):
    return str(
        write_config(
            {
                "stores": {"redis_url": redis_url, "database_url": sqlite_url},
                "channels": {
                    "telegram": {
                        "enabled": True,
                        "token": DEFAULT_TOKEN,
                        "webhook_secret": "x",
                        "api_base_url": fake_telegram.base_url,
                    }
                },
            }
        )
    )


def run(config: str, *args: str):
    return CliRunner().invoke(main, ["--config", config, "telegram", *args], catch_exceptions=False)


def test_set_webhook_registers_a_generated_secret_and_prints_it(config, fake_telegram):
    result = run(config, "set-webhook", "https://bot.example.com")
    assert result.exit_code == 0, result.output
    secret = fake_telegram.webhook["secret_token"]
    assert len(secret) >= 32
    assert fake_telegram.webhook["url"] == "https://bot.example.com/webhooks/telegram"
    assert f"export TELEGRAM_WEBHOOK_SECRET={secret}" in result.output
    call = fake_telegram.calls("setWebhook")[0]
    assert call.json_param("allowed_updates") == [
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
        "message_reaction",
    ]
    run(config, "set-webhook", "https://bot.example.com")
    assert fake_telegram.webhook["secret_token"] != secret  # a new one each time


def test_poll_refuses_when_a_webhook_is_set_and_works_after_delete(config, fake_telegram):
    run(config, "set-webhook", "https://bot.example.com/webhooks/telegram")
    refused = run(config, "poll", "--timeout", "0", "--rounds", "1")
    assert refused.exit_code == 2
    assert "delete-webhook" in refused.output

    assert run(config, "delete-webhook").exit_code == 0
    fake_telegram.push_update(load_fixture("telegram_message_text"))
    fake_telegram.push_update(load_fixture("telegram_inline_query"))
    polled = run(config, "poll", "--timeout", "0", "--rounds", "1", "--print-only")
    assert polled.exit_code == 0, polled.output
    assert '"text": "Can I change my seat on KL1234?"' in polled.output
    assert '"message_id": "815400001"' in polled.output


def test_poll_puts_updates_on_the_inbound_queue_once(config, fake_telegram, redis_client):
    fake_telegram.push_update(load_fixture("telegram_message_text"))
    polled = run(config, "poll", "--timeout", "0", "--rounds", "1", "--workers", "0")
    assert polled.exit_code == 0, polled.output
    streams = [k for k in redis_client.scan_iter("bb:in:*") if redis_client.type(k) == b"stream"]
    entries = [e for k in streams for e in redis_client.xrange(k)]
    assert len(entries) == 1
    assert b"815400001" in b"".join(v for _, fields in entries for v in fields.values())


def test_poll_updates_hands_inbounds_to_the_callable_and_confirms_them(fake_telegram, telegram):
    fake_telegram.push_update(load_fixture("telegram_message_text"))
    fake_telegram.push_update(load_fixture("telegram_callback_query"))
    got: list[Inbound] = []
    assert poll_updates(telegram, got.append, timeout=0, max_rounds=1) == 2
    assert [i.kind for i in got] == ["message", "callback"]
    assert got[1].payload == "seat_change:yes"
    assert poll_updates(telegram, got.append, timeout=0, max_rounds=1) == 0  # confirmed: not handed twice


def test_poll_skips_an_update_the_door_refuses_and_goes_on(fake_telegram, telegram):
    bad = load_fixture("telegram_message_text")
    bad["message"]["text"] = "seat \ud800"  # a lone surrogate: the webhook would answer 400
    good = load_fixture("telegram_message_text")
    good["update_id"] = bad["update_id"] + 1
    fake_telegram.push_update(bad)
    fake_telegram.push_update(good)
    got: list[Inbound] = []
    assert poll_updates(telegram, got.append, timeout=0, max_rounds=1) == 1
    assert poll_updates(telegram, got.append, timeout=0, max_rounds=1) == 0  # both confirmed


def test_poll_updates_refuses_with_a_webhook(fake_telegram, telegram):
    telegram.set_webhook("https://bot.example.com/webhooks/telegram", "s")
    with pytest.raises(BrandbotError, match="webhook is set"):
        poll_updates(telegram, print, timeout=0, max_rounds=1)


def test_webhook_url_for():
    assert webhook_url_for("https://bot.example.com/") == "https://bot.example.com/webhooks/telegram"
    assert webhook_url_for("https://bot.example.com/tg/hook") == "https://bot.example.com/tg/hook"
    with pytest.raises(BrandbotError, match="not a URL"):
        webhook_url_for("bot.example.com")
