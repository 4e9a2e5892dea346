"""The staff JSON API at ``/api/v1``: the desk's inbox and actions for scripts and integrations.

Authentication: ``Authorization: Bearer <token>`` (``brandbot staff token EMAIL``); roles
agent and admin. Every answer is JSON; errors are ``{"error": "..."}`` with 400 (bad
body, query or conversation id), 401/403 (token, role), 404 (unknown conversation or
route), 405, 409 (not possible in the conversation's mode), 413 (body over 1 MiB), 422
(refused input; a parameter or body field that breaks the OpenAPI description is answered
``{"error": "<field>: <problem>", "field": "<field>"}`` before the view runs), 502 (the
channel refused the reply), 503 (Redis or SQL down). Datetimes are ISO 8601. The OpenAPI
description (``bots/web/openapi/api_v1.yaml``) is served at ``GET /api/v1/openapi.json``
without a token.

    GET  /api/v1/openapi.json
    GET  /api/v1/conversations?view=&mode=&channel=&language=&q=&limit=&offset=
    GET  /api/v1/conversations/<id>
    POST /api/v1/conversations/<id>/takeover | /handback | /resolve
    POST /api/v1/conversations/<id>/messages  {"text": "...", "template": "reply"?}
    POST /api/v1/conversations/<id>/notes     {"text": "..."}
    POST /api/v1/conversations/<id>/assign    {"staff_id": 3} or {"email": "ana@example.com"}
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from connectors.input_text import BadInput, clean_text

from ..apikeys.web import require_api_key
from ..desk import Conflict, Desk, InvalidInput, NotFound
from ..desk.views import jsonable
from ..errors import StoreUnavailable
from ..services import Services
from ..staff.accounts import Accounts, StaffMember
from ..staff.web_auth import require_token
from .openapi import Description, load
from .openapi.validation import validator_for

__all__ = ["bp", "register", "PREFIX"]

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
ROLES = ("agent", "admin")
#: the API key scope of the brand systems' operations (notifications), and its OpenAPI scheme names.
NOTIFY = "notify"
API_KEY_SCHEMES = ("apiKey", "apiKeyBearer")
_EXTENSION = "brandbot_api"

bp = Blueprint("api", __name__, url_prefix=PREFIX)


#: longest conversation id taken (``<channel>:<customer id>``; the column holds 200).
MAX_CONVERSATION_ID = 200
#: longest channel or language filter and template kind; longest email (RFC 5321).
MAX_NAME = 64
MAX_EMAIL = 254
#: a staff id and a page offset stay within what every SQL backend's integers hold.
MAX_STAFF_ID = 2**31 - 1
MAX_OFFSET = 1_000_000


class BadRequest(Exception):
    """A body, query string or conversation id the API cannot read (answered 400)."""


def _desk() -> Desk:
    return _parts()[0]


def _accounts() -> Accounts:
    return _parts()[1]


def _parts() -> tuple[Desk, Accounts]:
    from flask import current_app

    return current_app.extensions[_EXTENSION]


def _staff() -> StaffMember:
    return g.staff


def _error(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _ok(payload: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(jsonable(payload))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _body() -> dict[str, Any]:
    """The JSON object of the request body.

    Raises:
        BadRequest: not JSON, invalid JSON, or not an object.
    """
    if not request.is_json:
        raise BadRequest(f"send a JSON body with Content-Type: application/json (got {request.mimetype or 'none'!r})")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("the body is not valid JSON")
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, not {type(data).__name__}")
    return data


def _optional_body() -> dict[str, Any]:
    """A JSON object when a body was sent (actions without parameters accept none)."""
    return _body() if request.content_length or request.data else {}


def _int_arg(name: str, default: int, lowest: int, highest: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadRequest(f"query parameter {name}={raw[:40]!r} is not a whole number") from exc
    if not lowest <= value <= highest:
        raise BadRequest(f"query parameter {name}={value} is out of range ({lowest} to {highest})")
    return value


def _text(value: object, field: str, max_chars: int) -> str:
    """``value`` through the door's text check (``clean_text``); a refusal is a 400 with its reason."""
    try:
        return clean_text(value, field=field, max_chars=max_chars)
    except BadInput as exc:
        raise BadRequest(str(exc)) from exc


