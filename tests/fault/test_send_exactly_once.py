"""Exactly once where the channel allows it: lost answers and crashes after the channel accepted a send.

Each test sends N replies (one unique text each, so the fake's record says how many times
each reached the customer) through the real Deliverer and the real connector against the
fake channel API, with real Redis and SQLite. Two faults:

- lost answer: every 5th send is accepted by the fake, which then closes the connection
  without answering (the request was read; the client sees a dropped connection);
- crash: every 5th send, the process "dies" (a BaseException) after the channel accepted
  the message and before anything was recorded; the delivery is then done again, as a
  redone turn would.

Twilio (SMS, WhatsApp) and the web chat must show every reply exactly once. Telegram cannot
be asked what it accepted and has no idempotency key: every lost answer or crash in that
window is one duplicate, and the test pins that number (the window, measured).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import select

from bots.pipeline.deliverer import Deliverer
from bots.pipeline.dlq import DeadLetters
from bots.pipeline.keys import Keys
from bots.pipeline.retry import RetryPolicy
from bots.stores.models import deliveries
from connectors._ratelimit import Rate
from connectors._sendlog import SendLog
from connectors.base import Connector, Outbound
from connectors.telegram.connector import TelegramConnector
from connectors.twilio.connector import SmsConnector, TwilioConnector, WhatsAppConnector
from connectors.webchat import WebchatConnector
from tests.fakes._server import every
from tests.fakes.telegram_api import DEFAULT_TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN, FakeTwilioAPI

pytestmark = pytest.mark.integration

N = 50
EVERY = 5
FAULTS = N // EVERY
PREFIX = "bbx"


class Killed(BaseException):
    """The process died here (nothing after this line ran; no handler catches it)."""


def deliverer(redis_client: redis.Redis, engine: Any, connector: Connector) -> Deliverer:
    keys = Keys(PREFIX, 4)
    return Deliverer(
        redis_client,
        engine,
        keys,
        {connector.channel: connector},
        RetryPolicy(5, 0.001, 0.01),
        DeadLetters(redis_client, keys),
    )


def replies(channel: str, recipient: Callable[[int], str], conversation: Callable[[int], str]) -> list[Outbound]:
    return [
        Outbound(
            channel,
            recipient(i),
            text=f"reply {i}: your new seat is {i % 30 + 1}A",
            idempotency_key=f"in-{channel}-{i}:0",
            conversation_id=conversation(i),
        )
        for i in range(N)
    ]


def duplicates(received: list[str], sent: list[Outbound]) -> int:
    """Messages the customers got beyond one per reply (and every reply got at least once)."""
    counts = Counter(received)
    missing = [ob.text for ob in sent if counts[ob.text] == 0]
    assert not missing, f"{len(missing)} replies never reached the customer: {missing[:3]}"
    return sum(c - 1 for c in counts.values())


def report(channel: str, fault: str, faults: int, dups: int) -> None:
    print(f"\n[exactly-once] {channel:9s} {fault:13s}: {N} replies, {faults} faults, {dups} duplicates")


def crash_in_the_window(monkeypatch: pytest.MonkeyPatch, doomed: set[str]) -> list[str]:
    """Make the first log write of each key in ``doomed`` kill the process: the channel has
    answered (accepted the message) and nothing is recorded yet. Returns the keys killed."""
    killed: list[str] = []
    real = SendLog.record_part

    def record_part(self: SendLog, conversation: str, idem: str | None, index: int, delivery_id: str) -> None:
        if idem in doomed and idem not in killed:
            killed.append(idem)
            raise Killed(f"killed after the channel accepted {idem} as {delivery_id}")
        real(self, conversation, idem, index, delivery_id)

    monkeypatch.setattr(SendLog, "record_part", record_part)
    return killed


def deliver_with_crashes(d: Deliverer, outbounds: list[Outbound]) -> int:
    """Deliver each reply; a reply whose process was killed is delivered again (the turn redone)."""
    crashes = 0
    for ob in outbounds:
        try:
            assert d.deliver(ob) == "sent"
        except Killed:
            crashes += 1
            assert d.deliver(ob) == "sent"
    return crashes


# -- Twilio: SMS and WhatsApp ------------------------------------------------------------


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilioAPI]:
    fake = FakeTwilioAPI().start()
    yield fake
    fake.stop()


def twilio(channel: str, redis_client: redis.Redis, fake: FakeTwilioAPI, timeout: float = 5.0) -> TwilioConnector:
    if channel == "sms":
        return SmsConnector(
            DEFAULT_SID, DEFAULT_TOKEN, "+3120000000", redis_client, PREFIX, api_base_url=fake.base_url, timeout=timeout
        )
    return WhatsAppConnector(
        DEFAULT_SID,
        DEFAULT_TOKEN,
        "whatsapp:+3120000000",
        redis_client,
        PREFIX,
        api_base_url=fake.base_url,
        timeout=timeout,
    )


def twilio_replies(connector: TwilioConnector) -> list[Outbound]:
    channel = connector.channel
    number = lambda i: f"+316100{i % 7:05d}"  # noqa: E731 - seven customers, several replies each
    outbounds = replies(channel, number, lambda i: f"{channel}:{number(i)}")
    for ob in outbounds:
        if channel == "whatsapp":  # the customer wrote: the 24-hour window is open
            connector.state.note_inbound(ob.conversation_id or "", time.time())
    return outbounds


def received_by_twilio(fake: FakeTwilioAPI) -> list[str]:
    return [m["Body"] for m in fake.messages()]


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_twilio_lost_answers_reach_the_customer_once(channel, redis_client, sql_engine, twilio_api) -> None:
    connector = twilio(channel, redis_client, twilio_api)
    outbounds = twilio_replies(connector)
    lost = twilio_api.lose_answers("Messages", times=FAULTS, when=every(EVERY))
    d = deliverer(redis_client, sql_engine, connector)

    assert [d.deliver(ob) for ob in outbounds] == ["sent"] * N

    dups = duplicates(received_by_twilio(twilio_api), outbounds)
    report(channel, "lost answer", lost.dropped, dups)
    assert lost.dropped == FAULTS
    assert dups == 0
    assert len(twilio_api.lists()) == FAULTS  # asked once per lost answer, before sending again
    sid_of = {m["body"]: m["sid"] for m in twilio_api.created}
    with sql_engine.connect() as conn:
        rows = dict(conn.execute(select(deliveries.c.idempotency_key, deliveries.c.provider_id)).all())
    assert rows == {ob.idempotency_key: sid_of[ob.text] for ob in outbounds}  # each row names what the customer got


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_twilio_read_timeouts_reach_the_customer_once(channel, redis_client, sql_engine, twilio_api) -> None:
    """An answer that never comes within the read timeout is as unknown as a dropped one."""
    connector = twilio(channel, redis_client, twilio_api, timeout=0.3)
    outbounds = twilio_replies(connector)[:6]
    lost = twilio_api.lose_answers("Messages", times=2, when=every(3), hang=0.8)
    d = deliverer(redis_client, sql_engine, connector)

    assert [d.deliver(ob) for ob in outbounds] == ["sent"] * 6

    assert lost.dropped == 2
    assert Counter(received_by_twilio(twilio_api)) == Counter(ob.text for ob in outbounds)


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_twilio_crash_after_accept_then_redo_reaches_the_customer_once(
    channel, redis_client, sql_engine, twilio_api, monkeypatch
) -> None:
    connector = twilio(channel, redis_client, twilio_api)
    outbounds = twilio_replies(connector)
    killed = crash_in_the_window(monkeypatch, {ob.idempotency_key or "" for ob in outbounds[EVERY - 1 :: EVERY]})

    crashes = deliver_with_crashes(deliverer(redis_client, sql_engine, connector), outbounds)

    dups = duplicates(received_by_twilio(twilio_api), outbounds)
    report(channel, "crash", crashes, dups)
    assert crashes == len(killed) == FAULTS
    assert dups == 0


# -- Telegram: at least once, the window measured --------------------------------------------


@pytest.fixture
def telegram(redis_client: redis.Redis) -> Iterator[tuple[FakeTelegramAPI, TelegramConnector]]:
    fake = FakeTelegramAPI().start()
    connector = TelegramConnector(
        TG_TOKEN,
        "secret",
        redis_client,
        PREFIX,
        api_base_url=fake.base_url,
        per_chat=Rate(1000, 1),
        overall=Rate(1000, 1),
        timeout=5,
    )
    yield fake, connector
    connector.close()
    fake.stop()


def telegram_replies() -> list[Outbound]:
    chat = lambda i: str(7000 + i % 7)  # noqa: E731
    return replies("telegram", chat, lambda i: f"telegram:{chat(i)}")


def test_telegram_lost_answers_are_sent_again_one_duplicate_each(redis_client, sql_engine, telegram) -> None:
    fake, connector = telegram
    outbounds = telegram_replies()
    lost = fake.lose_answers("sendMessage", times=FAULTS, when=every(EVERY))
    d = deliverer(redis_client, sql_engine, connector)

    assert [d.deliver(ob) for ob in outbounds] == ["sent"] * N

    dups = duplicates(fake.sent_texts(), outbounds)
    report("telegram", "lost answer", lost.dropped, dups)
    assert lost.dropped == FAULTS
    assert dups == lost.dropped  # the Bot API offers no way to ask: the window stays open


def test_telegram_crash_after_accept_is_sent_again_one_duplicate_each(
    redis_client, sql_engine, telegram, monkeypatch
) -> None:
    fake, connector = telegram
    outbounds = telegram_replies()
    killed = crash_in_the_window(monkeypatch, {ob.idempotency_key or "" for ob in outbounds[EVERY - 1 :: EVERY]})

    crashes = deliver_with_crashes(deliverer(redis_client, sql_engine, connector), outbounds)

    dups = duplicates(fake.sent_texts(), outbounds)
    report("telegram", "crash", crashes, dups)
    assert crashes == len(killed) == FAULTS
    assert dups == crashes


def test_telegram_crash_after_the_send_returned_is_not_sent_again(redis_client, sql_engine, telegram) -> None:
    """Past the connector's own log (the send returned), a crash before the row costs nothing."""
    fake, connector = telegram
    outbounds = telegram_replies()
    doomed = {ob.idempotency_key for ob in outbounds[EVERY - 1 :: EVERY]}

    crashes = deliver_with_crashes(deliverer(redis_client, sql_engine, CrashAfterSend(connector, doomed)), outbounds)

    assert crashes == FAULTS
    assert duplicates(fake.sent_texts(), outbounds) == 0


