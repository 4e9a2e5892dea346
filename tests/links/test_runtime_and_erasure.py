"""A reply through the real runtime gets its allow-listed URL tracked once (a redo: the same code),
and erasing the customer removes their link rows and the clicks on them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bots.dialogue.actions import load_actions
from bots.dialogue.runtime import ConversationRuntime
from bots.links.clicks import Click, record_click
from bots.links.shortener import Shortener
from bots.links.tables import link_clicks, links
from bots.pipeline.ingest import keys_for
from bots.privacy.customer import customer
from bots.privacy.erasure import erase
from bots.privacy.export import export, to_json
from bots.privacy.pseudonyms import Pseudonyms
from bots.stores.models import messages
from tests.dialogue.conftest import DOMAIN, inbound
from tests.dialogue.rules_nlu import RulesNLU

from .conftest import BASE, CHROME, LINKS, NOW

pytestmark = pytest.mark.integration

BAGGAGE = "https://www.nimbus.test/baggage?lang=en"


@pytest.fixture
def runtime_settings(make_settings, tmp_path: Path):
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    domain["faq"]["greet"]["text"]["en"] = f"Hello! Baggage rules: {BAGGAGE}. Elsewhere: https://evil.test/x."
    path = tmp_path / "domain.yml"
    path.write_text(yaml.safe_dump(domain), encoding="utf-8")
    for name in domain.get("include", []):  # the files it includes, next to it
        (tmp_path / name).write_text((DOMAIN.parent / name).read_text(encoding="utf-8"), encoding="utf-8")
    dialogue = {
        "domain_file": str(path),
        "actions_module": "bots.airline.actions",
        "actions_options": {"database": str(tmp_path / "airline.db")},
        "action_timeout_seconds": 2,
    }
    return make_settings({"dialogue": dialogue, "links": LINKS})


def make_runtime(settings, redis_client, sql_engine) -> ConversationRuntime:
    d = settings.dialogue
    actions = load_actions(d.actions_module, settings, d.actions_options, d.action_timeout_seconds)
    return ConversationRuntime(
        settings=settings, redis=redis_client, engine=sql_engine, nlu=RulesNLU(), actions=actions, clock=lambda: NOW
    )


def test_a_reply_gets_its_url_tracked_once_and_a_redone_turn_the_same_code(
    runtime_settings, redis_client, sql_engine
) -> None:
    first = make_runtime(runtime_settings, redis_client, sql_engine).handle(inbound("hello", "test:9", "m1"))
    text = first.outbounds[0].text
    with sql_engine.connect() as conn:
        row = conn.execute(select(links)).one()
    assert text == f"Hello! Baggage rules: {BASE}/l/{row.code}. Elsewhere: https://evil.test/x."
    assert (row.target, row.conversation_id, row.channel, row.campaign) == (BAGGAGE, "test:9", "test", "replies")
    # the turn is redone from scratch (the worker died before saving the state): same text, no new row
    redis_client.flushdb()
    redone = make_runtime(runtime_settings, redis_client, sql_engine).handle(inbound("hello", "test:9", "m1"))
    assert not redone.replayed and redone.outbounds[0].text == text
    with sql_engine.connect() as conn:
        assert conn.execute(select(links.c.code)).scalars().all() == [row.code]
        sent = conn.execute(select(messages.c.text).where(messages.c.direction == "out")).scalars().all()
    assert sent and all(t == text for t in sent)


def test_erasure_removes_the_customers_links_and_their_clicks(links_settings, redis_client, sql_engine) -> None:
    shortener = Shortener(sql_engine, links_settings.links, links_settings.server.secret_key)
    who, other = customer("telegram", "555"), customer("telegram", "777")
    mine = shortener.shorten(BAGGAGE, channel="telegram", conversation_id=who.conversation_id, now=NOW)
    theirs = shortener.shorten(BAGGAGE, channel="telegram", conversation_id=other.conversation_id, now=NOW)
    for code in (mine, theirs):
        assert record_click(sql_engine, Click(code, CHROME, has_cookie=False, referrer_less=True, at=NOW)) is True
    keys, pseudonyms = keys_for(links_settings), Pseudonyms(links_settings.privacy.analytics_secret)
    doc = export(who, engine=sql_engine, client=redis_client, keys=keys, pseudonyms=pseudonyms)
    assert mine in to_json(doc) and theirs not in to_json(doc)
    report = erase(
        who,
        engine=sql_engine,
        client=redis_client,
        keys=keys,
        pseudonyms=pseudonyms,
        actor="test",
    )
    assert report.removed["sql:links"] == 1 and report.removed["sql:link_clicks"] == 1
    with sql_engine.connect() as conn:
        assert conn.execute(select(links.c.code)).scalars().all() == [theirs]
        assert conn.execute(select(link_clicks.c.code)).scalars().all() == [theirs]
