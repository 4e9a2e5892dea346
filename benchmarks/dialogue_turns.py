"""Dialogue runtime speed: turns per second with real Redis, and Redis round trips per turn.

    .venv/bin/python benchmarks/dialogue_turns.py                # ~1000 turns, fixed NLU results
    .venv/bin/python benchmarks/dialogue_turns.py --trained-nlu  # the real NLU too (trains to a temp dir)
    .venv/bin/python benchmarks/dialogue_turns.py --json         # also print the JSON on stdout (for CI trends)

Writes benchmarks/results/dialogue_turns.json (``--out FILE`` elsewhere).

Redis: $REDIS_URL if set, else an embedded redis-server on a free TCP port.
SQL: a temp SQLite file (the transcript is written on every turn, as in production).

Each simulated customer has a 5-turn conversation: greeting, booking status
(an action reading the demo database), a baggage FAQ, a seat change with both
slots in one message (check action + confirmation), and "yes" (the change action).

Round trips are counted by a redis-py connection class that counts every
``send_packed_command`` (one per command, or one per pipeline / Lua script call).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis
from redis.connection import Connection

from bots.dialogue.engine import Engine
from bots.dialogue.runtime import ConversationRuntime, build_runtime
from bots.dialogue.state import DialogueState
from bots.services import Services
from bots.settings import load_settings
from bots.stores.sql import make_engine
from common import ROOT, default_out, write_result
from connectors.base import Inbound
from nlu.result import Entity, IntentScore, NLUResult
from tests.support import start_embedded_redis


class CountingConnection(Connection):
    """A redis-py connection that counts round trips (one per packed send)."""

    lock = threading.Lock()
    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        with CountingConnection.lock:
            CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


def _nlu(text: str, intent: str, lang: str = "en", **ents: str) -> NLUResult:
    e = tuple(Entity(t, v, v, 0, len(v)) for t, v in ents.items())
    return NLUResult(text, lang, intent, 0.97, (IntentScore(intent, 0.97),), e)


class FixedNLU:
    """Returns precomputed results (measures the dialogue, not the classifier)."""

    def __init__(self) -> None:
        self.table: dict[str, NLUResult] = {}

    def add(self, r: NLUResult) -> None:
        self.table[r.text] = r

    def parse(self, text: str, language_hint: str | None = None, context: Any = None) -> NLUResult:
        return self.table[text]


def script(i: int) -> list[NLUResult]:
    seat = f"{3 + i % 27}{'ABDEF'[i // 27 % 5]}"
    return [
        _nlu("hello", "greet"),
        _nlu("status of booking X7K9QZ", "booking_status", booking_ref="X7K9QZ"),
        _nlu("baggage allowance?", "baggage_info"),
        _nlu(f"move me to {seat} on X7K9QZ", "change_seat", booking_ref="X7K9QZ", seat=seat),
        _nlu("yes", "affirm"),
    ]


def build(tmp: Path, redis_url: str, nlu: Any) -> tuple[ConversationRuntime, redis.Redis]:
    cfg = tmp / "config.yaml"
    cfg.write_text(
        json.dumps(
            {
                "brand": {
                    "name": "Bench Air",
                    "timezone": "Europe/Paris",
                    "languages": ["en", "fr"],
                    "default_language": "en",
                },
                "stores": {
                    "redis_url": redis_url,
                    "database_url": f"sqlite:///{tmp / 'bench.db'}",
                    "key_prefix": "bench",
                },
                "dialogue": {
                    "domain_file": str(ROOT / "bots/airline/domain.yml"),
                    "actions_options": {"database": str(tmp / "airline.db")},
                },
            }
        ),
        encoding="utf-8",
    )
    settings = load_settings(cfg, env={})
    pool = redis.ConnectionPool.from_url(redis_url, connection_class=CountingConnection)
    client = redis.Redis(connection_pool=pool)
    services = Services(settings, client, make_engine(settings.database_url), redis_url)
    return build_runtime(services, nlu=nlu), client  # the default clock: real UTC time


def bench_engine(rt: ConversationRuntime, conversations: int) -> float:
    """Pure policy turns/s (no Redis, no SQL, actions answered in memory)."""
    from bots.dialogue.actions import ActionResult

    policy: Engine = rt.policy
    logging.disable(logging.WARNING)  # the in-memory action answers leave template variables empty
    msgs = [script(i) for i in range(conversations)]
    t0 = time.perf_counter()
    n = 0
    for conv in msgs:
        st = DialogueState.fresh("c")
        for m in conv:
            out = policy.turn(st, m)
            while out.action:
                out = policy.resume(out, out.action, ActionResult(slots={"current_seat": "14C", "passenger": "C D"}))
            st = out.state
            n += 1
    rate = n / (time.perf_counter() - t0)
    logging.disable(logging.NOTSET)
    return rate


def bench_runtime(
    rt: ConversationRuntime, client: redis.Redis, nlu: Any, conversations: int, threads: int, fixed: bool
) -> dict[str, Any]:
    per_conv = [script(i) for i in range(conversations)]
    if fixed:
        for conv in per_conv:
            for m in conv:
                nlu.add(m)
    client.flushdb()
    rt.handle(Inbound("bench", "warm", "bench:warm", "w0", "hello"))  # loads the Lua scripts once
    latencies: list[float] = []
    lock = threading.Lock()

    def work(idx: list[int]) -> None:
        mine: list[float] = []
        for i in idx:
            for k, m in enumerate(per_conv[i]):
                t = time.perf_counter()
                rt.handle(Inbound("bench", f"u{i}", f"bench:{i}", f"{i}-{k}", m.text))
                mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)

    CountingConnection.sent = 0
    chunks = [list(range(conversations))[j::threads] for j in range(threads)]
    ts = [threading.Thread(target=work, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    turns = len(latencies)
    latencies.sort()
    return {
        "threads": threads,
        "turns": turns,
        "turns_per_second": round(turns / elapsed, 1),
        "redis_round_trips_per_turn": round(CountingConnection.sent / turns, 3),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p95_ms": round(1000 * latencies[int(0.95 * (turns - 1))], 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--conversations", type=int, default=200, help="simulated customers (5 turns each)")
    ap.add_argument("--threads", type=int, default=4, help="worker threads for the parallel run")
    ap.add_argument("--trained-nlu", action="store_true", help="also measure with the real NLU (trains first)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--out", type=Path, default=default_out("dialogue_turns"), help="write the results as JSON here")
    args = ap.parse_args()

    embedded = None
    url = os.environ.get("REDIS_URL")
    with tempfile.TemporaryDirectory(prefix="bb-bench-") as tmpdir:
        tmp = Path(tmpdir)
        if not url:
            embedded = start_embedded_redis(tmp)
            url = embedded.url
        try:
            nlu = FixedNLU()
            rt, client = build(tmp, url, nlu)
            report: dict[str, Any] = {"redis": "embedded" if embedded else "REDIS_URL", "sql": "sqlite (temp file)"}
            report["engine_only_turns_per_second"] = round(bench_engine(rt, args.conversations), 1)
            report["runtime_1_thread"] = bench_runtime(rt, client, nlu, args.conversations, 1, True)
            report[f"runtime_{args.threads}_threads"] = bench_runtime(
                rt, client, nlu, args.conversations, args.threads, True
            )
            if args.trained_nlu:
                import nlu as nlu_pkg

                model = tmp / "nlu"
                nlu_pkg.train(ROOT / "bots/airline/nlu", model, ["en", "fr"], seed=42)
                real = nlu_pkg.NLU.load(model, ["en", "fr"], "en")
                rt2, client2 = build(tmp, url, real)
                report["runtime_with_trained_nlu_1_thread"] = bench_runtime(
                    rt2, client2, real, max(20, args.conversations // 4), 1, False
                )
        finally:
            if embedded:
                embedded.stop()
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print(f"{k:40s} {v}")
    write_result(
        args.out,
        report,
        conversations=args.conversations,
        threads=args.threads,
        trained_nlu=args.trained_nlu,
        turns_per_conversation=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
