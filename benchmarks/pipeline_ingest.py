"""Ingest speed: signed Twilio webhooks/s accepted by the app under gunicorn, vs a no-op Flask endpoint.

    .venv/bin/python benchmarks/pipeline_ingest.py                       # defaults below
    .venv/bin/python benchmarks/pipeline_ingest.py --requests 8000 --web-workers 2 --connections 16

Both apps are served the same way (gunicorn as ``brandbot serve`` runs it, same
options), loaded from 127.0.0.1 by the same loader with the same pre-signed
requests (distinct MessageSids, so every one is verified, parsed, deduped and
XADDed). Rounds alternate no-op / brandbot; the ratio uses the best round of each.
``--before DIR`` adds ``brandbot@before``: ``brandbot serve`` run from another source tree
(e.g. ``git archive <commit> | tar -x -C DIR``) in the same rounds, for before/after numbers.
Redis: an embedded redis-server on a free port (no AOF). No worker runs, so the
numbers are the webhook path alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import default_out, write_result
from pipeline_common import app_server, load, signed_requests, write_config
from tests.support import free_port, start_embedded_redis, temp_folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=4000, help="webhooks per round (bounded load)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    ap.add_argument("--loaders", type=int, default=2, help="load generator processes")
    ap.add_argument("--connections", type=int, default=8, help="keep-alive connections per loader process")
    ap.add_argument(
        "--apps",
        default="noop,brandbot,brandbot-pure",
        help="what to serve: noop, brandbot (`brandbot serve`), brandbot-app (the same app in this file's "
        "gunicorn runner), brandbot-pure (signature + pure parse only, no connector state)",
    )
    ap.add_argument(
        "--before",
        type=Path,
        default=None,
        help="another source tree (an exported older commit): adds app brandbot@before to every round "
        "(last, unless --apps lists it)",
    )
    ap.add_argument("--out", type=Path, default=default_out("pipeline_ingest"), help="write the results as JSON here")
    args = ap.parse_args()
    apps = args.apps.split(",")
    if args.before and "brandbot@before" not in apps:  # listed in --apps: served in that order (e.g. before first)
        apps.append("brandbot@before")
    if "brandbot@before" in apps and not args.before:
        ap.error("brandbot@before needs --before DIR")
    if args.requests > 200_000:
        ap.error("--requests is capped at 200000 (bounded local load)")

    folder = temp_folder("bb-bench-")
    redis_server = start_embedded_redis(folder)
    import redis

    client = redis.Redis.from_url(redis_server.url)
    rows = []
    try:
        for rnd in range(args.rounds):
            for kind in apps:
                port = free_port()
                # a database per app: the trees may be at different schema revisions
                database_url = f"sqlite:///{folder / (kind.replace('@', '-') + '.db')}"
                config = write_config(folder, redis_server.url, args.web_workers, port, database_url=database_url)
                reqs = signed_requests(port, args.requests, run=f"{kind}{rnd}")
                client.flushdb()
                variant = kind.split("-")[1] if "-" in kind else "twilio"
                root = args.before if kind.endswith("@before") else None
                with app_server(kind.split("-")[0].split("@")[0], config, port, variant, root=root):
                    load(port, reqs[: min(200, len(reqs))], 1, 2)  # warm up (keys differ from the timed run below)
                    client.flushdb()
                    seconds, codes, _ = load(port, reqs, args.loaders, args.connections)
                backlog = sum(client.xlen(f"bb:in:{{s{s}}}") for s in range(16))
                rows.append((rnd, kind, args.requests / seconds, codes, backlog))
    finally:
        redis_server.stop()

    print(
        f"\ningest: {args.requests} signed Twilio webhooks per round, gunicorn {args.web_workers} workers x 8 threads, "
        f"{args.loaders}x{args.connections} keep-alive connections from 127.0.0.1"
    )
    print(f"{'round':>5}  {'app':<14} {'req/s':>9}  {'answers':<18} {'enqueued':>8}")
    for rnd, kind, rps, codes, backlog in rows:
        print(f"{rnd:>5}  {kind:<16} {rps:>9.0f}  {codes!s:<18} {backlog if kind != 'noop' else '-':>8}")
    best = {k: max(r[2] for r in rows if r[1] == k) for k in {r[1] for r in rows}}
    print()
    for kind, rps in sorted(best.items()):
        ratio = f"ratio to no-op {rps / best['noop']:.2f}" if "noop" in best and kind != "noop" else ""
        print(f"best {kind:<16} {rps:>7.0f} req/s  {ratio}")
    write_result(
        args.out,
        {
            "best_rps": {k: round(v, 1) for k, v in sorted(best.items())},
            "ratio_to_noop": {
                k: round(v / best["noop"], 3) for k, v in sorted(best.items()) if "noop" in best and k != "noop"
            },
            "rounds": [
                {
                    "round": rnd,
                    "app": kind,
                    "rps": round(rps, 1),
                    "answers": codes,
                    "enqueued": None if kind == "noop" else backlog,
                }
                for rnd, kind, rps, codes, backlog in rows
            ],
        },
        requests_per_round=args.requests,
        rounds=args.rounds,
        web_workers=args.web_workers,
        loaders=args.loaders,
        connections_per_loader=args.connections,
        apps=apps,
        before=str(args.before) if args.before else None,
        web="brandbot serve: gunicorn gthread x 8 (bots.cli.serve.gunicorn_options)",
        redis="embedded redis-server, no AOF",
    )


if __name__ == "__main__":
    main()
