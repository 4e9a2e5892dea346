"""Bulk notifications end to end: a CSV of N SMS recipients through ``brandbot notify --csv``, paced, sent, counted.

    .venv/bin/python benchmarks/notifications_bulk.py DATA_DIR                      # 10,000 rows, 4 workers
    .venv/bin/python benchmarks/notifications_bulk.py DATA_DIR --rows 2000 --runs 3 --workers 2

DATA_DIR holds what a run writes: the SQLite databases (one fresh per run), the CSV, the demo NLU
model (trained there once, reused). Writes benchmarks/results/notifications_bulk.json (``--out FILE``
elsewhere).

What runs, all in this process on 127.0.0.1:

- a fake Twilio REST API (``tests.fakes.twilio_api``), recording when each message arrived;
- the app (``create_app``), only to take the signed ``STOP`` texts of ``--stop-share`` of the
  numbers before the run (they are then refused: nothing may be sent to them);
- ``--workers`` embedded queue workers (``bots.runtime.start_embedded``): each notification is a
  real dialogue runtime turn (state lease, the kind's text in the customer's language, transcript
  rows in SQLite) and a send through the real twilio client, limited by the Redis rate limiter at
  ``channels.twilio.messages_per_second`` (``--limit``);
- the bulk path of ``brandbot notify --csv --wait``: the same functions the command calls
  (``read_csv`` and ``run_bulk`` of ``bots.notifications.bulk`` with ``build_notifier`` on services of its
  own, as the command builds them), not a subprocess; it enqueues at most
  ``notifications.bulk_per_second`` rows a second (``--bulk-per-second``).

Printed per run: rows, the enqueue rate, the end-to-end rate (notifications accounted for: sent or
refused, per second from the first row to the last state seen), counts per state, the most
messages the fake received in any 1-second window (sliding, from arrival times) against the limit,
and the wall time. The limit counts as held when that peak is at most the limit plus one request
per worker: the Redis limiter counts a send when its slot is taken, and each worker may have one
request still on the wire when the next second's slots are taken.

Redis: $REDIS_URL if set (keys under a prefix of the run's own, removed after), else an embedded
redis-server.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from common import ROOT, default_out, write_result

KIND = "flight_update"
#: the base URL the fake webhooks are signed for (channels.twilio.public_url).
PUBLIC = "https://bot.example.com"


def write_csv(path: Path, rows: int, stop_share: float) -> tuple[list[str], list[str]]:
    """``rows`` explicit SMS recipients; every ``1/stop_share``-th number texted STOP first.

    Returns:
        (numbers to send to, numbers that opted out).
    """
    every = round(1 / stop_share) if stop_share > 0 else 0
    reachable: list[str] = []
    stopped: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["channel", "id", "flight", "status", "language"])
        for n in range(1, rows + 1):
            number = f"+3361{n:07d}"
            out.writerow(["sms", number, f"NB{n % 9000 + 1000}", "delayed to 18:40", "fr" if n % 4 == 0 else "en"])
            (stopped if every and n % every == 0 else reachable).append(number)
    return reachable, stopped


def config(folder: Path, redis_url: str, nlu_dir: Path, twilio_url: str, prefix: str, args: argparse.Namespace) -> Path:
    """The shipped config.yaml, its paths made absolute, Twilio on (the fake), the run's limits."""
    from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN

    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["server"]["environment"] = "development"
    data["stores"].update(
        redis_url=redis_url,
        database_url=f"sqlite:///{folder / 'brandbot.db'}",
        embedded_redis_dir=str(folder / "redis"),
        key_prefix=prefix,
    )
    data["nlu"].update(data_dir=str(ROOT / data["nlu"]["data_dir"]), model_dir=str(nlu_dir))
    data["dialogue"]["domain_file"] = str(ROOT / data["dialogue"]["domain_file"])
    data["dialogue"]["actions_options"]["database"] = str(folder / "airline.db")
    data["channels"]["twilio"].update(
        enabled=True,
        account_sid=DEFAULT_SID,
        auth_token=DEFAULT_TOKEN,
        sms_from="+14155550100",
        whatsapp_from="",
        public_url=PUBLIC,
        api_base_url=twilio_url,
        messages_per_second=args.limit,
    )
    data["notifications"]["bulk_per_second"] = args.bulk_per_second
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def nlu_model(data: Path) -> Path:
    """The demo airline NLU, trained into DATA_DIR once."""
    from bots.settings import load_settings
    from nlu.training import train

    model = data / "nlu-model"
    if not (model / "en").exists():
        base = load_settings(ROOT / "config.yaml", env={})
        print(f"training the demo NLU into {model} (once)...", flush=True)
        train(base.path(base.nlu.data_dir), model, list(base.brand.languages), seed=base.nlu.seed)
    return model


