"""A bot on real channels for the feedback tests: signed webhook requests parsed by the real
connectors, turns run by the real TurnRunner (channel bookkeeping, delivery, dead letters), the
real python-telegram-bot and twilio clients sending to fake APIs on 127.0.0.1, the staff desk
on the same stores. The keyword test NLU stands in for the classifier (fast, deterministic).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from bots.desk import Desk
from bots.dialogue.actions import load_actions
from bots.dialogue.build import build_privacy_step, feedback_policy
from bots.dialogue.domain import load_domain
from bots.dialogue.runtime import ConversationRuntime
from bots.dialogue.store import StateStore
from bots.handoff.modes import Modes
from bots.pipeline.deliverer import Deliverer
from bots.pipeline.dlq import DeadLetters
from bots.pipeline.handlers import TurnRunner
from bots.pipeline.ingest import keys_for
from bots.settings import Settings
from bots.settings.feedback import FeedbackSettings
from bots.settings.handoff import DAYS
from bots.settings.privacy import PrivacySettings
from bots.staff.accounts import Accounts, StaffMember
from connectors.base import Connector, WebhookRequest
from tests.connectors.conftest import (  # noqa: F401  (fixtures)
    Clock,
    clock,
    fake_telegram,
    fake_twilio,
    load_fixture,
    sms,
    telegram,
    telegram_request,
    twilio_request,
)
from tests.dialogue.rules_nlu import RulesNLU

from ..conftest import REPO

SECRET = "test-analytics-secret-0123456789"
DOMAIN = REPO / "bots" / "airline" / "domain.yml"
ALWAYS_STAFFED = {"business_hours": {d: ["00:00-24:00"] for d in DAYS}, "require_agent_online": False}
_updates = itertools.count(815500000)
_sids = itertools.count(1)


@dataclass
class Bot:
    """One deployment's moving parts, driven message by message."""

    settings: Settings
    engine: Engine
    redis: redis.Redis
    runtime: ConversationRuntime
    runner: TurnRunner
    desk: Desk
    connectors: dict[str, Connector]
    staff: StaffMember

    def receive(self, channel: str, request: WebhookRequest) -> None:
        """What the webhook and a worker do: parse (verify), then run the turn and deliver (the
        TurnRunner then runs ``TurnResult.after_delivery``: a deferred erasure)."""
        for inbound in self.connectors[channel].parse(request):
            self.runner.run(inbound)

    # -- Telegram -------------------------------------------------------------------------------
    def telegram_says(self, chat_id: int, text: str) -> None:
        update = copy.deepcopy(load_fixture("telegram_message_text"))
        update["update_id"] = next(_updates)
        update["message"]["message_id"] = update["update_id"] % 100000
        update["message"]["text"] = text
        update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
        self.receive("telegram", telegram_request(update))

    def telegram_presses(self, chat_id: int, callback_data: str) -> None:
        press = copy.deepcopy(load_fixture("telegram_callback_query"))
        press["update_id"] = next(_updates)
        press["callback_query"]["id"] = f"cb{press['update_id']}"
        press["callback_query"]["data"] = callback_data
        press["callback_query"]["message"]["chat"]["id"] = chat_id
        press["callback_query"]["from"]["id"] = chat_id
        self.receive("telegram", telegram_request(press))

    # -- SMS ------------------------------------------------------------------------------------
    def sms_says(self, number: str, text: str) -> None:
        sid = f"SM{next(_sids):032x}"
        form = dict(load_fixture("twilio_sms_text"), Body=text, From=number, MessageSid=sid, SmsSid=sid)
        form["SmsMessageSid"] = sid
        self.receive("sms", twilio_request(form))


@pytest.fixture
def make_bot(make_settings, redis_client, sql_engine, telegram, sms) -> Iterator[Callable[..., Bot]]:  # noqa: F811  (fixtures)
    def make(engine: Engine | None = None, defer_erasure: bool = False, **feedback: Any) -> Bot:
        settings = make_settings({"dialogue": {"domain_file": str(DOMAIN)}, "handoff": ALWAYS_STAFFED})
        eng = engine if engine is not None else sql_engine
        connectors: dict[str, Connector] = {"telegram": telegram, "sms": sms}
        domain = load_domain(settings)
        privacy = PrivacySettings(analytics_secret=SECRET)
        fb = FeedbackSettings(**feedback)
        step = build_privacy_step(
            settings, redis_client, eng, domain, privacy=privacy, feedback=fb, defer_erasure=defer_erasure
        )
        d = settings.dialogue
        runtime = ConversationRuntime(
            settings=settings,
            redis=redis_client,
            engine=eng,
            nlu=RulesNLU(),
            actions=load_actions(d.actions_module, settings, d.actions_options, d.action_timeout_seconds),
            domain=domain,
            privacy=step,
        )
        dead = DeadLetters(redis_client, keys_for(settings))
        deliverer = Deliverer.from_settings(redis_client, eng, settings, connectors, dead, sleep=lambda _s: None)
        runner = TurnRunner(runtime.handle, deliverer, dead, sleep=lambda _s: None)
        store = StateStore(redis_client, prefix=settings.stores.key_prefix)
        desk = Desk(
            settings,
            eng,
            store,
            Modes(store, eng),
            deliverer,
            redis_client,
            domain,
            connectors,
            feedback=feedback_policy(settings, domain, privacy, fb),
        )
        staff = Accounts(eng).add(f"ana{next(_sids)}@nimbus.example", "agent", name="Ana")
        return Bot(settings, eng, redis_client, runtime, runner, desk, connectors, staff)

    yield make
