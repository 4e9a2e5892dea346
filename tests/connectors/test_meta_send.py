"""Messenger, Instagram and WhatsApp Cloud sends through the real connector against the fake Graph API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from connectors._ratelimit import Rate
from connectors.base import Attachment, Inbound, Outbound, QuickReply
from connectors.errors import OutcomeUnknown, PermanentSendError, TransientSendError
from connectors.meta import (
    DAY,
    CloudTemplate,
    GraphClient,
    InstagramConnector,
    MessengerConnector,
    MetaAccounts,
    MetaOptions,
    WhatsAppCloudConnector,
)
from tests.connectors.conftest import Clock
from tests.fakes._server import every
from tests.fakes.graph_api import (
    DEFAULT_INSTAGRAM_ID,
    DEFAULT_PAGE_ID,
    DEFAULT_PHONE_NUMBER_ID,
    DEFAULT_TOKEN,
    FakeGraphAPI,
    is_send,
)

PSID = "6543210987654321"
IGSID = "1784140000000042"
WA = "+33612345678"
ACCOUNTS = MetaAccounts(DEFAULT_PAGE_ID, DEFAULT_INSTAGRAM_ID, DEFAULT_PHONE_NUMBER_ID)
TEMPLATE = CloudTemplate("service_reply", "fr", ("{text}",))


def _options(**extra: object) -> MetaOptions:
    base: dict[str, object] = {
        "accounts": ACCOUNTS,
        "app_secret": "app-secret",
        "key_prefix": "test",
        "overall": Rate(1000),
        "rate_limit_retry_seconds": 42.0,
    }
    return MetaOptions(**(base | extra))  # type: ignore[arg-type]


def _graph(fake: FakeGraphAPI, token: str = DEFAULT_TOKEN, timeout: float = 5) -> GraphClient:
    return GraphClient(fake.base_url, token, timeout=timeout)


@pytest.fixture
def messenger(fake_graph: FakeGraphAPI, redis_client: redis.Redis, clock: Clock) -> Iterator[MessengerConnector]:
    conn = MessengerConnector(_graph(fake_graph), DEFAULT_PAGE_ID, redis_client, _options(), clock=clock)
    yield conn
    conn.close()


@pytest.fixture
def instagram(fake_graph: FakeGraphAPI, redis_client: redis.Redis, clock: Clock) -> InstagramConnector:
    return InstagramConnector(_graph(fake_graph), DEFAULT_INSTAGRAM_ID, redis_client, _options(), clock=clock)


@pytest.fixture
def cloud(fake_graph: FakeGraphAPI, redis_client: redis.Redis, clock: Clock) -> WhatsAppCloudConnector:
    return WhatsAppCloudConnector(
        _graph(fake_graph),
        DEFAULT_PHONE_NUMBER_ID,
        redis_client,
        _options(),
        clock=clock,
        templates={"reply": TEMPLATE},
    )


def _inbound(channel: str, sender: str, clock: Clock, text: str = "hello", mid: str = "m_in_1") -> Inbound:
    return Inbound(
        channel=channel,
        sender_id=sender,
        conversation_id=f"{channel}:{sender}",
        message_id=mid,
        text=text,
        timestamp=datetime.fromtimestamp(clock(), UTC),
    )


def _out(channel: str, to: str, text: str = "Hi", key: str = "k1", **extra: object) -> Outbound:
    return Outbound(channel=channel, recipient=to, text=text, idempotency_key=key, **extra)  # type: ignore[arg-type]


# -- Messenger and Instagram ------------------------------------------------------------------


def test_a_messenger_reply_in_the_window_is_a_response_with_its_quick_replies(
    messenger: MessengerConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    messenger.resolve(_inbound("messenger", PSID, clock))
    buttons = (QuickReply("Oui", "/affirm"), QuickReply("Non, je préfère garder ce siège-là", "/deny"))
    got = messenger.send(_out("messenger", PSID, "Je confirme le 14C ?", quick_replies=buttons))
    assert got.startswith("m_")
    (body,) = fake_graph.sends(DEFAULT_PAGE_ID)
    assert body["recipient"] == {"id": PSID}
    assert body["messaging_type"] == "RESPONSE" and "tag" not in body
    assert body["message"]["text"] == "Je confirme le 14C ?"
    titles = [(q["title"], q["payload"]) for q in body["message"]["quick_replies"]]
    assert titles == [("Oui", "/affirm"), ("Non, je préfère gar…", "/deny")]  # 20 characters at most


def test_the_bot_is_refused_outside_the_24_hour_window_before_any_call(
    messenger: MessengerConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    messenger.resolve(_inbound("messenger", PSID, clock))
    clock.advance(DAY + 1)
    with pytest.raises(PermanentSendError) as refused:
        messenger.send(_out("messenger", PSID, "Still there?"))
    assert refused.value.code == "window_closed"
    assert "human-agent tag" in str(refused.value)
    assert fake_graph.sends() == []


def test_staff_answer_with_the_human_agent_tag_for_seven_days_then_are_refused(
    messenger: MessengerConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    messenger.resolve(_inbound("messenger", PSID, clock))
    clock.advance(3 * DAY)
    assert not messenger.window_open(PSID) and messenger.staff_may_reply(PSID)
    messenger.send(_out("messenger", PSID, "Sorry for the wait: your refund is on its way.", author="staff"))
    (body,) = fake_graph.sends()
    assert body["messaging_type"] == "MESSAGE_TAG" and body["tag"] == "HUMAN_AGENT"
    clock.advance(4 * DAY + 1)
    assert not messenger.staff_may_reply(PSID)
    with pytest.raises(PermanentSendError, match="7 days"):
        messenger.send(_out("messenger", PSID, "Anything else?", key="k2", author="staff"))


def test_a_long_reply_is_split_and_a_redone_send_goes_out_once(
    messenger: MessengerConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    messenger.resolve(_inbound("messenger", PSID, clock))
    text = ("Votre vol part du terminal 2F. " * 100).strip()
    first = messenger.send(_out("messenger", PSID, text))
    again = messenger.send(_out("messenger", PSID, text))
    assert first == again and len(first.split(",")) == 2
    texts = fake_graph.texts(PSID)
    assert len(texts) == 2 and all(len(t) <= 2000 for t in texts)
    assert " ".join(texts).split() == text.split()


def test_more_options_than_quick_replies_become_numbered_and_a_typed_number_presses_one(
    messenger: MessengerConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    messenger.resolve(_inbound("messenger", PSID, clock))
    seats = tuple(QuickReply(f"{row}A", f"seat:{row}A") for row in range(1, 16))
    messenger.send(_out("messenger", PSID, "Which seat?", quick_replies=seats))
    (body,) = fake_graph.sends()
    assert "quick_replies" not in body["message"] and "2. 2A" in body["message"]["text"]
    pressed = messenger.resolve(_inbound("messenger", PSID, clock, text="2", mid="m_in_2"))
    assert (pressed.kind, pressed.payload, pressed.text) == ("callback", "seat:2A", "2A")


def test_instagram_splits_at_its_own_1000_characters(
    instagram: InstagramConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    instagram.resolve(_inbound("instagram", IGSID, clock))
    instagram.send(_out("instagram", IGSID, "Bagages : " + "une valise cabine de 12 kg. " * 60))
    texts = fake_graph.texts(IGSID)
    assert len(texts) == 2 and max(map(len, texts)) <= 1000
    assert {b["recipient"]["id"] for b in fake_graph.sends(DEFAULT_INSTAGRAM_ID)} == {IGSID}


def test_an_image_goes_as_an_attachment_after_the_text(
    messenger: MessengerConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    messenger.resolve(_inbound("messenger", PSID, clock))
    image = Attachment("image", url="https://cdn.example.com/boarding-pass.png")
    messenger.send(_out("messenger", PSID, "Your boarding pass:", media=(image,)))
    text, picture = fake_graph.sends()
    assert text["message"]["text"] == "Your boarding pass:"
    assert picture["message"]["attachment"] == {
        "type": "image",
        "payload": {"url": "https://cdn.example.com/boarding-pass.png", "is_reusable": True},
    }


# -- WhatsApp Cloud -------------------------------------------------------------------------------


def test_whatsapp_two_options_are_reply_buttons_and_five_a_list(
    cloud: WhatsAppCloudConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    cloud.resolve(_inbound("whatsapp_cloud", WA, clock, mid="wamid.in1"))
    cloud.send(
        _out(
            "whatsapp_cloud",
            WA,
            "Confirm 14C?",
            quick_replies=(QuickReply("Yes", "/affirm"), QuickReply("No", "/deny")),
        )
    )
    options = tuple(QuickReply(f"Option {i}", f"/choice_{i}") for i in range(5))
    cloud.send(_out("whatsapp_cloud", WA, "Pick one", key="k2", quick_replies=options))
    buttons, listed = fake_graph.sends(DEFAULT_PHONE_NUMBER_ID)
    assert buttons["to"] == "33612345678" and buttons["interactive"]["type"] == "button"
    assert [b["reply"] for b in buttons["interactive"]["action"]["buttons"]] == [
        {"id": "/affirm", "title": "Yes"},
        {"id": "/deny", "title": "No"},
    ]
    assert listed["interactive"]["type"] == "list"
    assert [r["id"] for r in listed["interactive"]["action"]["sections"][0]["rows"]] == [q.payload for q in options]
    typed = cloud.resolve(_inbound("whatsapp_cloud", WA, clock, text="option 3", mid="wamid.in2"))
    assert (typed.kind, typed.payload) == ("callback", "/choice_3")


def test_whatsapp_outside_the_window_sends_the_kinds_template_and_refuses_without_one(
    cloud: WhatsAppCloudConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    cloud.resolve(_inbound("whatsapp_cloud", WA, clock, mid="wamid.in1"))
    clock.advance(DAY + 60)
    cloud.send(_out("whatsapp_cloud", WA, "Votre vol AF1234 est retardé."))
    (sent,) = fake_graph.sends()
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "service_reply",
        "language": {"code": "fr"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Votre vol AF1234 est retardé."}]}],
    }
    with pytest.raises(PermanentSendError, match=r"channels\.meta\.whatsapp\.templates\.handoff") as refused:
        cloud.send(_out("whatsapp_cloud", WA, "An agent will answer", key="k2", kind="handoff"))
    assert refused.value.code == "window_closed"
    assert len(fake_graph.sends()) == 1


def test_whatsapp_re_engagement_error_closes_the_window(
    cloud: WhatsAppCloudConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    cloud.resolve(_inbound("whatsapp_cloud", WA, clock, mid="wamid.in1"))
    fake_graph.fail_code(131047, when=is_send)
    with pytest.raises(PermanentSendError) as refused:
        cloud.send(_out("whatsapp_cloud", WA))
    assert refused.value.code == "window_closed"
    assert not cloud.window_open(WA)


# -- errors, limits, typing, doctor -------------------------------------------------------------------


@pytest.mark.parametrize("code", [613, 4, 80007, 130429])
def test_metas_rate_limits_are_retried_later(
    messenger: MessengerConnector, cloud: WhatsAppCloudConnector, fake_graph: FakeGraphAPI, clock: Clock, code: int
) -> None:
    messenger.resolve(_inbound("messenger", PSID, clock))
    fake_graph.rate_limit(code=code)
    with pytest.raises(TransientSendError) as limited:
        messenger.send(_out("messenger", PSID))
    assert limited.value.retry_after == 42.0 and limited.value.code == str(code)
    assert messenger.send(_out("messenger", PSID)).startswith("m_")  # the retry goes out


def test_a_server_error_is_transient_and_an_unreachable_person_permanent(
    messenger: MessengerConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    messenger.resolve(_inbound("messenger", PSID, clock))
    fake_graph.fail_code(2, status=500)
    with pytest.raises(TransientSendError):
        messenger.send(_out("messenger", PSID))
    fake_graph.fail_code(551)
    with pytest.raises(PermanentSendError) as refused:
        messenger.send(_out("messenger", PSID))
    assert refused.value.code == "551"


def test_a_lost_answer_is_an_unknown_outcome(fake_graph: FakeGraphAPI, redis_client: redis.Redis, clock: Clock) -> None:
    conn = MessengerConnector(_graph(fake_graph, timeout=0.5), DEFAULT_PAGE_ID, redis_client, _options(), clock=clock)
    conn.resolve(_inbound("messenger", PSID, clock))
    fake_graph.lose_answers("messages")
    with pytest.raises(OutcomeUnknown):
        conn.send(_out("messenger", PSID))


def test_our_own_rate_limit_defers_a_send_instead_of_blocking(
    fake_graph: FakeGraphAPI, redis_client: redis.Redis, clock: Clock
) -> None:
    conn = MessengerConnector(
        _graph(fake_graph), DEFAULT_PAGE_ID, redis_client, _options(overall=Rate(2), max_rate_wait=0.0), clock=clock
    )
    conn.resolve(_inbound("messenger", PSID, clock))
    conn.send(_out("messenger", PSID, key="a"))
    conn.send(_out("messenger", PSID, key="b"))
    with pytest.raises(TransientSendError) as limited:
        conn.send(_out("messenger", PSID, key="c"))
    assert limited.value.code == "rate_limited" and limited.value.retry_after is not None
    assert len(fake_graph.sends()) == 2


def test_typing_is_shown_on_each_channel_and_a_failure_is_swallowed(
    messenger: MessengerConnector, cloud: WhatsAppCloudConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    messenger.typing(_inbound("messenger", PSID, clock))
    cloud.typing(_inbound("whatsapp_cloud", WA, clock, mid="wamid.HBgL"))
    assert fake_graph.typing(DEFAULT_PAGE_ID) == [{"recipient": {"id": PSID}, "sender_action": "typing_on"}]
    assert fake_graph.typing(DEFAULT_PHONE_NUMBER_ID) == [
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.HBgL",
            "typing_indicator": {"type": "text"},
        }
    ]
    fake_graph.fail_code(2, status=500, times=5, when=every(1))
    messenger.typing(_inbound("messenger", PSID, clock))  # no exception


def test_the_doctor_check_reads_the_account_with_the_token(
    fake_graph: FakeGraphAPI, messenger: MessengerConnector, redis_client: redis.Redis, clock: Clock
) -> None:
    assert messenger.check_credentials() is None
    wrong = MessengerConnector(
        _graph(fake_graph, token="EAAwrong"), DEFAULT_PAGE_ID, redis_client, _options(), clock=clock
    )
    problem = wrong.check_credentials()
    assert problem is not None and "190" in problem


def test_typing_is_taken_back_on_messenger_when_a_turn_sends_nothing(
    messenger: MessengerConnector, cloud: WhatsAppCloudConnector, fake_graph: FakeGraphAPI, clock: Clock
) -> None:
    messenger.typing_done(_inbound("messenger", PSID, clock))
    cloud.typing_done(_inbound("whatsapp_cloud", WA, clock, mid="wamid.HBgL"))  # WhatsApp has no "off"
    assert fake_graph.typing() == [{"recipient": {"id": PSID}, "sender_action": "typing_off"}]