# -- Web chat: the transcript is the channel ----------------------------------------------------


class LosesScriptReplies(redis.Redis):
    """A real Redis client whose every n-th script call runs on the server and then loses its reply."""

    def __init__(self, *args: Any, every: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.every, self.calls, self.lost = every, 0, 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        result = super().execute_command(*args, **options)
        if str(args[0]).upper() in ("EVALSHA", "EVAL"):
            self.calls += 1
            if self.calls % self.every == 0:
                self.lost += 1
                raise redis.ConnectionError("Connection closed by server (reply lost)")
        return result


class CrashAfterSend:
    """A connector whose process dies right after the channel accepted chosen sends."""

    def __init__(self, inner: Any, doomed: set[str | None]) -> None:
        self.inner, self.doomed = inner, set(doomed)
        self.channel, self.rules = inner.channel, inner.rules

    def parse(self, request: Any) -> Any:
        return self.inner.parse(request)

    def send(self, message: Outbound) -> str:
        delivery = self.inner.send(message)
        if message.idempotency_key in self.doomed:
            self.doomed.discard(message.idempotency_key)
            raise Killed(f"killed after {message.idempotency_key} was sent as {delivery}")
        return delivery


def webchat_replies() -> list[Outbound]:
    visitor = lambda i: f"visitor-{i % 7:04d}"  # noqa: E731
    return replies("webchat", visitor, lambda i: f"webchat:{visitor(i)}")


def shown(connector: WebchatConnector, outbounds: list[Outbound]) -> list[str]:
    visitors = {ob.recipient for ob in outbounds}
    return [e.text for v in visitors for e in connector.read(v)[0]]


def test_webchat_lost_replies_show_each_reply_once(redis_client, redis_url, sql_engine) -> None:
    lossy = LosesScriptReplies(connection_pool=redis.ConnectionPool.from_url(redis_url), every=EVERY)
    connector = WebchatConnector(lossy, PREFIX)
    outbounds = webchat_replies()
    try:
        assert [deliverer(redis_client, sql_engine, connector).deliver(ob) for ob in outbounds] == ["sent"] * N
    finally:
        lossy.close()

    dups = duplicates(shown(connector, outbounds), outbounds)
    report("webchat", "lost answer", lossy.lost, dups)
    assert lossy.lost >= FAULTS
    assert dups == 0


def test_webchat_crash_after_accept_then_redo_shows_each_reply_once(redis_client, sql_engine) -> None:
    connector = WebchatConnector(redis_client, PREFIX)
    outbounds = webchat_replies()
    doomed = {ob.idempotency_key for ob in outbounds[EVERY - 1 :: EVERY]}

    crashes = deliver_with_crashes(deliverer(redis_client, sql_engine, CrashAfterSend(connector, doomed)), outbounds)

    dups = duplicates(shown(connector, outbounds), outbounds)
    report("webchat", "crash", crashes, dups)
    assert crashes == FAULTS
    assert dups == 0
