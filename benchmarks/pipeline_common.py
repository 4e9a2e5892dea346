"""What the pipeline benchmarks share beyond tests.support: a bench config, the no-op app, a signed-webhook loader.

Not a benchmark itself. The app runs under ``brandbot serve`` itself (gunicorn,
``bots.cli.serve.gunicorn_options``: gthread workers, 8 threads); the no-op baseline
and the "pure parse" variant are served by this file with the same options.
Ports, temp folders, the embedded Redis, server processes and webhook signing come
from :mod:`tests.support`.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from common import ROOT
from connectors.base import ChannelRules, Inbound, Outbound, WebhookRequest
from connectors.errors import PermanentSendError
from tests.support import BRANDBOT, ServerProcess, signed_twilio_form

TOKEN = "bench-auth-token"
SID = "ACbench"
TO = "whatsapp:+3120000000"


def write_config(
    folder: Path,
    redis_url: str,
    web_workers: int,
    port: int,
    fake_url: str = "http://127.0.0.1:9",
    database_url: str = "",
) -> Path:
    cfg = {
        "brand": {"name": "Bench Air", "languages": ["en"], "default_language": "en"},
        "server": {
            "host": "127.0.0.1",
            "port": port,
            "web_workers": web_workers,
            "embedded_workers": 0,
            "log_level": "WARNING",
            "environment": "production",
            "secret_key": "benchmark-only-secret-key",
        },
        "privacy": {"analytics_secret": "benchmark-only-analytics-secret"},
        "stores": {"redis_url": redis_url, "database_url": database_url or f"sqlite:///{folder / 'bench.db'}"},
        "channels": {
            "webchat": {"enabled": False},
            "twilio": {
                "enabled": True,
                "account_sid": SID,
                "auth_token": TOKEN,
                "whatsapp_from": TO,
                "sms_from": "+3120000000",
                "api_base_url": fake_url,
            },
        },
        "pipeline": {"shards": 16, "claim_idle_ms": 5000, "lease_ms": 2000, "idle_poll_ms": 5},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


# -- the servers (run as `python benchmarks/pipeline_common.py serve brandbot|noop CONFIG`) -------------
def _noop_app():
    from flask import Flask, Response

    app = Flask("noop")

    @app.post("/webhooks/twilio")
    def hook() -> Response:
        return Response("<Response/>", mimetype="text/xml")

    return app


class PureTwilioParse:
    """Signature check + pure parse, no channel state in Redis: isolates the pipeline's own cost."""

    rules = ChannelRules(max_text_length=1600, supports_buttons=False)  # unused: the ingest benchmark sends nothing

    def __init__(self, channel: str, token: str) -> None:
        self.channel, self.token = channel, token

    def parse(self, request: WebhookRequest) -> list[Inbound]:
        from connectors.twilio.parse import form_of, parse_message_form, verify_signature

        form = form_of(request)
        verify_signature(request, self.token, "", form)
        return [parse_message_form(form)]

    def send(self, message: Outbound) -> str:
        raise PermanentSendError(f"{self.channel}: the ingest benchmark's connector only parses")


def _brandbot_app(settings, connector: str = "twilio"):
    from bots.services import build_services
    from bots.web import create_app

    services = build_services(settings)
    if connector == "pure":
        tw = settings.channels.twilio
        services.connectors = {c: PureTwilioParse(c, tw.auth_token) for c in ("whatsapp", "sms")}
    return create_app(settings, services)


def serve(kind: str, config: str, connector: str = "twilio") -> None:
    from gunicorn.app.base import BaseApplication

    from bots.cli.serve import gunicorn_options
    from bots.settings import load_settings

    settings = load_settings(config)
    options = gunicorn_options(settings)
    options["loglevel"] = "warning"

    class App(BaseApplication):
        def load_config(self) -> None:
            for k, v in options.items():
                self.cfg.set(k, v)

        def load(self):
            return (
                _noop_app() if kind == "noop" else _brandbot_app(settings, "pure" if connector == "pure" else "twilio")
            )

    App().run()


def app_server(
    kind: str, config: Path, port: int, connector: str = "twilio", root: Path | None = None
) -> ServerProcess:
    """``kind`` (brandbot | noop) under gunicorn on ``port``, as a child process (a context manager).

    ``root``: the source tree to run (default this checkout); another tree (an export of an
    older commit) compares two versions in the same run.
    """
    root = root or ROOT
    if kind == "brandbot" and connector == "twilio":
        # the real thing: `brandbot serve` (its gunicorn, its composition root)
        argv = [*BRANDBOT, "--config", str(config), "serve"]
    else:
        argv = [sys.executable, str(root / "benchmarks" / "pipeline_common.py"), "serve", kind, str(config), connector]
    # settle: /readyz answers from the first gunicorn worker; let the others boot too
    return ServerProcess(argv, port, ready_path=None if kind == "noop" else "/readyz", root=root, settle=0.5)


# -- signed webhook requests and the loader ------------------------------------------------------
def signed_requests(port: int, n: int, run: str, senders: int = 50) -> list[tuple[str, bytes, dict[str, str]]]:
    """``n`` distinct signed Twilio WhatsApp webhooks (path, body, headers), prepared before timing."""
    url = f"http://127.0.0.1:{port}/webhooks/twilio"
    out = []
    for i in range(n):
        form = {
            "MessageSid": f"SM{run}x{i}",
            "AccountSid": SID,
            "From": f"whatsapp:+31600{i % senders:06d}",
            "To": TO,
            "Body": f"hello {i}",
            "NumMedia": "0",
        }
        body, headers = signed_twilio_form(TOKEN, url, form)
        out.append(("/webhooks/twilio", body, headers))
    return out


def _load_slice(port: int, reqs: list, threads: int, rate: float, start_at: float, q: Any) -> None:
    import threading

    codes: dict[int, int] = {}
    sent_at: dict[int, float] = {}
    lock = threading.Lock()

    def run(chunk: list[tuple[int, tuple[str, bytes, dict[str, str]]]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for idx, (path, body, headers) in chunk:
            if rate:
                delay = start_at + idx / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            t = time.time()
            for attempt in range(3):
                try:
                    conn.request("POST", path, body, headers)
                    r = conn.getresponse()
                    r.read()
                    break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    if attempt == 2:
                        raise
            with lock:
                codes[r.status] = codes.get(r.status, 0) + 1
                sent_at[idx] = t
        conn.close()

    while time.time() < start_at:
        time.sleep(0.001)
    ts = [threading.Thread(target=run, args=(reqs[i::threads],)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put((codes, sent_at))


def load(
    port: int, reqs: list, loaders: int, threads: int, rate: float = 0.0
) -> tuple[float, dict[int, int], dict[int, float]]:
    """Send ``reqs`` (indexed) from ``loaders`` processes x ``threads`` keep-alive connections.

    ``rate`` > 0 paces the whole load open-loop at that many requests/s.
    Returns (seconds, status counts, send time per request index).
    """
    indexed = list(enumerate(reqs))
    q: Any = mp.Queue()
    start_at = time.time() + 0.5
    procs = [
        mp.Process(target=_load_slice, args=(port, indexed[i::loaders], threads, rate, start_at, q))
        for i in range(loaders)
    ]
    for p in procs:
        p.start()
    codes: dict[int, int] = {}
    sent_at: dict[int, float] = {}
    for _ in procs:
        c, s = q.get()
        for k, v in c.items():
            codes[k] = codes.get(k, 0) + v
        sent_at.update(s)
    for p in procs:
        p.join()
    return time.time() - start_at, codes, sent_at


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "serve":
    serve(sys.argv[2], sys.argv[3], sys.argv[4])
