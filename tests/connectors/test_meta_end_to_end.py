"""Messenger, Instagram and WhatsApp Cloud customers get the airline bot's answers at the fake Graph API.

The whole path as `make run` runs it with ``META_*`` set: the signed webhook, the inbound queue,
embedded workers, the trained NLU, the dialogue, the Meta connectors. The demo's seat change is
done end to end on Messenger in French, a pressed quick reply continuing the flow.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.meta import MessengerConnector
from tests.fakes.graph_api import (
    DEFAULT_INSTAGRAM_ID,
    DEFAULT_PAGE_ID,
    DEFAULT_PHONE_NUMBER_ID,
    DEFAULT_TOKEN,
    FakeGraphAPI,
)
from tests.support.live import deployment

from .conftest import META_SECRET, META_VERIFY
from .meta_payloads import instagram_body, messaging, page_body, wa_message, whatsapp_body
from .test_end_to_end import wait_for
from .test_meta_webhook_http import post_meta

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PSID = "6543210987654321"


@pytest.fixture
def live(redis_url, redis_client, demo_nlu_dir: Path, tmp_path: Path, fake_graph: FakeGraphAPI) -> Iterator[Any]:
    """The shipped config.yaml with Meta switched on by environment, as an operator would."""
    env = {
        "META_ENABLED": "true",
        "META_APP_SECRET": META_SECRET,
        "META_VERIFY_TOKEN": META_VERIFY,
        "META_ACCESS_TOKEN": DEFAULT_TOKEN,
        "META_API_BASE_URL": fake_graph.base_url,
        "META_PAGE_ID": DEFAULT_PAGE_ID,
        "META_INSTAGRAM_ACCOUNT_ID": DEFAULT_INSTAGRAM_ID,
        "META_WHATSAPP_PHONE_NUMBER_ID": DEFAULT_PHONE_NUMBER_ID,
    }
    with deployment(env, redis_url, demo_nlu_dir, tmp_path) as running:
        yield running


def _say(client: Any, text: str, sender: str = PSID, **message: Any) -> None:
    assert post_meta(client, page_body(messaging(sender, message={"text": text, **message}))).status_code == 200


def test_the_seat_change_is_done_on_messenger_in_french(live, fake_graph: FakeGraphAPI) -> None:
    client, _ = live
    _say(client, "Bonjour, je voudrais changer de siège pour la réservation X7K9QZ")
    [ask_surname] = wait_for(lambda: fake_graph.sends(DEFAULT_PAGE_ID))
    assert ask_surname["messaging_type"] == "RESPONSE"
    assert "nom de famille" in ask_surname["message"]["text"].lower(), ask_surname
    _say(client, "Dupont")
    ask = wait_for(lambda: fake_graph.sends(DEFAULT_PAGE_ID), count=2)[1]
    assert ask["messaging_type"] == "RESPONSE"
    assert "siège" in ask["message"]["text"].lower(), ask
    _say(client, "15C")
    confirm = wait_for(lambda: fake_graph.sends(DEFAULT_PAGE_ID), count=3)[2]
    assert "15C" in confirm["message"]["text"]
    buttons = confirm["message"]["quick_replies"]
    assert all(len(b["title"]) <= 20 for b in buttons)
    yes = next(b for b in buttons if b["title"].lower().startswith("oui"))
    _say(client, yes["title"], quick_reply={"payload": yes["payload"]})
    done = wait_for(lambda: fake_graph.sends(DEFAULT_PAGE_ID), count=4)
    assert "15C" in done[3]["message"]["text"], [d["message"].get("text") for d in done]
    assert fake_graph.typing(DEFAULT_PAGE_ID), "typing shown while the turns ran"
    time.sleep(0.5)  # the demo may then ask for feedback consent; nothing is sent twice
    texts = [d["message"]["text"] for d in fake_graph.sends(DEFAULT_PAGE_ID)]
    assert len(texts) == len(set(texts)) and len(texts) <= 5, texts


def test_instagram_and_whatsapp_cloud_customers_are_answered_in_their_channels_format(
    live, fake_graph: FakeGraphAPI
) -> None:
    client, _ = live
    insta = instagram_body(messaging("1784140000000042", account=DEFAULT_INSTAGRAM_ID, message={"text": "Hello"}))
    assert post_meta(client, insta).status_code == 200
    hello = wa_message("33612345678", text={"body": "Bonjour"})
    assert post_meta(client, whatsapp_body([hello])).status_code == 200
    [ig] = wait_for(lambda: fake_graph.sends(DEFAULT_INSTAGRAM_ID))
    assert ig["recipient"] == {"id": "1784140000000042"} and "Nimbus Air" in ig["message"]["text"]
    [wa] = wait_for(lambda: fake_graph.sends(DEFAULT_PHONE_NUMBER_ID))
    assert wa["to"] == "33612345678" and wa["type"] in ("text", "interactive")
    read = wait_for(lambda: fake_graph.typing(DEFAULT_PHONE_NUMBER_ID))
    assert read[0]["message_id"] == hello["id"] and read[0]["typing_indicator"] == {"type": "text"}


def test_staff_take_over_a_messenger_conversation_and_answer_with_the_human_agent_tag(
    live, fake_graph: FakeGraphAPI
) -> None:
    client, services = live
    _say(client, "Je veux parler à un conseiller")
    wait_for(lambda: fake_graph.sends(DEFAULT_PAGE_ID))
    from bots.desk.service import build_desk  # the console and the staff API both reply through the desk
    from bots.runtime import build_connectors_for
    from bots.staff.accounts import Accounts

    staff = Accounts(services.engine).add("ana@example.com", "agent", name="Ana")
    conversation = f"messenger:{PSID}"
    later = datetime.now(UTC) + timedelta(days=2)
    connectors = build_connectors_for(services)
    messenger = connectors["messenger"]
    assert isinstance(messenger, MessengerConnector)
    messenger.state.clock = lambda: later.timestamp()  # the customer wrote 2 days ago
    desk = build_desk(services.settings, services.redis, services.engine, connectors, clock=lambda: later)
    result = desk.reply(conversation, staff, "Bonjour, c'est Ana. Je regarde votre dossier.")
    assert result.status in ("sent", "delivered"), result
    last = fake_graph.sends(DEFAULT_PAGE_ID)[-1]
    assert last["messaging_type"] == "MESSAGE_TAG" and last["tag"] == "HUMAN_AGENT"
    assert last["message"]["text"] == "Bonjour, c'est Ana. Je regarde votre dossier."
    messenger.state.clock = time.time
    sent_before = len(fake_graph.sends(DEFAULT_PAGE_ID))
    _say(client, "Merci Ana")  # Ana has the conversation: the bot does not answer
    off = wait_for(lambda: [t for t in fake_graph.typing(DEFAULT_PAGE_ID) if t["sender_action"] == "typing_off"])
    assert off, "typing shown for a turn that sent nothing is taken back"
    assert len(fake_graph.sends(DEFAULT_PAGE_ID)) == sent_before


def test_opt_out_words_on_messenger_withdraw_consent_and_are_confirmed_in_french(
    live, fake_graph: FakeGraphAPI
) -> None:
    client, services = live
    from bots.privacy import ConsentBook, customer

    _say(client, "Bonjour")
    wait_for(lambda: fake_graph.sends(DEFAULT_PAGE_ID))
    _say(client, "Ne m'écrivez plus")
    replies = wait_for(lambda: fake_graph.sends(DEFAULT_PAGE_ID), count=2)
    assert len(replies) >= 2
    consents = ConsentBook(services.engine).current(customer("messenger", PSID))
    assert consents and not any(state.granted for state in consents.values()), consents


def test_a_resolved_whatsapp_cloud_conversation_gets_the_rating_as_a_list(live, fake_graph: FakeGraphAPI) -> None:
    client, services = live
    from bots.desk.service import build_desk
    from bots.runtime import build_connectors_for
    from bots.staff.accounts import Accounts

    hello = wa_message("33612345678", text={"body": "I want to talk to a person"})
    assert post_meta(client, whatsapp_body([hello])).status_code == 200
    wait_for(lambda: fake_graph.sends(DEFAULT_PHONE_NUMBER_ID))
    staff = Accounts(services.engine).add("ana@example.com", "agent", name="Ana")
    desk = build_desk(services.settings, services.redis, services.engine, build_connectors_for(services))
    conversation = "whatsapp_cloud:+33612345678"
    desk.reply(conversation, staff, "Hello, Ana here. Your refund was sent today.")
    desk.resolve(conversation, staff)
    sent = fake_graph.sends(DEFAULT_PHONE_NUMBER_ID)
    assert any(s.get("text", {}).get("body") == "Hello, Ana here. Your refund was sent today." for s in sent)
    rating = [s for s in sent if s.get("type") == "interactive"][-1]["interactive"]
    options = rating["action"]["sections"][0]["rows"] if rating["type"] == "list" else rating["action"]["buttons"]
    assert len(options) >= 3, rating
