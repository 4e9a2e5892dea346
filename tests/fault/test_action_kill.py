"""Kill -9 a worker in the middle of a seat change: the seat changes once, the customer hears the truth.

The worker is a real ``brandbot worker`` process running the real dialogue (the airline's
flows and actions, the keyword NLU of the dialogue tests instead of the trained model, so
it starts in a second), replying to a fake channel. Its booking system pauses right after
the seat change is committed, before the turn is saved or answered; the test kills the
worker there. A second worker redoes the turn: the seat change runs again with the same
idempotency key, the backend returns the first outcome instead of writing again, and the
customer gets one reply, saying the new seat.

This module is also the worker's ``--pipeline`` (:func:`build`) and its
``dialogue.actions_module`` (the airline's actions over :class:`PausingAirline`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from bots.airline.actions import (  # noqa: F401 - the worker's actions module re-exports the airline's actions
    booking_status,
    cancel_booking,
    change_seat,
    check_cancellable,
    check_seat,
    flight_status,
    travel_details,
    verify_identity,
)
from bots.airline.backend import Booking, SQLiteAirline
from bots.pipeline import GROUP, Ingest, keys_for
from connectors.base import Inbound
from tests.support import BRANDBOT, REPO, FakeChannelServer, FakeConnector, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOMAIN = REPO / "bots" / "airline" / "domain.yml"
PIPELINE = f"{__name__}:build"
KEY = "fake:m3:change_seat:change_seat"


# ---------------------------------------------------------------- the worker side
class PausingAirline(SQLiteAirline):
    """The demo backend; the first seat change, once committed, creates ``pause_file`` and hangs
    (the test kills the process then). Later ones (the redo) do not pause."""

    def __init__(self, path: Path, pause_file: Path) -> None:
        super().__init__(path)
        self.pause_file = pause_file

    def change_seat(self, ref: str, seat: str, **kw: Any) -> Booking:
        booking = super().change_seat(ref, seat, **kw)
        if not self.pause_file.exists():
            self.pause_file.write_text(str(os.getpid()))
            time.sleep(120)
        return booking


def make_api(settings: Any, options: dict[str, Any]) -> PausingAirline:
    return PausingAirline(Path(options["database"]), Path(options["pause_file"]))


def build(services: Any) -> Any:
    """``--pipeline``: the real dialogue pipeline, keyword NLU, replies to $FAKE_CHANNEL_URL."""
    from bots.runtime import build_pipeline
    from tests.dialogue.rules_nlu import RulesNLU

    services.connectors = {"fake": FakeConnector(os.environ["FAKE_CHANNEL_URL"], channel="fake")}
    return build_pipeline(services, nlu=RulesNLU())


# ---------------------------------------------------------------- the test side
def start(config: Path, fake_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    env["FAKE_CHANNEL_URL"] = fake_url
    with open(log, "ab") as out:  # the child has its own copy of the descriptor
        return subprocess.Popen(
            [*BRANDBOT, "--config", str(config), "worker", "--pipeline", PIPELINE],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=out,
        )


def said(inbound_id: int, text: str) -> Inbound:
    return Inbound(channel="fake", sender_id="c1", conversation_id="fake:c1", message_id=f"m{inbound_id}", text=text)


def seat_writes(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT ref, old, new FROM seat_writes ORDER BY rowid").fetchall()


def applied_keys(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT key FROM applied_requests ORDER BY key")]


def answers_to(server: FakeChannelServer, inbound_id: int) -> list[dict[str, Any]]:
    """What the customer received in reply to inbound ``m<inbound_id>``."""
    return [m for m in list(server.sent) if m["key"].startswith(f"fake:m{inbound_id}:")]


def pending(client: redis.Redis, settings: Any) -> int:
    total = 0
    for stream in keys_for(settings).all_streams():
        with contextlib.suppress(redis.ResponseError):
            total += client.xpending(stream, GROUP)["pending"]
    return total


def test_kill_9_right_after_the_seat_change_commits_changes_it_once_and_tells_the_truth(
    write_config, make_settings, redis_client, redis_url, sqlite_url, sql_engine, tmp_path: Path
) -> None:
    db, pause = tmp_path / "airline.db", tmp_path / "committed"
    SQLiteAirline(db)  # seeded; a trigger logs every write of a seat, whoever makes it
    with sqlite3.connect(db) as conn:
        conn.executescript(
            "CREATE TABLE seat_writes (ref TEXT, old TEXT, new TEXT);"
            "CREATE TRIGGER log_seat AFTER UPDATE OF seat ON bookings "
            "BEGIN INSERT INTO seat_writes VALUES (new.ref, old.seat, new.seat); END;"
        )
    config = write_config(
        {
            "stores": {"redis_url": redis_url, "database_url": sqlite_url},
            "channels": {"webchat": {"enabled": False}},
            "server": {"log_level": "WARNING"},
            "feedback": {"ask_consent": "never"},  # one reply to the seat change, no consent question after it
            "pipeline": {
                "shards": 4,
                "claim_idle_ms": 500,
                "lease_ms": 400,
                "idle_poll_ms": 5,
                "send_backoff_initial": 0.01,
                "send_backoff_max": 0.05,
            },
            "dialogue": {
                "domain_file": str(DOMAIN),
                "actions_module": __name__,
                "actions_options": {"database": str(db), "pause_file": str(pause)},
                "action_timeout_seconds": 3,
                "lock_ttl_seconds": 6,
            },
        },
        name="worker.yaml",
    )
    settings = make_settings({"pipeline": {"shards": 4}})
    server = FakeChannelServer().start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        Ingest(redis_client, settings).accept(
            [said(0, "change my seat on booking X7K9QZ"), said(1, "Dupont"), said(2, "15C"), said(3, "yes")]
        )
        victim = start(config, server.url, tmp_path / "victim.log")
        procs.append(victim)
        wait_for(pause.exists, 40, "the first worker to commit the seat change")
        victim.send_signal(signal.SIGKILL)
        victim.wait(5)
        killed_at = time.monotonic()
        assert seat_writes(db) == [("X7K9QZ", "14C", "15C")], "committed before the kill"
        assert not answers_to(server, 3), "killed before it answered"

        rescuer = start(config, server.url, tmp_path / "rescuer.log")
        procs.append(rescuer)
        wait_for(lambda: bool(answers_to(server, 3)), 40, "the redone turn's reply")
        redone_in = time.monotonic() - killed_at
        time.sleep(0.5)  # any duplicate would arrive now
        replies = answers_to(server, 3)
        assert [m["key"] for m in replies] == ["fake:m3:0"], "one reply to the confirmation"
        assert "now 15C" in replies[0]["text"], replies[0]["text"]
        assert not [m for m in server.sent if "isn't answering" in m["text"]], "nobody was told it failed"
        assert seat_writes(db) == [("X7K9QZ", "14C", "15C")], "the seat was written once"
        assert applied_keys(db) == [KEY]
        assert SQLiteAirline(db).find_booking("X7K9QZ").seat == "15C"
        wait_for(lambda: pending(redis_client, settings) == 0, 10, "nothing left pending")
        print(
            f"\naction kill: seat writes {len(seat_writes(db))}, replies to the confirmation {len(replies)}, "
            f"redone and answered {redone_in:.1f}s after the kill: {replies[0]['text']!r}"
        )
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        server.stop()
