"""Fixtures of the API tests: a Flask app with staff auth and the API, a desk, a real dialogue runtime."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bots.desk import Desk
from bots.dialogue.runtime import ConversationRuntime, build_runtime
from bots.pipeline.handlers import TurnRunner
from bots.services import Services
from bots.settings.handoff import DAYS
from bots.staff.accounts import Accounts
from bots.staff.web_auth import init_auth
from bots.web import api
from tests.desk.conftest import desk_config, make_desk
from tests.pipeline.fake_channel import FakeChannelServer, FakeConnector


@pytest.fixture(scope="session")
def demo_nlu(demo_nlu_dir: Path) -> Any:
    import nlu

    return nlu.NLU.load(demo_nlu_dir, ["en", "fr"], "en")


@dataclass
class World:
    client: FlaskClient
    desk: Desk
    runtime: ConversationRuntime
    runner: TurnRunner
    channel: FakeChannelServer
    accounts: Accounts
    tokens: dict[str, str]

    def auth(self, who: str = "ana") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def world(make_settings, redis_client, sql_engine, redis_url, demo_nlu, tmp_path) -> Iterator[World]:
    settings = make_settings(
        desk_config(
            dialogue={
                "actions_module": "bots.airline.actions",
                "actions_options": {"database": str(tmp_path / "airline.db")},
            },
            # staffed around the clock, nobody needs to be online: a request for a person always queues
            handoff={"require_agent_online": False, "business_hours": {d: ["00:00-24:00"] for d in DAYS}},
        )
    )
    channel = FakeChannelServer().start()
    connectors = {"fake": FakeConnector(channel.url)}
    services = Services(settings, redis_client, sql_engine, redis_url)
    runtime = build_runtime(services, nlu=demo_nlu)
    desk = make_desk(settings, redis_client, sql_engine, connectors, lambda: datetime.now(UTC))
    runner = TurnRunner(runtime.handle, desk.deliverer, desk.deliverer.dead_letters, sleep=lambda _s: None)
    accounts = Accounts(sql_engine)
    tokens = {}
    for who, role in [("ana", "agent"), ("bob", "admin"), ("ivy", "analyst")]:
        accounts.add(f"{who}@nimbus.example", role, name=who.title())
        tokens[who] = accounts.issue_token(f"{who}@nimbus.example")
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret", TESTING=True)
    init_auth(app, settings, redis_url, accounts)
    api.register(app, services, desk, accounts)
    yield World(app.test_client(), desk, runtime, runner, channel, accounts, tokens)
    channel.stop()
