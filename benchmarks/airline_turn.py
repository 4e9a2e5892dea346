"""The real airline turn against the echo turn, same run, same load: replies/s and latency, and their ratio.

    .venv/bin/python benchmarks/airline_turn.py                  # 3 runs, defaults below (~2-3 minutes)
    .venv/bin/python benchmarks/airline_turn.py --runs 3 --burst 300 --paced 150 --rate 10

Path measured, for both turns: signed Twilio WhatsApp webhook -> ``brandbot serve`` (gunicorn:
verify, parse, dedupe, XADD) -> ``--workers`` ``brandbot worker`` process(es) (lease a shard,
XREADGROUP, the turn, HTTP send to a fake channel API, deliveries row in SQLite, "sent" mark, XACK).
The two turns:

- echo: ``tests.pipeline.fake_pipeline`` (replies with the text; what ``pipeline_e2e.py`` measures);
- airline: ``benchmarks.airline_pipeline`` = the product's ``bots.runtime.build_pipeline``: the demo
  NLU trained from ``bots/airline/nlu`` (en + fr, seed 42, trained once before the runs),
  the dialogue runtime with ``bots/airline/domain.yml`` and ``bots.airline.actions`` (the demo
  SQLite booking system), the SQL transcript, then the send. Only the connector is the fake one.

The load is a fixed list of customer messages (one-message customers and multi-turn
conversations: booking and flight status, FAQs, a seat change with its confirmation, French
customers, out-of-scope questions), assigned to distinct senders and ordered by turn
(every customer's first message, then every second message, ...). Per run and per turn:

- drain: ``--burst`` webhooks are enqueued with no worker running, then the workers start;
  replies/s = handled messages / (last first-reply - first first-reply).
- paced: ``--paced`` webhooks at ``--rate``/s with the workers running; p50/p99 from the webhook
  being sent to the fake channel receiving the message's first reply.

The order of the two turns alternates between runs (echo first in runs 1 and 3). Each run checks
every message got at least one reply. Everything runs on this machine (127.0.0.1).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from common import ROOT, default_out, mean_std, nlu_data_state, write_result
from pipeline_common import SID, TO, TOKEN, app_server, load, write_config
from tests.support import (
    FakeChannelServer,
    free_port,
    signed_twilio_form,
    start_embedded_redis,
    start_worker,
    stop_processes,
    temp_folder,
)
from tests.support.processes import BRANDBOT, _env

AIRLINE_PIPELINE = "benchmarks.airline_pipeline:build"

#: customers who send one message
SINGLES = [
    "hi there",
    "what's the status of my booking X7K9QZ, surname Dupont",
    "is flight NM452 on time?",
    "how many bags can I take in the cabin",
    "when does online check-in open",
    "what time does NM1234 leave tomorrow",
    "bonjour, où en est ma réservation H5NB6E ?",
    "my flight NM780 was cancelled, what now",
    "can you recommend a good restaurant in Paris",
    "thanks a lot",
    "quelle est la franchise bagages ?",
    "booking R4TW2B status please",
]
#: customers who have a conversation (messages in order)
CONVERSATIONS = [
    ["hello", "status of booking R4TW2B", "Smith", "what's the baggage allowance?", "thanks, bye"],
    ["I'd like to change my seat", "X7K9QZ", "Dupont", "12D", "yes"],
    ["move me to 15A on X7K9QZ", "Dupont", "yes please", "thank you"],
    ["bonjour", "je voudrais changer de place, réservation X7K9QZ, siège 9F", "Dupont", "oui", "merci"],
    ["is NM2210 on time", "and when does check-in open?", "great, bye"],
    ["my booking is H5NB6E, name Garcia, what's my seat?", "can I cancel it?", "no", "ok thanks"],
]


def workload(n: int) -> list[tuple[int, str]]:
    """``n`` (customer number, text) pairs: customers take SINGLES and CONVERSATIONS in turn, ordered by turn."""
    scripts = [[s] for s in SINGLES] + CONVERSATIONS
    out: list[tuple[int, str]] = []
    customers = 0
    while len(out) < n:
        block = [scripts[(customers + j) % len(scripts)] for j in range(len(scripts))]
        for k in range(max(len(s) for s in block)):
            out.extend((customers + j, s[k]) for j, s in enumerate(block) if k < len(s))
        customers += len(block)
    return out[:n]


def requests_for(port: int, run: str, messages: Sequence[tuple[int, str]]) -> list[tuple[str, bytes, dict[str, str]]]:
    """Signed Twilio WhatsApp webhooks for ``messages``; MessageSid ``SM<run>x<index>``."""
    url = f"http://127.0.0.1:{port}/webhooks/twilio"
    out = []
    for i, (customer, text) in enumerate(messages):
        form = {
            "MessageSid": f"SM{run}x{i}",
            "AccountSid": SID,
            "From": f"whatsapp:+3161{customer:07d}",
            "To": TO,
            "Body": text,
            "NumMedia": "0",
        }
        body, headers = signed_twilio_form(TOKEN, url, form)
        out.append(("/webhooks/twilio", body, headers))
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile by the nearest-rank rule (as ``pipeline_e2e.pct``)."""
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (n - 1), min, max and n of the runs' values."""
    s = mean_std(values)
    assert s is not None, "no runs"
    return s


