"""A fake Meta Graph API (Messenger, Instagram and WhatsApp Cloud sends) for tests, benchmarks and manual runs.

Speaks the part of ``https://graph.facebook.com/v21.0`` the Meta connectors use:
``POST /{version}/{account_id}/messages`` (a Messenger or Instagram send or sender action when
``account_id`` is the fake's page or Instagram account, a WhatsApp Cloud send or read receipt when
it is its phone number id) and ``GET /{version}/{account_id}?fields=id,name`` (the doctor check).
Every call needs ``Authorization: Bearer <token>`` (401 with code 190 otherwise). Bodies are
checked like Graph checks what the connectors send (required fields, lengths, counts) and refused
with 400 and code 100 naming the field; errors come back in Graph's shape
(``{"error": {"message", "type", "code", "error_subcode"?, "fbtrace_id"}}``).

    python -m tests.fakes.graph_api --port 8083 --token ... --page-id ... --phone-number-id ...

``GET /_fake/requests`` lists what was recorded.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from collections.abc import Callable
from typing import Any

from ._server import FakeServer, Recorded

__all__ = [
    "FakeGraphAPI",
    "graph_error",
    "is_send",
    "is_typing",
    "body_of",
    "DEFAULT_TOKEN",
    "DEFAULT_PAGE_ID",
    "DEFAULT_INSTAGRAM_ID",
    "DEFAULT_PHONE_NUMBER_ID",
    "VERSION",
    "ERROR_MESSAGES",
    "RATE_LIMIT_CODES",
]

VERSION = "v21.0"
DEFAULT_TOKEN = "EAAfakePageAccessToken0123456789abcdef"
DEFAULT_PAGE_ID = "104857600000001"
DEFAULT_INSTAGRAM_ID = "17841400000000001"
DEFAULT_PHONE_NUMBER_ID = "106540352000001"

ERROR_MESSAGES = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "(#4) Application request limit reached",
    10: "(#10) This message is sent outside of allowed window.",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    100: "(#100) Invalid parameter",
    190: "Invalid OAuth access token - Cannot parse access token",
    551: "(#551) This person isn't available right now.",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80007: "(#80007) Rate limit issues",
    130429: "(#130429) Rate limit hit",
    131026: "(#131026) Message undeliverable",
    131047: "(#131047) Re-engagement message",
    131056: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
}
#: Graph's rate-limit codes; the WhatsApp throughput ones come with HTTP 429, the others with 400.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80007, 130429, 131056})
_TRANSIENT_CODES = RATE_LIMIT_CODES | {1, 2}
_WHATSAPP_CODES = frozenset({80007, 130429, 131026, 131047, 131056})

_MESSAGES = re.compile(r"^/v\d+\.\d+/([^/]+)/messages/?$")
_ACCOUNT = re.compile(r"^/v\d+\.\d+/([^/]+)/?$")

_MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
_TAGS = ("HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "CUSTOMER_FEEDBACK")
_SENDER_ACTIONS = ("typing_on", "typing_off", "mark_seen")
_ATTACHMENT_TYPES = ("image", "video", "audio", "file", "template")
_MAX_TEXT = {"messenger": 2000, "instagram": 1000}
_WA_TYPES = ("text", "interactive", "template", "image", "document", "audio", "video")
_WA_MEDIA = ("image", "document", "audio", "video")

_trace_ids = itertools.count(1)


def graph_error(code: int, message: str | None = None, subcode: int | None = None, status: int = 400) -> dict[str, Any]:
    """Graph's error body for ``code`` (190, 100, 10 + subcode 2018278, 551, 613, 131047...).

    ``is_transient`` is true for the rate-limit and "retry later" codes and for 5xx ``status``;
    the WhatsApp codes carry ``error_data`` like the Cloud API's.
    """
    error: dict[str, Any] = {
        "message": message or ERROR_MESSAGES.get(code, f"(#{code}) Error"),
        "type": "OAuthException",
        "code": code,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    error["is_transient"] = code in _TRANSIENT_CODES or status >= 500
    if code in _WHATSAPP_CODES:
        error["error_data"] = {"messaging_product": "whatsapp", "details": error["message"]}
    error["fbtrace_id"] = f"AfakeTrace{next(_trace_ids):012d}"
    return {"error": error}


def _decode(value: str) -> Any:
    """A form field as Graph reads it: nested objects arrive JSON-encoded."""
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def body_of(rec: Recorded) -> dict[str, Any]:
    """The JSON object a recorded call sent (a form-encoded body decoded like Graph does; {} if none)."""
    ctype = rec.headers.get("Content-Type") or rec.headers.get("content-type") or ""
    if ctype.startswith("application/json"):
        try:
            decoded = json.loads(rec.body) if rec.body else {}
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {k: _decode(v) for k, v in rec.params.items()}


def is_typing(rec: Recorded) -> bool:
    """A sender action (Messenger/Instagram) or read receipt / typing indicator (WhatsApp)."""
    body = body_of(rec)
    return rec.method == "POST" and ("sender_action" in body or "status" in body)


def is_send(rec: Recorded) -> bool:
    """A message send (not a sender action or read receipt): a ``when`` for :meth:`FakeGraphAPI.fail_code`."""
    return rec.method == "POST" and rec.endpoint == "messages" and not is_typing(rec)


class _Invalid(Exception):
    """A body Graph refuses: code 100 with this message."""


def _obj(parent: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    value = parent.get(key)
    if value is None:
        raise _Invalid(f"(#100) The parameter {name} is required")
    if not isinstance(value, dict):
        raise _Invalid(f"(#100) Param {name} must be a JSON object")
    return value


def _text(parent: dict[str, Any], key: str, name: str, limit: int, required: bool = True) -> str | None:
    value = parent.get(key)
    if value is None or value == "":
        if required:
            raise _Invalid(f"(#100) The parameter {name} is required")
        return None
    if not isinstance(value, str):
        raise _Invalid(f"(#100) Param {name} must be a string")
    if len(value) > limit:
        raise _Invalid(f"(#100) Length of param {name} must be less than or equal to {limit}")
    return value


def _id(parent: dict[str, Any], key: str, name: str) -> str:
    value = parent.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"(#100) Param {name} must be a valid ID")
    return value


def _list(parent: dict[str, Any], key: str, name: str, most: int, least: int = 1) -> list[Any]:
    value = parent.get(key)
    if value is None:
        raise _Invalid(f"(#100) The parameter {name} is required")
    if not isinstance(value, list):
        raise _Invalid(f"(#100) Param {name} must be an array")
    if not least <= len(value) <= most:
        raise _Invalid(f"(#100) Param {name} must have between {least} and {most} elements, got {len(value)}")
    return value


def _check_messenger(body: dict[str, Any], kind: str) -> str:
    """Validate a Messenger/Instagram send; returns "typing" or "message"."""
    recipient = _obj(body, "recipient", "recipient")
    _id(recipient, "id", "recipient[id]")
    has_message, has_action = "message" in body, "sender_action" in body
    if has_message and has_action:
        raise _Invalid("(#100) Param sender_action cannot be sent with message")
    if has_action:
        if body["sender_action"] not in _SENDER_ACTIONS:
            raise _Invalid(f"(#100) Param sender_action must be one of {{{', '.join(_SENDER_ACTIONS)}}}")
        return "typing"
    if not has_message:
        raise _Invalid("(#100) The parameter message or sender_action is required")
    messaging_type = body.get("messaging_type")
    if messaging_type is None:
        raise _Invalid("(#100) The parameter messaging_type is required")
    if messaging_type not in _MESSAGING_TYPES:
        raise _Invalid(f"(#100) Param messaging_type must be one of {{{', '.join(_MESSAGING_TYPES)}}}")
    if messaging_type == "MESSAGE_TAG":
        tag = body.get("tag")
        if not tag:
            raise _Invalid("(#100) The parameter tag is required with messaging_type MESSAGE_TAG")
        allowed = ("HUMAN_AGENT",) if kind == "instagram" else _TAGS
        if tag not in allowed:
            raise _Invalid(f"(#100) Param tag must be one of {{{', '.join(allowed)}}}")
    message = _obj(body, "message", "message")
    has_text, has_attachment = "text" in message, "attachment" in message
    if has_text == has_attachment:
        raise _Invalid("(#100) Param message must have exactly one of message[text] or message[attachment]")
    if has_text:
        _text(message, "text", "message[text]", _MAX_TEXT[kind])
    else:
        attachment = _obj(message, "attachment", "message[attachment]")
        if attachment.get("type") not in _ATTACHMENT_TYPES:
            raise _Invalid(f"(#100) Param message[attachment][type] must be one of {{{', '.join(_ATTACHMENT_TYPES)}}}")
        payload = _obj(attachment, "payload", "message[attachment][payload]")
        if attachment["type"] == "template":
            if not payload.get("template_type"):
                raise _Invalid("(#100) The parameter message[attachment][payload][template_type] is required")
        elif not (payload.get("url") or payload.get("attachment_id")):
            raise _Invalid("(#100) The parameter message[attachment][payload][url] is required")
    if "quick_replies" in message:
        replies = _list(message, "quick_replies", "message[quick_replies]", 13)
        for i, reply in enumerate(replies):
            name = f"message[quick_replies][{i}]"
            if not isinstance(reply, dict):
                raise _Invalid(f"(#100) Param {name} must be a JSON object")
            content_type = reply.get("content_type", "text")
            if content_type not in ("text", "user_phone_number", "user_email"):
                raise _Invalid(
                    f"(#100) Param {name}[content_type] must be one of {{text, user_phone_number, user_email}}"
                )
            if content_type == "text":
                _text(reply, "title", f"{name}[title]", 20)
                _text(reply, "payload", f"{name}[payload]", 1000)
    return "message"


def _check_whatsapp(body: dict[str, Any]) -> str:
    """Validate a WhatsApp Cloud send; returns "read" or "message"."""
    if body.get("messaging_product") != "whatsapp":
        raise _Invalid("(#100) The parameter messaging_product is required.")
    if "status" in body:
        if body["status"] != "read":
            raise _Invalid("(#100) Param status must be 'read'")
        _id(body, "message_id", "message_id")
        if "typing_indicator" in body:
            indicator = _obj(body, "typing_indicator", "typing_indicator")
            if indicator.get("type") != "text":
                raise _Invalid("(#100) Param typing_indicator.type must be 'text'")
        return "read"
    to = body.get("to")
    if not isinstance(to, str) or not re.fullmatch(r"\+?\d{5,20}", to):
        raise _Invalid("(#100) Param to must be a phone number (digits, optional leading +)")
    if body.get("recipient_type", "individual") != "individual":
        raise _Invalid("(#100) Param recipient_type must be 'individual'")
    kind = body.get("type", "text")  # Graph's default
    if kind not in _WA_TYPES:
        raise _Invalid(f"(#100) Param type must be one of {{{', '.join(_WA_TYPES)}}}")
    content = _obj(body, kind, kind)
    if kind == "text":
        _text(content, "body", "text.body", 4096)
        if not isinstance(content.get("preview_url", False), bool):
            raise _Invalid("(#100) Param text.preview_url must be a boolean")
    elif kind == "interactive":
        _check_interactive(content)
    elif kind == "template":
        _text(content, "name", "template.name", 512)
        language = _obj(content, "language", "template.language")
        _text(language, "code", "template.language.code", 15)
        if "components" in content and not isinstance(content["components"], list):
            raise _Invalid("(#100) Param template.components must be an array")
    else:  # media
        if not (content.get("link") or content.get("id")):
            raise _Invalid(f"(#100) The parameter {kind}.link or {kind}.id is required")
        if kind == "audio" and "caption" in content:
            raise _Invalid("(#100) Param audio.caption is not supported")
        _text(content, "caption", f"{kind}.caption", 1024, required=False)
    return "message"


def _check_interactive(interactive: dict[str, Any]) -> None:
    kind = interactive.get("type")
    if kind not in ("button", "list"):
        raise _Invalid("(#100) Param interactive.type must be one of {button, list}")
    _text(_obj(interactive, "body", "interactive.body"), "text", "interactive.body.text", 1024)
    action = _obj(interactive, "action", "interactive.action")
    if kind == "button":
        buttons = _list(action, "buttons", "interactive.action.buttons", 3)
        for i, button in enumerate(buttons):
            name = f"interactive.action.buttons[{i}]"
            if not isinstance(button, dict) or button.get("type") != "reply":
                raise _Invalid(f"(#100) Param {name}.type must be 'reply'")
            reply = _obj(button, "reply", f"{name}.reply")
            _text(reply, "id", f"{name}.reply.id", 256)
            _text(reply, "title", f"{name}.reply.title", 20)
        titles = [b["reply"]["title"] for b in buttons]
        if len(set(titles)) != len(titles):
            raise _Invalid("(#100) Param interactive.action.buttons must have unique titles")
        return
    _text(action, "button", "interactive.action.button", 20)
    sections = _list(action, "sections", "interactive.action.sections", 10)
    rows = 0
    for i, section in enumerate(sections):
        name = f"interactive.action.sections[{i}]"
        if not isinstance(section, dict):
            raise _Invalid(f"(#100) Param {name} must be a JSON object")
        _text(section, "title", f"{name}.title", 24, required=len(sections) > 1)
        for j, row in enumerate(_list(section, "rows", f"{name}.rows", 10)):
            if not isinstance(row, dict):
                raise _Invalid(f"(#100) Param {name}.rows[{j}] must be a JSON object")
            _text(row, "id", f"{name}.rows[{j}].id", 200)
            _text(row, "title", f"{name}.rows[{j}].title", 24)
            _text(row, "description", f"{name}.rows[{j}].description", 72, required=False)
            rows += 1
    if rows > 10:
        raise _Invalid(f"(#100) Param interactive.action.sections must have at most 10 rows in all, got {rows}")


class FakeGraphAPI(FakeServer):
    """Fake Graph API; ``base_url`` is what the Meta connectors' ``api_base_url`` takes.

    Args:
        token: the access token every call must carry (``Authorization: Bearer <token>``).
        page_id: the Messenger page; ``instagram_id``: the Instagram account;
            ``phone_number_id``: the WhatsApp Cloud number (``""`` turns that product off).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        page_id: str = DEFAULT_PAGE_ID,
        instagram_id: str = DEFAULT_INSTAGRAM_ID,
        phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.token = token
        self.page_id = page_id
        self.instagram_id = instagram_id
        self.phone_number_id = phone_number_id
        self._seq = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/{VERSION}"

    def kind_of(self, account_id: str) -> str | None:
        """ "messenger", "instagram", "whatsapp" or None for an id that is not the fake's."""
        accounts = {self.page_id: "messenger", self.instagram_id: "instagram", self.phone_number_id: "whatsapp"}
        return accounts.get(account_id) if account_id else None

    # -- test helpers ---------------------------------------------------------
    def fail_code(
        self,
        code: int,
        status: int = 400,
        times: int = 1,
        subcode: int | None = None,
        when: Callable[[Recorded], bool] | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``/messages`` (sends, sender actions and read receipts
        alike; ``when=is_send`` for sends only) with Graph error ``code`` (10 + subcode 2018278,
        551, 131047, 2 with status 500...)."""
        self.fail("messages", status, graph_error(code, subcode=subcode, status=status), times, when)

    def rate_limit(self, times: int = 1, code: int = 613, when: Callable[[Recorded], bool] | None = None) -> None:
        """Answer the next ``times`` calls of ``/messages`` with rate-limit ``code``: HTTP 429 for
        WhatsApp's throughput limits (130429, 131056), 400 for the others (4, 17, 32, 613, 80007)."""
        self.fail_code(code, 429 if code in (130429, 131056) else 400, times, when=when)

    def _posts(self, account_id: str | None) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for rec in self.calls("messages"):
            m = _MESSAGES.match(rec.path)
            if rec.method == "POST" and m and (account_id is None or m.group(1) == account_id):
                found.append((m.group(1), body_of(rec)))
        return found

    def sends(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies of every message send received (answered or refused), oldest first;
        sender actions and read receipts are in :meth:`typing`."""
        return [body for _, body in self._posts(account_id) if "sender_action" not in body and "status" not in body]

    def typing(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies of the sender actions (Messenger/Instagram) and read receipts with or
        without ``typing_indicator`` (WhatsApp)."""
        return [body for _, body in self._posts(account_id) if "sender_action" in body or "status" in body]

    def texts(self, recipient: str) -> list[str]:
        """The texts sent to ``recipient`` (a PSID/IGSID, or a WhatsApp ``to``), oldest first:
        ``message.text``, WhatsApp ``text.body`` and the body text of interactive messages."""
        found: list[str] = []
        for body in self.sends():
            to = body.get("recipient", {}).get("id") if isinstance(body.get("recipient"), dict) else body.get("to")
            if str(to) != recipient:
                continue
            message = body.get("message")
            if isinstance(message, dict) and isinstance(message.get("text"), str):
                found.append(message["text"])
            elif isinstance(body.get("text"), dict) and isinstance(body["text"].get("body"), str):
                found.append(body["text"]["body"])
            elif isinstance(body.get("interactive"), dict) and isinstance(body["interactive"].get("body"), dict):
                text = body["interactive"]["body"].get("text")
                if isinstance(text, str):
                    found.append(text)
        return found

    # -- routing --------------------------------------------------------------
    def endpoint_of(self, method: str, path: str) -> str:
        if _MESSAGES.match(path):
            return "messages"
        if _ACCOUNT.match(path):
            return "account"
        return path

    def _authorized(self, rec: Recorded) -> bool:
        auth = rec.headers.get("Authorization") or rec.headers.get("authorization") or ""
        return auth == f"Bearer {self.token}" or rec.query.get("access_token") == self.token

    def route(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        if not self._authorized(rec):
            return 401, graph_error(190, status=401), {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'}
        m = _MESSAGES.match(rec.path) or _ACCOUNT.match(rec.path)
        if m is None or (rec.endpoint, rec.method) not in (("messages", "POST"), ("account", "GET")):
            return 400, graph_error(100, f"(#100) Unknown path components: {rec.path}"), {}
        account_id = m.group(1)
        kind = self.kind_of(account_id)
        if kind is None:
            verb = "post" if rec.method == "POST" else "get"
            message = (
                f"Unsupported {verb} request. Object with ID '{account_id}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation."
            )
            return 400, graph_error(100, message, subcode=33), {}
        if rec.endpoint == "account":
            return self._account(rec, account_id, kind)
        body = body_of(rec)
        try:
            what = _check_whatsapp(body) if kind == "whatsapp" else _check_messenger(body, kind)
        except _Invalid as exc:
            return 400, graph_error(100, str(exc)), {}
        if what == "read":
            return 200, {"success": True}, {}
        if what == "typing":
            return 200, {"recipient_id": str(body["recipient"]["id"])}, {}
        seq = next(self._seq)
        if kind == "whatsapp":
            to = body["to"]
            return (
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                    "messages": [{"id": f"wamid.{seq}"}],
                },
                {},
            )
        return 200, {"recipient_id": str(body["recipient"]["id"]), "message_id": f"m_{seq}"}, {}

    def _account(self, rec: Recorded, account_id: str, kind: str) -> tuple[int, Any, dict[str, str]]:
        node: dict[str, Any] = {"id": account_id, "name": "Nimbus Air"}
        if kind == "instagram":
            node["username"] = "nimbus_air"
        elif kind == "whatsapp":
            node |= {"verified_name": "Nimbus Air", "display_phone_number": "+1 555-010-0100"}
        fields = [f.strip() for f in rec.query.get("fields", "id,name").split(",") if f.strip()]
        unknown = [f for f in fields if f not in node]
        if unknown:
            node_type = {"messenger": "Page", "instagram": "IGUser", "whatsapp": "WhatsAppBusinessPhoneNumber"}[kind]
            message = f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type ({node_type})"
            return 400, graph_error(100, message), {}
        return 200, {f: node[f] for f in fields}, {}


def main() -> None:
    ap = argparse.ArgumentParser(description="Fake Meta Graph API on 127.0.0.1")
    ap.add_argument("--port", type=int, default=8083)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--token", default=DEFAULT_TOKEN)
    ap.add_argument("--page-id", default=DEFAULT_PAGE_ID)
    ap.add_argument("--instagram-id", default=DEFAULT_INSTAGRAM_ID)
    ap.add_argument("--phone-number-id", default=DEFAULT_PHONE_NUMBER_ID)
    args = ap.parse_args()
    fake = FakeGraphAPI(args.token, args.page_id, args.instagram_id, args.phone_number_id, args.host, args.port)
    fake.run_standalone(
        f"fake Meta Graph API on {fake.base_url} (page {args.page_id}, instagram {args.instagram_id}, "
        f"phone number {args.phone_number_id}, token {args.token}); set the Meta channels' api_base_url to it"
    )


if __name__ == "__main__":
    main()