def _text_arg(name: str, max_chars: int) -> str | None:
    """A free-text query parameter, checked; None when absent or empty."""
    raw = request.args.get(name)
    return _text(raw, f"query parameter {name}", max_chars) if raw else None


def _conversation(conversation_id: str) -> str:
    """The conversation id of the path, refused (400) when it cannot be one: too long, or holding
    control characters (NUL cannot even be stored in PostgreSQL text)."""
    if _text(conversation_id, "conversation id", MAX_CONVERSATION_ID) != conversation_id:
        raise BadRequest("the conversation id holds control characters (or Unicode not in NFC form)")
    return conversation_id


# -- errors: JSON everywhere under /api/v1 ----------------------------------------------------
@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> Response:
    return _error(400, str(exc))


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    return _error(404, str(exc))


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> Response:
    return _error(409, str(exc))


@bp.errorhandler(InvalidInput)
def _invalid(exc: InvalidInput) -> Response:
    return _error(422, str(exc))


@bp.errorhandler(StoreUnavailable)
def _unavailable(exc: StoreUnavailable) -> Response:
    log.error("api: %s", exc)
    response = _error(503, "the service is temporarily unavailable (a store did not answer); try again")
    response.headers["Retry-After"] = "5"
    return response


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response:
    return _error(exc.code or 500, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    log.exception("api: %s %s failed", request.method, request.path)
    return _error(
        500, f"internal error ({type(exc).__name__}); see the server log, request id {g.get('request_id', '-')}"
    )


def _app_http_error(exc: HTTPException) -> Any:
    """Routing errors (unknown path, wrong method) happen before a blueprint is known: answer
    JSON for paths under the API, leave every other path to Flask."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        response = _error(exc.code or 500, exc.description or exc.name)
        if exc.code == 405:
            valid = getattr(exc, "valid_methods", None)
            if valid:
                response.headers["Allow"] = ", ".join(valid)
        return response
    return exc


# -- every request checked against api_v1.yaml before its view -----------------------------------
@bp.before_request
def _validate() -> ResponseReturnValue | None:
    """A request whose parameters or JSON body break the description is answered 422 ``{"error",
    "field"}`` before the view runs; any operation added to api_v1.yaml is covered.

    Credentials come first: a refused request to an operation that needs them goes through the
    same ``require_token`` (for the brand systems' operations ``require_api_key``) the views use,
    so a missing or bad token is still 401 (a wrong role 403) and only an authenticated caller
    learns what is wrong with its input. A valid request
    costs no extra token lookup: its view authenticates it as before.
    """
    refusal = validator_for(Description.API_V1).check(request)
    if refusal is None:
        return None
    response = jsonify(refusal.as_json())
    response.status_code = 422
    response.headers["Cache-Control"] = "no-store"
    if refusal.public:
        return response
    if set(API_KEY_SCHEMES) & set(refusal.schemes):  # the brand systems' operations (notifications)
        return require_api_key(NOTIFY)(lambda: response)()
    return require_token(*ROLES)(lambda: response)()


# -- routes -------------------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi() -> Response:
    """This API's OpenAPI description (public: it holds no data, only the shape of the API)."""
    return jsonify(load(Description.API_V1))


@bp.get("/conversations")
@require_token(*ROLES)
def list_conversations() -> Response:
    args = request.args
    view = args.get("view") or ("waiting" if args.get("mode") == "waiting" else "all")
    limit, offset = _int_arg("limit", 50, 1, 200), _int_arg("offset", 0, 0, MAX_OFFSET)
    desk, staff = _desk(), _staff()
    items = desk.inbox(
        view,
        staff,
        channel=_text_arg("channel", MAX_NAME),
        language=_text_arg("language", MAX_NAME),
        mode=args.get("mode"),
        q=args.get("q"),
        limit=limit,
        offset=offset,
    )
    return _ok({"view": view, "limit": limit, "offset": offset, "conversations": items, "counts": desk.counts(staff)})


@bp.get("/conversations/<path:conversation_id>")
@require_token(*ROLES)
def get_conversation(conversation_id: str) -> Response:
    d = _desk().detail(_conversation(conversation_id))
    return _ok(
        {
            "conversation": d.summary,
            "messages": d.messages,
            "notes": d.notes,
            "slots": d.slots,
            "flow": d.flow,
            "profile": d.profile,
            "window": d.window,
            "suggestions": d.suggestions,
        }
    )


@bp.post("/conversations/<path:conversation_id>/takeover")
@require_token(*ROLES)
def takeover(conversation_id: str) -> Response:
    conversation_id = _conversation(conversation_id)
    _optional_body()
    return _ok({"conversation": _desk().takeover(conversation_id, _staff())})


@bp.post("/conversations/<path:conversation_id>/handback")
@require_token(*ROLES)
def handback(conversation_id: str) -> Response:
    conversation_id = _conversation(conversation_id)
    _optional_body()
    return _ok({"conversation": _desk().handback(conversation_id, _staff())})


@bp.post("/conversations/<path:conversation_id>/resolve")
@require_token(*ROLES)
def resolve(conversation_id: str) -> Response:
    conversation_id = _conversation(conversation_id)
    _optional_body()
    return _ok({"conversation": _desk().resolve(conversation_id, _staff())})


@bp.post("/conversations/<path:conversation_id>/messages")
@require_token(*ROLES)
def send_message(conversation_id: str) -> Response:
    conversation_id = _conversation(conversation_id)
    body = _body()
    if "text" not in body:
        raise InvalidInput('missing "text" (the reply to send)')
    template = body.get("template")
    if template is not None and not isinstance(template, str):
        raise InvalidInput('"template" must be a string (a configured template kind) or absent')
    if template is not None:
        template = _text(template, "template", MAX_NAME)
    result = _desk().reply(conversation_id, _staff(), body["text"], template_kind=template or None)
    payload = {
        "message": result.message,
        "delivery": {"status": result.status, "reason": result.reason},
        "took_over": result.took_over,
    }
    if not result.delivered:
        payload["error"] = f"the reply was not delivered ({result.status}): {result.reason}"
        return _ok(payload, 502)
    return _ok(payload, 201)


@bp.post("/conversations/<path:conversation_id>/notes")
@require_token(*ROLES)
def add_note(conversation_id: str) -> Response:
    conversation_id = _conversation(conversation_id)
    body = _body()
    if "text" not in body:
        raise InvalidInput('missing "text" (the note)')
    return _ok({"note": _desk().note(conversation_id, _staff(), body["text"])}, 201)


@bp.post("/conversations/<path:conversation_id>/assign")
@require_token(*ROLES)
def assign(conversation_id: str) -> Response:
    conversation_id = _conversation(conversation_id)
    body = _body()
    staff_id, email = body.get("staff_id"), body.get("email")
    if (staff_id is None) == (email is None):
        raise InvalidInput('send exactly one of "staff_id" (a number) or "email"')
    if email is not None:
        if not isinstance(email, str) or not email.strip():
            raise InvalidInput('"email" must be a non-empty string')
        email = _text(email, "email", MAX_EMAIL).strip()
        member = _accounts().by_email(email)
        if member is None:
            raise NotFound(f"no staff member with email {email!r}")
        staff_id = member.id
    if isinstance(staff_id, bool) or not isinstance(staff_id, int):
        raise InvalidInput(f'"staff_id" must be a whole number, not {str(staff_id)[:40]!r}')
    if not 1 <= staff_id <= MAX_STAFF_ID:
        raise NotFound(f"no staff member {staff_id}")
    return _ok({"conversation": _desk().assign(conversation_id, _staff(), staff_id)})


def register(app: Flask, services: Services, desk: Desk, accounts: Accounts) -> None:
    """Mount the API on ``app`` (call after ``init_auth``, which ``require_token`` needs).

    Args:
        services: the process's services (unused for now; kept for the common registrar shape).
        desk: the agent desk.
        accounts: staff accounts (assign by email).
    """
    app.extensions[_EXTENSION] = (desk, accounts)
    app.register_blueprint(bp)
    app.register_error_handler(404, _app_http_error)
    app.register_error_handler(405, _app_http_error)
