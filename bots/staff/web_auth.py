"""Staff sign-in for the web app: sessions, CSRF, the login page, role and token checks.

:func:`init_auth` sets the session cookie up (HttpOnly, SameSite=Lax, Secure in
production), protects every form POST with Flask-WTF's CSRF token except the
``webhooks``, ``webchat`` and ``api`` blueprints (they authenticate by signature,
visitor cookie and bearer token), and registers the ``staff_auth`` blueprint
(``/console/login``, ``/console/logout``). Views use :func:`require_roles` (HTML,
session) or :func:`require_token` (JSON, ``Authorization: Bearer``); both set
``g.staff``. The account is reloaded on every request, so disabling it takes
effect at once.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response as BaseResponse

from ..settings import Settings
from .accounts import Accounts, StaffMember
from .throttle import LoginThrottle

__all__ = [
    "CSRF_EXEMPT_BLUEPRINTS",
    "LOGIN_PATH",
    "init_auth",
    "current_staff",
    "signed_in_staff",
    "require_roles",
    "require_token",
    "safe_next",
]

P = ParamSpec("P")
R = TypeVar("R")

#: blueprints that authenticate otherwise (signatures, visitor cookie, bearer token).
CSRF_EXEMPT_BLUEPRINTS = frozenset({"webhooks", "webchat", "api"})
LOGIN_PATH = "/console/login"
#: where a sign-in lands without a ``next``.
HOME_PATH = "/console/"
_EXTENSION = "staff_auth"
_NO_STAFF = object()

bp = Blueprint("staff_auth", __name__, template_folder="templates")


@dataclass(frozen=True)
class _Auth:
    accounts: Accounts
    throttle: LoginThrottle
    csrf: CSRFProtect
    on_sign_out: Callable[[StaffMember], None] | None = None


def _auth() -> _Auth:
    return current_app.extensions[_EXTENSION]


def secure_cookies(settings: Settings) -> bool:
    """settings.console.secure_cookies, or (unset) whether the environment is production."""
    flag = settings.console.secure_cookies
    return settings.server.environment == "production" if flag is None else flag


def init_auth(
    app: Flask,
    settings: Settings,
    redis_url: str,
    accounts: Accounts,
    on_sign_out: Callable[[StaffMember], None] | None = None,
) -> None:
    """Attach staff sign-in, sessions and CSRF protection to ``app``.

    Args:
        app: the Flask app (blueprints may be registered before or after).
        settings: validated settings (console, server, stores sections).
        redis_url: the Redis holding the failed sign-in counters.
        accounts: the staff accounts.
        on_sign_out: called with the staff member who signs out (e.g. to drop their presence,
            so a customer is not told an agent is online when none is).
    """
    if not app.secret_key:
        app.secret_key = settings.server.secret_key
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies(settings),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.console.session_hours),
        # CSRF is checked by _check_csrf below, which knows the exempt blueprints by name
        # (they may be registered after this call, so Flask-WTF's exempt(bp object) won't do).
        WTF_CSRF_CHECK_DEFAULT=False,
        # the token lives as long as the session that holds it.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf = CSRFProtect(app)
    throttle = LoginThrottle(redis_url, settings.console.login_attempts, settings.stores.key_prefix)
    app.extensions[_EXTENSION] = _Auth(accounts=accounts, throttle=throttle, csrf=csrf, on_sign_out=on_sign_out)
    app.before_request(_check_csrf)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_blueprint(bp)


def _check_csrf() -> None:
    if not current_app.config["WTF_CSRF_ENABLED"] or not request.endpoint:
        return
    if CSRF_EXEMPT_BLUEPRINTS.intersection(name.rpartition(".")[2] for name in request.blueprints):
        return
    _auth().csrf.protect()


def _csrf_refused(exc: CSRFError) -> tuple[Any, int]:
    message = f"The form was refused ({exc.description}). Reload the page and try again."
    if _wants_json():
        return jsonify(error=message), 400
    return render_template("staff/error.html", title="Form expired", message=message, status=400), 400


# -- who is signed in -------------------------------------------------------------------


def current_staff() -> StaffMember | None:
    """The signed-in, enabled staff member of this request, or None.

    Read from the database once per request: a disabled or deleted account is signed
    out at its next request.
    """
    cached = g.get("_staff_loaded", _NO_STAFF)
    if cached is not _NO_STAFF:
        return cached
    member: StaffMember | None = None
    staff_id = session.get("staff_id")
    if isinstance(staff_id, int):
        member = _auth().accounts.get(staff_id)
        if member is None or member.disabled:
            session.clear()
            member = None
    g._staff_loaded = member
    return member


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _here() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _forbidden(staff: StaffMember, roles: tuple[str, ...]) -> Response:
    need = " or ".join(roles)
    message = f"Your role ({staff.role}) cannot open this page; it needs {need}."
    if _wants_json():
        response = jsonify(error=message)
    else:
        response = Response(
            render_template("staff/error.html", title="Not allowed", message=message, status=403, staff=staff),
            mimetype="text/html",
        )
    response.status_code = 403
    return response


def signed_in_staff() -> StaffMember:
    """The staff member a view decorated with :func:`require_roles` runs for.

    Raises:
        RuntimeError: nobody is signed in (the view is not behind ``require_roles``).
    """
    staff = current_staff()
    if staff is None:
        raise RuntimeError("signed_in_staff() needs a signed-in member: decorate the view with require_roles")
    return staff


def require_roles(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Decorate an HTML view: signed-in staff with one of ``roles`` (none: any); admins always.

    Not signed in: 302 to the login page with ``next``; a client asking for JSON gets
    401 ``{"error": ...}`` instead. Wrong role: a 403 page (JSON 403 for JSON clients).
    """

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            staff = current_staff()
            if staff is None:
                if _wants_json():
                    return jsonify(error="sign in first"), 401
                return redirect(url_for("staff_auth.login", next=_here()))
            if not staff.can(*roles):
                return _forbidden(staff, roles)
            g.staff = staff
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _unauthorized(message: str, error: str | None) -> Response:
    response = jsonify(error=message)
    response.status_code = 401
    challenge = 'Bearer realm="brandbot"'
    if error:
        challenge += f', error="{error}"'
    response.headers["WWW-Authenticate"] = challenge
    response.headers["Cache-Control"] = "no-store"
    return response


