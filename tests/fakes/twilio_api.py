"""A fake Twilio REST API (Messages and Accounts) for tests, benchmarks and manual runs.

Speaks the part of ``https://api.twilio.com/2010-04-01`` the connectors use:
``POST /Accounts/{sid}/Messages.json`` (create), ``GET /Accounts/{sid}/Messages.json``
(list, newest first, filtered by ``To`` and ``From``; one page) and
``GET /Accounts/{sid}.json``, with HTTP
basic auth checked like Twilio (20003 otherwise). Errors come back in Twilio's
JSON shape (``code``, ``message``, ``more_info``, ``status``) so twilio's client
raises its real ``TwilioRestException``.

    python -m tests.fakes.twilio_api --port 8082 --sid AC... --token ...

``GET /_fake/requests`` lists what was recorded.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from ._server import FakeServer, Recorded

__all__ = ["FakeTwilioAPI", "DEFAULT_SID", "DEFAULT_TOKEN", "ERROR_MESSAGES"]

DEFAULT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_TOKEN = "fake_auth_token_0123456789abcdef"
ERROR_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    21211: "Invalid 'To' Phone Number",
    21610: "Attempt to send to unsubscribed recipient",
    63014: "Message could not be delivered: the recipient blocked the business or is unreachable",
    63016: "Failed to send freeform message because you are outside the allowed window. Please use a Template.",
}
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages\.json$")
_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(AC\w+)\.json$")


def twilio_error(code: int, status: int = 400, message: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilioAPI(FakeServer):
    """Fake Twilio REST API; ``base_url`` is what ``channels.twilio.api_base_url`` takes."""

    def __init__(
        self, account_sid: str = DEFAULT_SID, auth_token: str = DEFAULT_TOKEN, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(host, port)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._seq = itertools.count(1)
        #: every message created, oldest first (what the list endpoint answers from).
        self.created: list[dict[str, Any]] = []
        self._created_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.root_url

    # -- test helpers ---------------------------------------------------------
    def fail_code(
        self, code: int, status: int = 400, times: int = 1, when: Callable[[Recorded], bool] | None = None
    ) -> None:
        """Answer the next message creation(s) with Twilio error ``code`` (21610, 63016, 63014...)."""
        self.fail("Messages", status, twilio_error(code, status), times, when)

    def messages(self, to: str | None = None) -> list[dict[str, str]]:
        """Form fields of every message creation (To, From, Body, ContentSid, ContentVariables...)."""
        return [
            r.params for r in self.calls("Messages") if r.method == "POST" and (to is None or r.params.get("To") == to)
        ]

    def reset(self) -> None:
        super().reset()
        with self._created_lock:
            self.created.clear()

    def lists(self) -> list[dict[str, str]]:
        """Query parameters of every Messages list call."""
        return [r.query for r in self.calls("Messages") if r.method == "GET"]

    # -- routing --------------------------------------------------------------
    def endpoint_of(self, method: str, path: str) -> str:
        if _MESSAGES.match(path):
            return "Messages"
        if _ACCOUNT.match(path):
            return "Account"
        return path

    def _authorized(self, rec: Recorded) -> bool:
        auth = rec.headers.get("Authorization") or rec.headers.get("authorization") or ""
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return auth == expected

    def route(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        if not self._authorized(rec):
            return 401, twilio_error(20003, 401), {}
        now = format_datetime(datetime.now(UTC), usegmt=True)
        if rec.endpoint == "Account" and rec.method == "GET":
            return (
                200,
                {
                    "sid": self.account_sid,
                    "friendly_name": "Fake account",
                    "status": "active",
                    "type": "Full",
                    "date_created": now,
                    "date_updated": now,
                    "owner_account_sid": self.account_sid,
                    "auth_token": self.auth_token,
                    "uri": rec.path,
                    "subresource_uris": {},
                },
                {},
            )
        if rec.endpoint == "Messages" and rec.method == "GET":
            return 200, self._list(rec), {}
        if rec.endpoint == "Messages" and rec.method == "POST":
            p = rec.params
            if not p.get("To"):
                return 400, twilio_error(21604, 400, "A 'To' phone number is required."), {}
            if not (p.get("Body") or p.get("MediaUrl") or p.get("ContentSid")):
                return 400, twilio_error(21619, 400, "A text message body or media urls must be specified."), {}
            if len(p.get("Body", "")) > 1600:
                return (
                    400,
                    twilio_error(21617, 400, "The concatenated message body exceeds the 1600 character limit."),
                    {},
                )
            sid = f"SM{next(self._seq):032x}"
            message: dict[str, Any] = {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": p["To"],
                "from": p.get("From") or None,
                "messaging_service_sid": p.get("MessagingServiceSid") or None,
                "body": p.get("Body", ""),
                "status": "queued",
                "num_segments": "1",
                "num_media": "0",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "price": None,
                "price_unit": "USD",
                "error_code": None,
                "error_message": None,
                "date_created": now,
                "date_updated": now,
                "date_sent": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
                "subresource_uris": {},
            }
            with self._created_lock:
                self.created.append(message)
            return 201, message, {}
        return 404, twilio_error(20404, 404, f"The requested resource {rec.path} was not found"), {}

    def _list(self, rec: Recorded) -> dict[str, Any]:
        q = rec.query
        size = int(q.get("PageSize") or 50)
        with self._created_lock:
            found = [
                m
                for m in reversed(self.created)
                if (not q.get("To") or m["to"] == q["To"]) and (not q.get("From") or m["from"] == q["From"])
            ][:size]
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json?PageSize={size}&Page=0"
        return {
            "messages": found,
            "start": 0,
            "end": max(0, len(found) - 1),
            "page": 0,
            "page_size": size,
            "uri": uri,
            "first_page_uri": uri,
            "next_page_uri": None,
            "previous_page_uri": None,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description="Fake Twilio REST API on 127.0.0.1")
    ap.add_argument("--port", type=int, default=8082)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--sid", default=DEFAULT_SID)
    ap.add_argument("--token", default=DEFAULT_TOKEN)
    args = ap.parse_args()
    fake = FakeTwilioAPI(args.sid, args.token, args.host, args.port)
    fake.run_standalone(
        f"fake Twilio API on {fake.base_url} (account {args.sid}); set channels.twilio.api_base_url to it"
    )


if __name__ == "__main__":
    main()
