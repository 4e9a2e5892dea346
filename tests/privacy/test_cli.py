"""``brandbot forget``, ``brandbot export --json`` and ``brandbot retention run`` on real Redis and SQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bots.cli._state import CliState
from bots.cli.privacy import COMMANDS
from bots.dialogue.store import StateStore
from bots.dialogue.transcript import record_turn
from bots.privacy import ConsentBook, customer
from bots.privacy.tables import consent_events, erasures
from bots.stores.models import messages
from bots.stores.sql import make_engine
from connectors.base import Inbound, Outbound

from .conftest import FEEDBACK_WORDING, SECRET

pytestmark = pytest.mark.integration

ANA = customer("sms", "+33612345678")
cli = click.Group("brandbot", commands=COMMANDS)


@pytest.fixture
def run(write_config, redis_url, sqlite_url, sql_engine, monkeypatch):
    """Invoke a privacy command as ``brandbot --config FILE ...`` would (before it is registered in main)."""
    monkeypatch.setenv("BRANDBOT_ANALYTICS_SECRET", SECRET)
    cfg = write_config({"stores": {"redis_url": redis_url, "database_url": sqlite_url}})

    def invoke(*args: str, answer: str | None = None, config=cfg):
        return CliRunner().invoke(cli, list(args), obj=CliState(str(config)), input=answer)

    return invoke


def talk(engine, redis_client, who=ANA, when: datetime | None = None, n: int = 1) -> None:
    """A turn's durable and live traces: transcript rows, dialogue state, a consent."""
    now = when or datetime.now(UTC)
    inbound = Inbound(who.channel, who.id, who.conversation_id, f"SM{n}", "Hello, my booking is X7K9QZ", timestamp=now)
    reply = Outbound(who.channel, who.id, "Hello!", idempotency_key=f"sms:SM{n}:0", conversation_id=who.conversation_id)
    record_turn(engine, inbound, [reply], None, "en", "bot", now)
    store = StateStore(redis_client, "bb")
    lease = store.acquire(who.conversation_id)
    store.save(lease, lease.state)
    ConsentBook(engine).grant(who, "feedback_analytics", how="button", wording=FEEDBACK_WORDING)


def table_rows(output: str) -> dict[str, int]:
    """The rows of the rich table printed by a command: name -> count."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 2 and cells[1].isdigit():
            rows[cells[0]] = int(cells[1])
    return rows


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_forget_asks_first_then_erases_and_prints_what_it_removed(run, sql_engine, redis_client) -> None:
    talk(sql_engine, redis_client)
    declined = run("forget", "--channel", "sms", "--id", "+33 6 12 34 56 78", answer="n\n")
    assert declined.exit_code == 1 and "Erase everything about sms customer +33612345678" in declined.output
    assert count(sql_engine, messages) == 2 and redis_client.exists("bb:{sms:+33612345678}:state")

    done = run("forget", "--channel", "SMS", "--id", "0033612345678", "--yes")
    assert done.exit_code == 0, done.output
    removed = table_rows(done.output)
    assert removed["sql:messages"] == 2 and removed["sql:consent_events"] == 1 and removed["sql:conversations"] == 1
    assert removed["redis:conversation keys"] == 1 and removed["total"] == sum(removed.values()) - removed["total"]
    assert count(sql_engine, messages) == 0 and count(sql_engine, consent_events) == 0
    assert not redis_client.exists("bb:{sms:+33612345678}:state")
    assert count(sql_engine, erasures) == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--channel", "fax", "--id", "1"], "unknown channel 'fax'; valid channels: telegram, whatsapp, sms, webchat"),
        (["--channel", "sms", "--id", "06 12 34 56 78"], "start with + and the country code"),
        (["--channel", "whatsapp", "--id", "+33 6 AB"], "only digits may follow the +"),
    ],
)
def test_a_bad_channel_or_number_is_refused_with_the_reason(run, args, error) -> None:
    for command in ("forget", "export"):
        out = run(command, *args, "--yes" if command == "forget" else "--json")
        assert out.exit_code == 2 and error in " ".join(out.output.split()), out.output


def test_export_json_prints_the_whole_document(run, sql_engine, redis_client) -> None:
    talk(sql_engine, redis_client)
    out = run("export", "--channel", "sms", "--id", "+33612345678", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["profile"] | {"conversations": None} == {
        "channel": "sms",
        "id": "+33612345678",
        "conversation_id": "sms:+33612345678",
        "conversations": None,
    }
    assert [m["text"] for m in doc["messages"]] == ["Hello, my booking is X7K9QZ", "Hello!"]
    assert doc["consents"]["history"][0]["wording"] == FEEDBACK_WORDING.text
    assert "bb:{sms:+33612345678}:state" in doc["redis"]
    summary = run("export", "--channel", "sms", "--id", "+33612345678")
    assert summary.exit_code == 0 and "add --json for the whole document" in summary.output


def test_retention_dry_run_counts_then_run_removes(run, sql_engine, redis_client) -> None:
    old = datetime.now(UTC) - timedelta(days=400)
    talk(sql_engine, redis_client, when=old, n=1)
    talk(sql_engine, redis_client, customer("sms", "+33698765432"), n=2)
    dry = run("retention", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "retention dry run" in dry.output and count(sql_engine, messages) == 4
    would = table_rows(dry.output)
    assert would["messages"] == 2 and would["conversations"] == 1 and would["feedback_signals"] == 0
    done = run("retention", "run")
    assert done.exit_code == 0, done.output
    assert table_rows(done.output) == would
    assert count(sql_engine, messages) == 2, "the other customer's recent turn stays"
    assert "messages: older than" in done.output


def test_the_development_analytics_secret_is_refused_in_production(
    run, write_config, redis_url, sqlite_url, monkeypatch
) -> None:
    monkeypatch.delenv("BRANDBOT_ANALYTICS_SECRET")
    prod = write_config(
        {
            "server": {"environment": "production", "secret_key": "a-real-session-secret-0123456789"},
            "stores": {"redis_url": redis_url, "database_url": sqlite_url},
        },
        name="prod.yaml",
    )
    out = run("retention", "run", "--dry-run", config=prod)
    assert out.exit_code == 2 and "BRANDBOT_ANALYTICS_SECRET" in out.output


def test_an_unmigrated_database_is_named_with_the_fix(run, write_config, redis_url, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    make_engine(url).dispose()
    cfg = write_config({"stores": {"redis_url": redis_url, "database_url": url}}, name="empty.yaml")
    out = run("export", "--channel", "telegram", "--id", "42", "--json", config=cfg)
    assert out.exit_code == 2 and "run `brandbot db upgrade` first" in out.output


def test_an_unreachable_redis_is_named_not_a_traceback(run, write_config, sqlite_url) -> None:
    from bots.stores.redis_client import free_port

    cfg = write_config(
        {"stores": {"redis_url": f"redis://127.0.0.1:{free_port()}/0", "database_url": sqlite_url}}, name="r.yaml"
    )
    out = run("forget", "--channel", "telegram", "--id", "42", "--yes", config=cfg)
    assert out.exit_code == 2 and "unreachable" in out.output and "Traceback" not in out.output