@contextmanager
def redis_for(data: Path) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    from tests.support import start_embedded_redis

    server = start_embedded_redis(data)
    try:
        yield server.url
    finally:
        server.stop()


def send_stops(client: Any, numbers: list[str]) -> None:
    """Each number texts STOP (a signed Twilio webhook): Twilio's opt-out, recorded by the connector."""
    from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN
    from tests.support import signed_twilio_form

    for i, number in enumerate(numbers):
        form = {
            "MessageSid": f"SMstop{i:08d}",
            "AccountSid": DEFAULT_SID,
            "From": number,
            "To": "+14155550100",
            "Body": "STOP",
            "NumMedia": "0",
        }
        body, headers = signed_twilio_form(DEFAULT_TOKEN, PUBLIC + "/webhooks/twilio", form)
        answer = client.post("/webhooks/twilio", data=body, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"the STOP webhook of {number} answered {answer.status_code}")


def max_per_window(times: list[float], window: float = 1.0) -> int:
    """The most arrivals in any ``window`` seconds (sliding: every arrival starts a window)."""
    times = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def max_per_second_bucket(times: list[float]) -> int:
    """The most arrivals in one whole wall-clock second (fixed 1-second buckets)."""
    buckets: dict[int, int] = {}
    for t in times:
        buckets[int(t)] = buckets.get(int(t), 0) + 1
    return max(buckets.values(), default=0)


def mean_rate(times: list[float]) -> float:
    """Arrivals per second from the first to the last."""
    return round((len(times) - 1) / (max(times) - min(times)), 1) if len(times) > 1 else 0.0


def one_run(data: Path, redis_url: str, nlu_dir: Path, index: int, args: argparse.Namespace) -> dict[str, Any]:
    import redis

    from bots.notifications.build import build_notifier
    from bots.notifications.bulk import read_csv, run_bulk
    from bots.runtime import start_embedded
    from bots.services import build_services
    from bots.settings import load_settings
    from bots.stores.sql import upgrade
    from bots.web.app import create_app
    from tests.fakes.twilio_api import FakeTwilioAPI

    folder = data / f"run-{index}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    prefix = f"benchbulk{uuid.uuid4().hex[:8]}"
    reachable, stopped = write_csv(folder / "rows.csv", args.rows, args.stop_share)
    with FakeTwilioAPI() as twilio:
        settings = load_settings(config(folder, redis_url, nlu_dir, twilio.base_url, prefix, args), env={})
        services = build_services(settings)
        upgrade(services.engine)
        send_stops(create_app(settings, services).test_client(), stopped)
        workers = start_embedded(services, args.workers)
        cli_services = build_services(settings)  # the command's own, as `brandbot notify` builds them
        try:
            notifier = build_notifier(cli_services)
            batch = f"bench-{index}"
            before = len(twilio.calls("Messages"))
            started = time.monotonic()
            rows = read_csv(folder / "rows.csv", KIND, batch)
            report = run_bulk(notifier, rows, kind=KIND, batch=batch, per_second=args.bulk_per_second, wait=args.wait)
            wall = time.monotonic() - started
            time.sleep(0.5)  # a send that raced the last count
            sends = [r.at for r in twilio.calls("Messages")[before:] if r.method == "POST"]
        finally:
            workers.stop(timeout=30)
            if services.pipeline is not None:
                services.pipeline.close()
            services.close()
            cli_services.close()
            client = redis.Redis.from_url(redis_url)
            for key in client.scan_iter(match=f"*{prefix}*", count=1000):
                client.delete(key)
            client.close()
    summary = report.to_json()
    peak = max_per_window(sends)
    sent_states = sum(summary["counts"][s] for s in ("sent", "delivered", "read"))
    return {
        "rows": args.rows,
        "opted_out_numbers": len(stopped),
        "invalid_rows": len(summary["invalid"]),
        "enqueue_seconds": summary["enqueue_seconds"],
        "enqueued_per_second": summary["enqueued_per_second"],
        "accounted": summary["accounted"],
        "accounted_seconds": summary["accounted_seconds"],
        "accounted_per_second": summary["accounted_per_second"],
        "counts": summary["counts"],
        "reasons": summary["reasons"],
        "complete": summary["complete"],
        "fake_received": len(sends),
        "fake_matches_counts": len(sends) == sent_states == len(reachable)
        and summary["counts"]["refused"] == len(stopped),
        "max_sends_in_1s": peak,
        "max_sends_in_a_wall_clock_second": max_per_second_bucket(sends),
        "mean_sends_per_second": mean_rate(sends),
        "limit_per_second": args.limit,
        # the limiter counts a send when its slot is taken; each worker may then have one request on
        # the wire that arrives inside the next second's window: the fake may see ``workers`` more
        "limit_held": peak <= args.limit + args.workers,
        "wall_seconds": round(wall, 2),
    }


