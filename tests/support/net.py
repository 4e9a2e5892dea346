"""Free ports on 127.0.0.1 and waiting for something to come up."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable

from bots.stores.redis_client import free_port

__all__ = ["free_port", "wait_for", "wait_http_ok", "wait_listening"]


def wait_for(cond: Callable[[], bool], timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll ``cond`` until it is true.

    Raises:
        AssertionError: after ``timeout`` seconds, naming ``what``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _answers_200(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def wait_listening(port: int, timeout: float = 30.0) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:``port``."""
    wait_for(lambda: _listening(port), timeout, f"a server listening on 127.0.0.1:{port}", interval=0.1)


def wait_http_ok(port: int, path: str = "/readyz", timeout: float = 30.0) -> None:
    """Wait until ``GET http://127.0.0.1:port/path`` answers 200 (``/readyz``: stores reachable)."""
    wait_for(lambda: _answers_200(port, path), timeout, f"200 from http://127.0.0.1:{port}{path}", interval=0.1)