def first_replies(fake: FakeChannelServer, before: int, prefix: str, n: int, timeout: float) -> dict[str, Any]:
    """Wait until each of the ``n`` messages ``<prefix><i>`` has a reply; first-reply time per index and counts."""
    pat = re.compile(re.escape(prefix) + r"(\d+)")
    deadline = time.time() + timeout
    while True:
        with fake.lock:
            sent = list(fake.sent[before:])
        first: dict[int, float] = {}
        keys = []
        for m in sent:
            hit = pat.match(m["key"])
            if hit:
                keys.append(m["key"])
                i = int(hit.group(1))
                first[i] = min(first.get(i, math.inf), m["t"])
        if len(first) >= n or time.time() > deadline:
            break
        time.sleep(0.05)
    return {"first": first, "replies": len(keys), "duplicates": len(keys) - len(set(keys))}


def start_workers(kind: str, config: Path, fake_url: str, count: int) -> list[subprocess.Popen[bytes]]:
    env = {"BENCH_SQLITE_SYNC": "FULL"}
    if kind == "echo":
        return [start_worker(config, fake_url, channels="whatsapp,sms", env=env) for _ in range(count)]
    extra = {"FAKE_CHANNEL_URL": fake_url, "FAKE_CHANNELS": "whatsapp,sms", **env}
    argv = [*BRANDBOT, "--config", str(config), "worker", "--pipeline", AIRLINE_PIPELINE]
    return [
        subprocess.Popen(argv, cwd=ROOT, env=_env(ROOT, extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]


def one_turn(
    kind: str, run: int, port: int, fake: FakeChannelServer, config: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Drain then paced phase for one turn kind; returns replies/s, p50/p99 ms and the checks."""
    tag = f"{kind[0]}{run}"
    burst = workload(args.burst)
    reqs = requests_for(port, f"{tag}d", burst)
    before = len(fake.sent)
    _, codes_d, _ = load(port, reqs, args.loaders, args.connections)
    procs = start_workers(kind, config, fake.url, args.workers)
    try:
        d = first_replies(fake, before, f"whatsapp:SM{tag}dx", len(reqs), 240)
        times = sorted(d["first"].values())
        rps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        paced = workload(args.paced)
        reqs = requests_for(port, f"{tag}p", paced)
        before = len(fake.sent)
        _, codes_p, sent_at = load(port, reqs, args.loaders, args.connections, args.rate)
        p = first_replies(fake, before, f"whatsapp:SM{tag}px", len(reqs), 120)
    finally:
        stop_processes(procs)
    lat = [(t - sent_at[i]) * 1000 for i, t in p["first"].items() if i in sent_at]
    return {
        "drain_replies_per_second": round(rps, 1),
        "paced_p50_ms": round(percentile(lat, 0.5), 1),
        "paced_p99_ms": round(percentile(lat, 0.99), 1),
        "answered": len(d["first"]) + len(p["first"]),
        "inbound": args.burst + args.paced,
        "outbound_messages": d["replies"] + p["replies"],
        "duplicates": d["duplicates"] + p["duplicates"],
        "webhook_codes": {str(k): codes_d.get(k, 0) + codes_p.get(k, 0) for k in sorted({*codes_d, *codes_p})},
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean ± sample std / min-max over the runs of each turn's figures and of the airline/echo ratios."""
    out: dict[str, Any] = {}
    for kind in ("echo", "airline"):
        out[kind] = {k: spread([r[kind][k] for r in runs]) for k in METRICS}
    out["ratio_airline_to_echo"] = {
        k: spread([r["airline"][k] / r["echo"][k] for r in runs if r["echo"][k]]) for k in METRICS
    }
    return out


METRICS = ("drain_replies_per_second", "paced_p50_ms", "paced_p99_ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--burst", type=int, default=300, help="webhooks enqueued before the workers start (drain)")
    ap.add_argument("--paced", type=int, default=150, help="webhooks in the paced phase")
    ap.add_argument("--rate", type=float, default=10.0, help="paced webhooks per second")
    ap.add_argument("--workers", type=int, default=1, help="brandbot worker processes (1 thread each)")
    ap.add_argument("--loaders", type=int, default=1)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--out", type=Path, default=default_out("airline_turn"), help="write the results as JSON here")
    args = ap.parse_args()
    if args.burst + args.paced > 20_000 or args.rate > 1000 or args.runs > 10:
        ap.error("bounded local load: burst + paced <= 20000, rate <= 1000, runs <= 10")

    import nlu as nlu_pkg
    from bots.settings.nlu import DEMO_DATA_DIR
    from bots.stores.sql import make_engine, upgrade

    folder = temp_folder("bb-bench-")
    data = nlu_data_state()  # read before training: another process may edit the data meanwhile
    t0 = time.perf_counter()
    nlu_pkg.train(DEMO_DATA_DIR, folder / "nlu", ["en", "fr"], seed=42)
    train_s = time.perf_counter() - t0
    print(f"trained the demo NLU in {train_s:.1f} s", flush=True)
    redis_server = start_embedded_redis(folder)
    fake = FakeChannelServer().start()
    port = free_port()
    database_url = f"sqlite:///{folder / 'bench.db'}"
    config = write_config(folder, redis_server.url, 1, port, fake_url=fake.url, database_url=database_url)
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    cfg["brand"].update({"languages": ["en", "fr"], "default_language": "en", "timezone": "Europe/Paris"})
    cfg["nlu"] = {"model_dir": str(folder / "nlu")}
    cfg["dialogue"] = {
        "domain_file": str(ROOT / "bots/airline/domain.yml"),
        "actions_options": {"database": str(folder / "airline.db")},
    }
    config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    upgrade(make_engine(database_url))
    runs = []
    try:
        with app_server("brandbot", config, port):
            for r in range(args.runs):
                order = ("echo", "airline") if r % 2 == 0 else ("airline", "echo")
                row: dict[str, Any] = {"run": r + 1, "order": list(order)}
                for kind in order:
                    row[kind] = one_turn(kind, r, port, fake, config, args)
                    print(f"run {r + 1} {kind:8s} {row[kind]}", flush=True)
                runs.append(row)
    finally:
        fake.stop()
        redis_server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    s = summary(runs)
    print(f"\n{args.runs} runs, {args.workers} worker process(es), paced {args.rate:.0f}/s, {os.cpu_count()} CPUs")
    print(f"{'':26s} {'echo':>22s} {'airline':>22s} {'airline / echo':>22s}")
    for k in METRICS:
        cells = [s["echo"][k], s["airline"][k], s["ratio_airline_to_echo"][k]]
        print(f"{k:26s} " + " ".join(f"{c['mean']:>12.2f} ± {c['std']:<7.2f}" for c in cells))
    bad = [(r["run"], k) for r in runs for k in ("echo", "airline") if r[k]["answered"] != r[k]["inbound"]]
    if bad:
        print(f"WARNING: messages without a reply in {bad}")
    write_result(
        args.out,
        {"runs": runs, "summary": s, "nlu_train_seconds": round(train_s, 1), **data},
        runs=args.runs,
        burst=args.burst,
        paced=args.paced,
        rate=args.rate,
        workers=args.workers,
        loaders=args.loaders,
        connections_per_loader=args.connections,
        sqlite_sync="FULL",
        std="sample (n - 1)",
    )


if __name__ == "__main__":
    main()
