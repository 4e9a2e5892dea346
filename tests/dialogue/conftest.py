"""Fixtures of the dialogue tests: airline settings, a runtime on real Redis + SQLite, inbound builders."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bots.dialogue.actions import load_actions
from bots.dialogue.runtime import ConversationRuntime
from bots.settings import Settings
from bots.settings.handoff import DAYS
from connectors.base import Inbound, InboundKind

from .rules_nlu import RulesNLU

REPO = Path(__file__).resolve().parents[2]
DOMAIN = REPO / "bots" / "airline" / "domain.yml"


#: staff always there (any time, nobody need be signed in): a handoff always goes to the queue.
ALWAYS_STAFFED = {"business_hours": {d: ["00:00-24:00"] for d in DAYS}, "require_agent_online": False}


@pytest.fixture
def airline_settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Callable[..., Settings]:
    """Settings of the example airline, its demo database in the test's temp folder.

    ``handoff`` (a dict) replaces the test default, which is :data:`ALWAYS_STAFFED`
    (``handoff={}``: the config defaults, business hours and a signed-in agent required).
    """

    def make(handoff: dict[str, Any] | None = None, **dialogue: Any) -> Settings:
        section = {
            "domain_file": str(DOMAIN),
            "actions_module": "bots.airline.actions",
            "actions_options": {"database": str(tmp_path / "airline.db")},
            "action_timeout_seconds": 2,
        }
        section.update(dialogue)
        return make_settings({"dialogue": section, "handoff": ALWAYS_STAFFED if handoff is None else handoff})

    return make


@pytest.fixture
def make_runtime(airline_settings, redis_client, sql_engine) -> Callable[..., ConversationRuntime]:
    def make(
        nlu: Any = None,
        settings: Settings | None = None,
        actions: Any = None,
        clock: Callable[[], datetime] | None = None,
        **dialogue: Any,
    ) -> ConversationRuntime:
        s = settings or airline_settings(**dialogue)
        d = s.dialogue
        registry = actions or load_actions(d.actions_module, s, d.actions_options, d.action_timeout_seconds)
        return ConversationRuntime(
            settings=s, redis=redis_client, engine=sql_engine, nlu=nlu or RulesNLU(), actions=registry, clock=clock
        )

    return make


@pytest.fixture
def runtime(make_runtime) -> ConversationRuntime:
    return make_runtime()


_ids = itertools.count(1)


def inbound(
    text: str = "",
    conv: str = "test:c1",
    message_id: str | None = None,
    payload: str | None = None,
    kind: InboundKind = "message",
    channel: str = "test",
) -> Inbound:
    """An inbound message from the test channel."""
    return Inbound(
        channel=channel,
        sender_id=conv.split(":", 1)[-1],
        conversation_id=conv,
        message_id=message_id or f"m{next(_ids)}",
        text=text,
        payload=payload,
        kind=kind,
    )


@pytest.fixture(scope="session")
def trained_model_dir(demo_nlu_dir: Path) -> Path:
    """The real NLU trained once per session from the airline's data (shared with other suites)."""
    return demo_nlu_dir


@pytest.fixture(scope="session")
def trained_nlu(trained_model_dir: Path) -> Any:
    import nlu

    return nlu.NLU.load(trained_model_dir, ["en", "fr"], "en")
