"""Live streams: 1,000 open SSE streams on one web process, and what they cost the webhook path.

    .venv/bin/python benchmarks/live_streams.py      # -> benchmarks/results/live_streams.json (--out FILE)
    .venv/bin/python benchmarks/live_streams.py --streams 1000 --requests 4000 --events-per-second 100

One ``brandbot serve`` (gunicorn, ONE gevent worker, no embedded workers, Twilio on with a
test auth token, web chat on) on an embedded redis-server. The benchmark opens ``--streams``
real HTTP connections to ``GET /chat/api/events`` (asyncio raw sockets, one visitor each,
visitor tokens signed with the config's secret key), then in the same run:

1. ingest without streams: ``--requests`` signed Twilio webhooks (pipeline_common's loader);
2. with every stream open, the same number of webhooks while a publisher writes replies
   through the real :class:`WebchatConnector` (outbox + PUBLISH on the live channel) to random
   visitors at ``--events-per-second``; each stream timestamps what it receives.

Reports publish->received latency p50/p99 (over every event, every stream), the ingest rate
with and without streams and their ratio; ``--out`` writes it all as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from common import default_out, write_result
from pipeline_common import app_server, load, signed_requests, write_config
from tests.support import free_port, start_embedded_redis, temp_folder


def raise_nofile(wanted: int) -> tuple[int, int]:
    """Lift the open-files limit (inherited by the server we start) to ``wanted`` or the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target, hard


class Streams:
    """``n`` SSE connections in an asyncio loop on a thread of their own; records receive times."""

    def __init__(self, port: int, tokens: list[str]) -> None:
        self.port, self.tokens = port, tokens
        self.connected = 0
        self.received: dict[str, float] = {}  # entry text (a sequence number) -> first receive time
        self.deliveries = 0
        self.errors: list[str] = []
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._tasks: list[asyncio.Task[None]] = []

    async def _one(self, token: str) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20)
        except OSError as exc:
            self.errors.append(f"connect: {exc}")
            return
        writer.write(
            (
                f"GET /chat/api/events?after=0&token={token} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            self.errors.append(status.decode(errors="replace").strip())
            writer.close()
            return
        try:
            while True:
                line = await reader.readline()
                if not line:
                    self.errors.append("stream closed by the server")
                    return
                if line.startswith(b": connected"):
                    self.connected += 1
                elif line.startswith(b"data: "):
                    now = time.time()
                    text = json.loads(line[6:])["text"]
                    self.deliveries += 1
                    self.received.setdefault(text, now)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _open_all(self) -> None:
        for i, token in enumerate(self.tokens):
            self._tasks.append(asyncio.ensure_future(self._one(token)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)  # a connect burst, not a SYN flood

    def open(self, timeout: float = 60) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open_all(), self.loop).result(timeout)
        deadline = time.monotonic() + timeout
        while self.connected < len(self.tokens) and time.monotonic() < deadline:
            time.sleep(0.1)

    def close(self) -> None:
        def cancel() -> None:
            for task in self._tasks:
                task.cancel()

        self.loop.call_soon_threadsafe(cancel)
        time.sleep(0.5)
        self.loop.call_soon_threadsafe(self.loop.stop)


def publish(connector: Any, visitors: list[str], rate: float, stop: threading.Event, sent: dict[str, float]) -> None:
    """Replies through the real connector (outbox + PUBLISH), paced open-loop at ``rate``/s."""
    from connectors.base import Outbound

    start = time.time()
    seq = 0
    while not stop.is_set():
        delay = start + seq / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        text = f"e{seq}"
        sent[text] = time.time()
        connector.send(Outbound("webchat", random.choice(visitors), text))
        seq += 1


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=4000, help="signed webhooks per ingest phase")
    ap.add_argument("--events-per-second", type=float, default=100.0)
    ap.add_argument("--loaders", type=int, default=1)
    ap.add_argument("--connections", type=int, default=8, help="keep-alive webhook connections per loader")
    ap.add_argument("--out", type=Path, default=default_out("live_streams"), help="write the results as JSON here")
    args = ap.parse_args()
    if args.streams > 5000 or args.requests > 100_000:
        ap.error("bounded local load: at most 5000 streams and 100000 requests")

    nofile = raise_nofile(args.streams * 2 + 1024)
    folder = temp_folder("bb-bench-")
    redis_server = start_embedded_redis(folder)
    port = free_port()
    config = write_config(folder, redis_server.url, 1, port)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["channels"]["webchat"] = {"enabled": True}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")

    import redis

    from bots.live_events import live_channel
    from bots.web.chat import make_signer
    from connectors.webchat import WebchatConnector

    client = redis.Redis.from_url(redis_server.url)
    prefix = data.get("stores", {}).get("key_prefix", "bb")
    connector = WebchatConnector(client, prefix, live_channel=live_channel(prefix))
    signer = make_signer(data["server"]["secret_key"])
    visitors = [f"vbench{i:06d}" for i in range(args.streams)]
    tokens = [signer.dumps(v) for v in visitors]
    result: dict[str, Any] = {}
    try:
        with app_server("brandbot", config, port):
            load(port, signed_requests(port, 200, run="warm"), 1, 2)
            seconds, codes_without, _ = load(
                port, signed_requests(port, args.requests, run="without"), args.loaders, args.connections
            )
            rate_without = args.requests / seconds

            streams = Streams(port, tokens)
            t0 = time.monotonic()
            streams.open()
            open_seconds = time.monotonic() - t0
            sent: dict[str, float] = {}
            stop = threading.Event()
            publisher = threading.Thread(target=publish, args=(connector, visitors, args.events_per_second, stop, sent))
            publisher.start()
            seconds, codes_with, _ = load(
                port, signed_requests(port, args.requests, run="with"), args.loaders, args.connections
            )
            rate_with = args.requests / seconds
            stop.set()
            publisher.join()
            time.sleep(2)  # let the last events arrive
            latencies = [(streams.received[k] - t) * 1000 for k, t in sent.items() if k in streams.received]
            still_open = streams.connected
            streams.close()
    finally:
        redis_server.stop()

    result = {
        "streams_requested": args.streams,
        "streams_connected": still_open,
        "stream_errors": streams.errors[:5],
        "streams_open_seconds": round(open_seconds, 2),
        "events_published": len(sent),
        "events_received": len(latencies),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p99": round(percentile(latencies, 99), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
        },
        "ingest_rps_without_streams": round(rate_without, 1),
        "ingest_rps_with_streams": round(rate_with, 1),
        "ingest_ratio": round(rate_with / rate_without, 3),
        "answers_without": codes_without,
        "answers_with": codes_with,
        "conditions": {
            "nofile": nofile,
            "web": "brandbot serve: gunicorn 1 gevent worker, worker_connections 2000, embedded_workers 0",
            "requests": args.requests,
            "events_per_second": args.events_per_second,
            "webhook_connections": args.loaders * args.connections,
        },
    }
    print(json.dumps(result, indent=2))
    write_result(args.out, result)


if __name__ == "__main__":
    main()