def require_token(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Decorate a JSON view: ``Authorization: Bearer <token>`` of an enabled account with one of ``roles``.

    Missing, unknown or revoked token: 401 ``{"error": ...}`` with ``WWW-Authenticate``;
    wrong role: 403 ``{"error": ...}``.
    """

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return _unauthorized(
                    "missing bearer token: send 'Authorization: Bearer <token>' (brandbot staff token EMAIL)", None
                )
            staff = _auth().accounts.staff_for_token(token)
            if staff is None:
                return _unauthorized("invalid or revoked token", "invalid_token")
            if not staff.can(*roles):
                response = jsonify(error=f"role {staff.role} cannot do this; it needs {' or '.join(roles)}")
                response.status_code = 403
                return response
            g.staff = staff
            return view(*args, **kwargs)

        return wrapper

    return decorate


# -- the login page -------------------------------------------------------------------------


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a path on this site (``/console/...``), else None.

    Refuses absolute and scheme-relative URLs (``//evil``, ``/\\evil``), other schemes
    and control characters, so a sign-in link cannot send anyone elsewhere.
    """
    if not value or len(value) > 2000 or not value.startswith("/"):
        return None
    if value.startswith(("//", "/\\")) or any(c in value for c in "\\\r\n\t") or any(ord(c) < 32 for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def _login_page(
    *,
    email: str = "",
    next_path: str | None = None,
    error: str | None = None,
    status: int = 200,
    retry_after: int | None = None,
) -> Response:
    html = render_template("staff/login.html", email=email, next_path=next_path or "", error=error)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route(LOGIN_PATH, methods=["GET", "POST"], endpoint="login")
def login() -> BaseResponse:
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(next_path or HOME_PATH)
        return _login_page(next_path=next_path)

    auth = _auth()
    email = request.form.get("email", "").strip()[:254]
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    if not email or not password:
        return _login_page(email=email, next_path=next_path, error="Enter your email and your password.", status=400)

    blocked = auth.throttle.blocked(address, email)
    if blocked is not None:
        auth.accounts.audit("anonymous", "staff.sign_in_throttled", email.lower()[:200], {"address": address})
        response = Response(
            render_template("staff/error.html", title="Too many attempts", message=blocked.reason, status=429),
            status=429,
            mimetype="text/html",
        )
        response.headers["Retry-After"] = str(blocked.retry_after)
        return response

    staff = auth.accounts.authenticate(email, password)
    if staff is None:
        auth.throttle.failed(address, email)
        auth.accounts.audit("anonymous", "staff.sign_in_failed", email.lower()[:200], {"address": address})
        return _login_page(
            email=email, next_path=next_path, error="That email and password do not match an active account."
        )

    auth.throttle.succeeded(email)
    # a new session: nothing from before the sign-in survives (no fixation, new CSRF token).
    session.clear()
    session.permanent = True
    session["staff_id"] = staff.id
    session["sid"] = secrets.token_urlsafe(16)
    g._staff_loaded = staff
    auth.accounts.audit(staff.actor, "staff.sign_in", staff.email, {"staff_id": staff.id, "address": address})
    return redirect(next_path or HOME_PATH)


@bp.route("/console/logout", methods=["POST"], endpoint="logout")
def logout() -> BaseResponse:
    staff = current_staff()
    if staff is not None:
        _auth().accounts.audit(
            staff.actor,
            "staff.sign_out",
            staff.email,
            {"staff_id": staff.id, "address": request.remote_addr or "unknown"},
        )
        on_sign_out = _auth().on_sign_out
        if on_sign_out is not None:
            on_sign_out(staff)
    session.clear()
    return redirect(url_for("staff_auth.login"))
