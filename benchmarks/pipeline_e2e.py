"""End to end: replies/s delivered to a fake channel API with 1, 2, 4 worker processes, p50/p99 webhook -> delivered.

    .venv/bin/python benchmarks/pipeline_e2e.py                         # defaults below
    .venv/bin/python benchmarks/pipeline_e2e.py --workers 1,2,4 --burst 2000 --paced 600 --rate 100

Path measured: signed Twilio webhook -> app under gunicorn (verify, parse, dedupe,
XADD) -> ``brandbot worker`` processes (lease a shard, XREADGROUP, echo turn,
HTTP send to the fake channel API, deliveries row in SQLite, "sent" mark, XACK).
The turn is an echo handler (``tests.pipeline.fake_pipeline``) so the numbers are
the pipeline's, not the dialogue's. Two phases per worker count:

- drain: ``--burst`` webhooks are enqueued with no worker running, then the
  workers start; replies/s = replies / (last reply - first reply).
- paced: ``--paced`` webhooks at ``--rate``/s; p50/p99 from the webhook being sent
  to the fake channel receiving the reply.

Every run checks each message got exactly one reply. Everything runs on this
machine (127.0.0.1); the fake channel API is in this process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from common import default_out, write_result
from pipeline_common import app_server, load, signed_requests, write_config
from tests.support import FakeChannelServer, free_port, start_embedded_redis, start_worker, stop_processes, temp_folder


def start_workers(
    config: Path, fake_url: str, count: int, sqlite_sync: str, turn_delay: float
) -> list[subprocess.Popen[bytes]]:
    return [
        start_worker(
            config, fake_url, delay=turn_delay, channels="whatsapp,sms", env={"BENCH_SQLITE_SYNC": sqlite_sync}
        )
        for _ in range(count)
    ]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def collect(fake: FakeChannelServer, before: int, prefix: str, n: int, timeout: float) -> list[dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with fake.lock:
            got = [m for m in fake.sent[before:] if m["key"].startswith(prefix)]
        if len(got) >= n:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    with fake.lock:
        return [m for m in fake.sent[before:] if m["key"].startswith(prefix)]


def drain(
    port: int,
    fake: FakeChannelServer,
    run: str,
    n: int,
    loaders: int,
    conns: int,
    start: Callable[[], list[subprocess.Popen[bytes]]],
) -> tuple[dict, list[subprocess.Popen[bytes]]]:
    """Enqueue ``n`` webhooks with no worker running, then start the workers and time the drain."""
    reqs = signed_requests(port, n, run=run)
    before = len(fake.sent)
    _, codes, _ = load(port, reqs, loaders, conns)
    procs = start()
    got = collect(fake, before, f"whatsapp:SM{run}x", n, 180)
    keys = [m["key"] for m in got]
    times = sorted(m["t"] for m in got)
    rps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {"replies": len(keys), "unique": len(set(keys)), "codes": codes, "rps": rps}, procs


def paced(port: int, fake: FakeChannelServer, run: str, n: int, rate: float, loaders: int, conns: int) -> dict:
    """``n`` webhooks at ``rate``/s with the workers running: latency webhook sent -> reply received."""
    reqs = signed_requests(port, n, run=run)
    before = len(fake.sent)
    _, codes, sent_at = load(port, reqs, loaders, conns, rate)
    prefix = f"whatsapp:SM{run}x"
    got = collect(fake, before, prefix, n, 120)
    keys = [m["key"] for m in got]
    idx = {int(m["key"][len(prefix) :].split(":")[0]): m["t"] for m in got}
    lat = [(idx[i] - sent_at[i]) * 1000 for i in idx if i in sent_at]
    return {
        "replies": len(keys),
        "unique": len(set(keys)),
        "codes": codes,
        "p50": pct(lat, 0.5),
        "p99": pct(lat, 0.99),
        "mean": statistics.fmean(lat) if lat else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", default="1,2,4", help="worker process counts to compare")
    ap.add_argument("--burst", type=int, default=2000, help="webhooks enqueued before the workers start (drain phase)")
    ap.add_argument("--paced", type=int, default=600, help="webhooks in the paced phase")
    ap.add_argument("--rate", type=float, default=100.0, help="paced webhooks per second")
    ap.add_argument("--web-workers", type=int, default=1)
    ap.add_argument("--loaders", type=int, default=1)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument(
        "--sqlite-sync",
        default="FULL",
        choices=["FULL", "NORMAL"],
        help="SQLite PRAGMA synchronous in the workers (FULL: as shipped; NORMAL: WAL-safe, one fsync per checkpoint)",
    )
    ap.add_argument("--database-url", default="", help="SQL for the deliveries rows (default: a temp SQLite file)")
    ap.add_argument(
        "--turn-delay",
        type=float,
        default=0.0,
        help="seconds each turn waits (as on a brand API call); shows scaling when turns wait on I/O",
    )
    ap.add_argument("--out", type=Path, default=default_out("pipeline_e2e"), help="write the results as JSON here")
    args = ap.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    if args.burst + args.paced > 100_000 or args.rate > 5000:
        ap.error("bounded local load: burst + paced <= 100000 and rate <= 5000")

    folder = temp_folder("bb-bench-")
    redis_server = start_embedded_redis(folder)
    fake = FakeChannelServer().start()
    port = free_port()
    from bots.stores.sql import make_engine, upgrade

    database_url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    config = write_config(
        folder, redis_server.url, args.web_workers, port, fake_url=fake.url, database_url=database_url
    )
    upgrade(make_engine(database_url))
    rows = []
    try:
        with app_server("brandbot", config, port):
            for k in counts:
                burst, procs = drain(
                    port,
                    fake,
                    f"b{k}",
                    args.burst,
                    args.loaders,
                    args.connections,
                    partial(start_workers, config, fake.url, k, args.sqlite_sync, args.turn_delay),
                )
                try:
                    p = paced(port, fake, f"p{k}", args.paced, args.rate, args.loaders, args.connections)
                finally:
                    stop_processes(procs)
                rows.append((k, burst, p))
    finally:
        fake.stop()
        redis_server.stop()

    sql = "PostgreSQL" if database_url.startswith("postgresql") else f"SQLite synchronous={args.sqlite_sync}"
    print(
        f"\nend to end (echo turn + {args.turn_delay * 1000:.0f} ms wait, fake channel API over HTTP, "
        f"deliveries in {sql}), "
        f"gunicorn {args.web_workers} web worker(s), {os.cpu_count()} CPUs"
    )
    print(
        f"{'workers':>7}  {'drain replies/s':>15}  {'paced rate':>10}  {'p50 ms':>7}  {'p99 ms':>7}  "
        f"{'replies/inbound':>15}  {'duplicates':>10}"
    )
    base = rows[0][1]["rps"] if rows else 1.0
    for k, b, p in rows:
        n_in = args.burst + args.paced
        n_out = b["unique"] + p["unique"]
        dup = (b["replies"] - b["unique"]) + (p["replies"] - p["unique"])
        print(
            f"{k:>7}  {b['rps']:>15.0f}  {args.rate:>10.0f}  {p['p50']:>7.1f}  {p['p99']:>7.1f}  "
            f"{f'{n_out}/{n_in}':>15}  {dup:>10}"
        )
    print("\nscaling of drain replies/s vs 1 worker: " + ", ".join(f"{k}: x{b['rps'] / base:.2f}" for k, b, _ in rows))
    write_result(
        args.out,
        {
            "sql": sql,
            "runs": [
                {
                    "workers": k,
                    "drain_replies_per_second": round(b["rps"], 1),
                    "paced_p50_ms": round(p["p50"], 1),
                    "paced_p99_ms": round(p["p99"], 1),
                    "replies": b["unique"] + p["unique"],
                    "inbound": args.burst + args.paced,
                    "duplicates": (b["replies"] - b["unique"]) + (p["replies"] - p["unique"]),
                }
                for k, b, p in rows
            ],
        },
        burst=args.burst,
        paced=args.paced,
        rate=args.rate,
        web_workers=args.web_workers,
        sqlite_sync=args.sqlite_sync,
        turn_delay=args.turn_delay,
        loaders=args.loaders,
        connections_per_loader=args.connections,
    )


if __name__ == "__main__":
    main()
