"""A tiny local channel API (HTTP, 127.0.0.1) and a connector that sends to it.

The server records every accepted send with its idempotency key and can fail a
share of sends (500 or 429 with Retry-After) from a seeded random source, so
tests and benchmarks count exactly what a customer would have received.
"""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from bots.pipeline.turn import TurnResult
from connectors.base import ChannelRules, Inbound, Outbound, WebhookRequest
from connectors.errors import MalformedRequest, PermanentSendError, TransientSendError


class FakeChannelServer:
    """POST /send {"key", "to", "text"} -> 200 {"id"}; GET /sent -> all recorded sends.

    Args:
        fail_rate: share of sends answered with an error (before recording).
        fail_status: 500 or 429 (429 carries ``Retry-After: 0``).
        permanent_to: recipients answered 400 (a permanent error).
    """

    def __init__(
        self, fail_rate: float = 0.0, fail_status: int = 500, seed: int = 7, permanent_to: tuple[str, ...] = ()
    ) -> None:
        self.fail_rate = fail_rate
        self.fail_status = fail_status
        self.permanent_to = set(permanent_to)
        self.random = random.Random(seed)
        self.sent: list[dict[str, Any]] = []
        self.attempts = 0
        self.failures = 0
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                with outer.lock:
                    self._answer(
                        200, {"sent": list(outer.sent), "attempts": outer.attempts, "failures": outer.failures}
                    )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                msg = json.loads(self.rfile.read(length) or b"{}")
                with outer.lock:
                    outer.attempts += 1
                    if msg.get("to") in outer.permanent_to:
                        outer.failures += 1
                        return self._answer(400, {"error": "invalid recipient"})
                    if outer.random.random() < outer.fail_rate:
                        outer.failures += 1
                        headers = {"Retry-After": "0"} if outer.fail_status == 429 else None
                        return self._answer(outer.fail_status, {"error": "try later"}, headers)
                    msg["id"] = f"F{len(outer.sent) + 1}"
                    msg["t"] = time.time()
                    outer.sent.append(msg)
                    self._answer(200, {"id": msg["id"]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FakeChannelServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def keys(self) -> list[str]:
        with self.lock:
            return [m["key"] for m in self.sent]


class FakeConnector:
    """A connector for channel ``fake`` that sends to :class:`FakeChannelServer` over HTTP."""

    rules = ChannelRules(max_text_length=4096, supports_buttons=False)

    def __init__(self, base_url: str, channel: str = "fake") -> None:
        self.channel = channel
        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, timeout=5.0)

    def parse(self, request: WebhookRequest) -> list[Inbound]:
        try:
            data = json.loads(request.body)
            return [
                Inbound(
                    channel=self.channel,
                    sender_id=data["from"],
                    conversation_id=f"{self.channel}:{data['from']}",
                    message_id=str(data["id"]),
                    text=data.get("text", ""),
                )
            ]
        except (ValueError, KeyError) as exc:
            raise MalformedRequest(f"bad fake payload: {exc}") from exc

    def send(self, message: Outbound) -> str:
        try:
            r = self.client.post(
                "/send", json={"key": message.idempotency_key, "to": message.recipient, "text": message.text}
            )
        except httpx.HTTPError as exc:
            raise TransientSendError(f"fake channel unreachable: {exc}") from exc
        if r.status_code == 429:
            raise TransientSendError("rate limited", code="429", retry_after=float(r.headers.get("Retry-After", "1")))
        if r.status_code >= 500:
            raise TransientSendError(f"fake channel answered {r.status_code}", code=str(r.status_code))
        if r.status_code >= 400:
            raise PermanentSendError(f"fake channel refused: {r.text}", code=str(r.status_code))
        return r.json()["id"]


def echo_handler(inbound: Inbound) -> TurnResult:
    """The smallest real turn: one reply echoing the text."""
    return TurnResult([Outbound(channel=inbound.channel, recipient=inbound.sender_id, text=f"echo: {inbound.text}")])