def print_run(i: int, r: dict[str, Any]) -> None:
    counts = ", ".join(f"{k} {v:,}" for k, v in r["counts"].items() if v)
    print(
        f"run {i}: {r['rows']:,} rows ({r['opted_out_numbers']:,} opted out) | "
        f"queued {r['enqueued_per_second']:,.1f} rows/s "
        f"in {r['enqueue_seconds']:.1f} s | accounted for {r['accounted']:,} at {r['accounted_per_second']:,.1f}/s "
        f"in {r['accounted_seconds']:.1f} s | {counts} | fake received {r['fake_received']:,} "
        f"({'matches' if r['fake_matches_counts'] else 'DOES NOT MATCH'} the counts) | max {r['max_sends_in_1s']} "
        f"sends in any 1 s ({r['max_sends_in_a_wall_clock_second']} in a wall-clock second, mean "
        f"{r['mean_sends_per_second']:,.1f}/s) vs limit {r['limit_per_second']} "
        f"({'held' if r['limit_held'] else 'EXCEEDED'}) | "
        f"wall {r['wall_seconds']:.1f} s",
        flush=True,
    )
    for reason in r["reasons"][:3]:
        print(f"    {reason['count']:,} x {reason['reason']}")


def spread(runs: list[dict[str, Any]], name: str) -> dict[str, float]:
    values = [float(r[name]) for r in runs]
    return {
        "mean": round(statistics.fmean(values), 2),
        "min": min(values),
        "max": max(values),
        "stdev": round(statistics.stdev(values), 2) if len(values) > 1 else 0.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path, help="folder for the SQLite databases, the CSV and the NLU model")
    ap.add_argument("--rows", type=int, default=10_000, help="CSV rows (explicit SMS recipients)")
    ap.add_argument("--stop-share", type=float, default=0.05, help="share of the numbers that texted STOP before")
    ap.add_argument("--workers", type=int, default=4, help="embedded queue workers")
    ap.add_argument("--limit", type=int, default=200, help="channels.twilio.messages_per_second")
    ap.add_argument("--bulk-per-second", type=int, default=200, help="notifications.bulk_per_second")
    ap.add_argument("--wait", type=float, default=900, help="seconds --wait follows the sends at most")
    ap.add_argument("--runs", type=int, default=1, help="repeat, then print mean and spread")
    ap.add_argument("--out", type=Path, default=default_out("notifications_bulk"), help="write the JSON here")
    args = ap.parse_args()
    if not 0 <= args.stop_share < 1:
        ap.error("--stop-share is a share in [0, 1)")
    logging.basicConfig(level=logging.WARNING)
    args.data.mkdir(parents=True, exist_ok=True)
    nlu_dir = nlu_model(args.data)
    runs = []
    with redis_for(args.data) as redis_url:
        for i in range(1, args.runs + 1):
            runs.append(one_run(args.data, redis_url, nlu_dir, i, args))
            print_run(i, runs[-1])
    measures = ("enqueued_per_second", "accounted_per_second", "max_sends_in_1s", "wall_seconds")
    summary = {name: spread(runs, name) for name in measures}
    if len(runs) > 1:
        for name, s in summary.items():
            print(f"{name}: mean {s['mean']:,} (min {s['min']:,}, max {s['max']:,}, stdev {s['stdev']:,})")
    write_result(
        args.out,
        {"runs": runs, "summary": summary},
        rows=args.rows,
        stop_share=args.stop_share,
        workers=args.workers,
        limit=args.limit,
        bulk_per_second=args.bulk_per_second,
        sql="sqlite (file in DATA_DIR)",
        redis="REDIS_URL" if os.environ.get("REDIS_URL") else "embedded",
    )
    ok = all(r["complete"] and r["limit_held"] and r["fake_matches_counts"] for r in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
