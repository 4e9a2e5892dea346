"""What the fake channel APIs share: an HTTP server in a thread that records requests
and fails chosen ones on demand, or accepts them and loses the answer.

Tests start a fake on 127.0.0.1 and a free port, point the real client library at
``fake.base_url`` and assert on ``fake.requests``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Recorded", "Failure", "LostAnswer", "FakeServer", "every"]


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    endpoint: str
    headers: dict[str, str]
    params: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    #: the raw request body (the flattening into ``params`` loses JSON types and nesting).
    body: bytes = b""
    #: when it arrived (``time.time()``): rates a fake saw (requests per second) are measured from it.
    at: float = field(default_factory=time.time)

    def json_param(self, name: str) -> Any:
        """A parameter that the client sent JSON-encoded (Telegram's reply_markup, ...)."""
        return json.loads(self.params[name])


@dataclass
class Failure:
    """Answer the next ``times`` requests matching ``endpoint`` (and ``when``) with an error."""

    endpoint: str
    status: int
    body: dict[str, Any]
    times: int = 1
    when: Callable[[Recorded], bool] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, rec: Recorded) -> bool:
        return self.times > 0 and self.endpoint in (rec.endpoint, "*") and (self.when is None or self.when(rec))


@dataclass
class LostAnswer:
    """Handle the next ``times`` requests matching ``endpoint`` (and ``when``) as usual, then
    close the connection without answering (after ``hang`` seconds): the channel accepted the
    request, the client never learns it. ``dropped`` counts the answers lost (or being lost)."""

    endpoint: str
    times: int = 1
    when: Callable[[Recorded], bool] | None = None
    hang: float = 0.0
    dropped: int = 0

    def matches(self, rec: Recorded) -> bool:
        return self.times > 0 and self.endpoint in (rec.endpoint, "*") and (self.when is None or self.when(rec))


def every(n: int, method: str | None = "POST") -> Callable[[Recorded], bool]:
    """A ``when`` true for the n-th, 2n-th... request it is asked about (of ``method`` only, if given)."""
    seen = 0

    def when(rec: Recorded) -> bool:
        nonlocal seen
        if method is not None and rec.method != method:
            return False
        seen += 1
        return seen % n == 0

    return when


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    params: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):  # every form-data part is named
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):  # decode=True gives the part's bytes (None for a multipart part)
            payload = b""
        if part.get_filename():
            files[name] = payload
        else:
            params[name] = payload.decode("utf-8")
    return params, files


class FakeServer:
    """Base of a fake API: subclasses implement :meth:`route`.

    Args:
        host: bind address.
        port: 0 picks a free port.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[Recorded] = []
        self._failures: list[Failure] = []
        self._lost: list[LostAnswer] = []
        self._lock = threading.RLock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = fake._dispatch(self.command, self.path, dict(self.headers.items()), body)
                if answer is None:  # accepted, answer lost: the connection closes without a byte
                    self.close_connection = True
                    return
                status, payload, headers = answer
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the current thread (standalone process)."""
        self._httpd.serve_forever()

    def run_standalone(self, banner: str) -> None:
        """Print ``banner`` and serve in the current thread until Ctrl-C (a fake's ``main()``)."""
        print(banner, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            self.serve_forever()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- recording and failures -------------------------------------------
    def fail(
        self,
        endpoint: str,
        status: int,
        body: dict[str, Any],
        times: int = 1,
        when: Callable[[Recorded], bool] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``endpoint`` ("*" for any) with ``status``/``body``."""
        with self._lock:
            self._failures.append(Failure(endpoint, status, body, times, when, headers or {}))

    def lose_answers(
        self, endpoint: str, times: int = 1, when: Callable[[Recorded], bool] | None = None, hang: float = 0.0
    ) -> LostAnswer:
        """Accept the next ``times`` calls of ``endpoint`` ("*" for any) but drop the connection instead
        of answering (after ``hang`` s: longer than the client's read timeout makes a timeout).

        Returns:
            The rule; its ``dropped`` counts the answers lost.
        """
        rule = LostAnswer(endpoint, times, when, hang)
        with self._lock:
            self._lost.append(rule)
        return rule

    def calls(self, endpoint: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def clear_faults(self) -> None:
        """Forget the failures and lost answers still pending (what was recorded stays)."""
        with self._lock:
            self._failures.clear()
            self._lost.clear()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._failures.clear()
            self._lost.clear()

    def _dispatch(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]] | None:
        """The answer to one request, or None to close the connection without one."""
        parts = urlsplit(raw_path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        ctype = headers.get("Content-Type") or headers.get("content-type") or ""
        files: dict[str, bytes] = {}
        if ctype.startswith("multipart/form-data"):
            params, files = _parse_multipart(ctype, body)
        elif ctype.startswith("application/json") and body:
            try:
                decoded = json.loads(body)
            except ValueError:  # the fake answers what it makes of ``rec.body``
                decoded = None
            params = (
                {k: v if isinstance(v, str) else json.dumps(v) for k, v in decoded.items()}
                if isinstance(decoded, dict)
                else {}
            )
        elif body:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        else:
            params = {}
        rec = Recorded(method, parts.path, self.endpoint_of(method, parts.path), headers, params, files, query, body)
        # control endpoints of the fake itself are not recorded
        if parts.path.startswith("/_fake/"):
            return self.control(method, parts.path, params, body)
        with self._lock:
            self.requests.append(rec)
            for f in self._failures:
                if f.matches(rec):
                    f.times -= 1
                    return f.status, f.body, f.headers
            lost = next((rule for rule in self._lost if rule.matches(rec)), None)
            if lost is not None:
                lost.times -= 1
                lost.dropped += 1
        answer = self.route(rec)
        if lost is None:
            return answer
        time.sleep(lost.hang)
        return None

    # -- for subclasses ---------------------------------------------------------
    def endpoint_of(self, method: str, path: str) -> str:
        return path

    def route(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def control(self, method: str, path: str, params: dict[str, str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        """``GET /_fake/requests`` lists what was recorded (for manual runs)."""
        if path == "/_fake/requests":
            with self._lock:
                return (
                    200,
                    [
                        r.__dict__ | {"files": sorted(r.files), "body": r.body.decode("utf-8", "replace")}
                        for r in self.requests
                    ],
                    {},
                )
        return 404, {"error": f"unknown control endpoint {path}"}, {}
