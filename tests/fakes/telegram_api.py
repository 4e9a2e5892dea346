"""A fake Telegram Bot API for tests, benchmarks and manual runs.

Speaks enough of https://core.telegram.org/bots/api for the connector:
getMe, sendMessage, sendPhoto, sendDocument, sendLocation, answerCallbackQuery, setWebhook,
deleteWebhook, getWebhookInfo, getUpdates (long polling on updates you push).
Requests arrive as ``/bot<token>/<method>``; a wrong token gets 401 like the real API.

    python -m tests.fakes.telegram_api --port 8081 --token 123:abc

Control endpoints (not recorded): ``GET /_fake/requests``, ``POST /_fake/updates``
(a JSON update to hand out on the next getUpdates).
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from typing import Any

from ._server import FakeServer, Recorded

__all__ = ["FakeTelegramAPI", "DEFAULT_TOKEN"]

DEFAULT_TOKEN = "123456:TEST-token_for-fake"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Nimbus Air",
    "username": "nimbus_air_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


def _error(status: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body, {}


class FakeTelegramAPI(FakeServer):
    """Fake Bot API; ``base_url`` is what ``Bot(token, base_url=...)`` takes."""

    def __init__(self, token: str = DEFAULT_TOKEN, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.token = token
        self.webhook: dict[str, Any] = {"url": "", "secret_token": ""}
        self._ids = itertools.count(1000)
        self._updates: list[dict[str, Any]] = []
        self._updates_cv = threading.Condition()

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/bot"

    # -- test helpers ---------------------------------------------------------
    def fail_retry_after(self, endpoint: str, retry_after: int, times: int = 1) -> None:
        """Answer like Telegram's flood control: 429 with parameters.retry_after."""
        self.fail(
            endpoint,
            429,
            _error(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)[1],
            times,
        )

    def fail_with(self, endpoint: str, status: int, description: str, times: int = 1) -> None:
        """E.g. 403 "Forbidden: bot was blocked by the user", 400 "Bad Request: chat not found"."""
        self.fail(endpoint, status, _error(status, description)[1], times)

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (long polling)."""
        with self._updates_cv:
            self._updates.append(update)
            self._updates_cv.notify_all()

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        return [
            r.params.get("text", "")
            for r in self.calls("sendMessage")
            if chat_id is None or r.params.get("chat_id") == str(chat_id)
        ]

    # -- routing --------------------------------------------------------------
    def endpoint_of(self, method: str, path: str) -> str:
        return path.rsplit("/", 1)[-1]

    def _message(self, rec: Recorded, **extra: Any) -> dict[str, Any]:
        chat_id = int(rec.params["chat_id"])
        msg: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "first_name": "Customer"},
            "from": BOT_USER,
        }
        if "reply_markup" in rec.params:
            msg["reply_markup"] = json.loads(rec.params["reply_markup"])
        msg.update(extra)
        return msg

    def route(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        prefix = f"/bot{self.token}/"
        if not rec.path.startswith(prefix):
            return _error(401, "Unauthorized")
        ep = rec.endpoint
        p = rec.params
        if ep == "getMe":
            result: Any = BOT_USER
        elif ep == "sendMessage":
            if "chat_id" not in p or not p.get("text"):
                return _error(400, "Bad Request: message text is empty")
            if len(p["text"]) > 4096:
                return _error(400, "Bad Request: message is too long")
            result = self._message(rec, text=p["text"])
        elif ep == "sendPhoto":
            result = self._message(
                rec,
                photo=[{"file_id": "AgAC-fake-photo", "file_unique_id": "u1", "width": 640, "height": 480}],
                **({"caption": p["caption"]} if p.get("caption") else {}),
            )
        elif ep == "sendDocument":
            result = self._message(
                rec,
                document={"file_id": "BQAC-fake-doc", "file_unique_id": "u2"},
                **({"caption": p["caption"]} if p.get("caption") else {}),
            )
        elif ep == "sendLocation":
            result = self._message(rec, location={"latitude": float(p["latitude"]), "longitude": float(p["longitude"])})
        elif ep == "answerCallbackQuery":
            result = True
        elif ep == "setWebhook":
            self.webhook = {"url": p.get("url", ""), "secret_token": p.get("secret_token", "")}
            result = True
        elif ep == "deleteWebhook":
            self.webhook = {"url": "", "secret_token": ""}
            result = True
        elif ep == "getWebhookInfo":
            result = {"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": 0}
        elif ep == "getUpdates":
            if self.webhook["url"]:
                return _error(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            result = self._get_updates(int(p.get("offset", 0) or 0), float(p.get("timeout", 0) or 0))
        else:
            return _error(404, "Not Found")
        return 200, {"ok": True, "result": result}, {}

    def _get_updates(self, offset: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + min(timeout, 30)
        with self._updates_cv:
            while True:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline:
                    return list(self._updates)
                self._updates_cv.wait(max(0.0, deadline - time.monotonic()))

    def control(self, method: str, path: str, params: dict[str, str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        if path == "/_fake/updates" and method == "POST":
            self.push_update(json.loads(body))
            return 200, {"ok": True}, {}
        return super().control(method, path, params, body)


def main() -> None:
    ap = argparse.ArgumentParser(description="Fake Telegram Bot API on 127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--token", default=DEFAULT_TOKEN)
    args = ap.parse_args()
    fake = FakeTelegramAPI(args.token, args.host, args.port)
    fake.run_standalone(
        f"fake Telegram Bot API on {fake.base_url} (token {args.token}); set channels.telegram.api_base_url to it"
    )


if __name__ == "__main__":
    main()
