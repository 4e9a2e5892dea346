"""API keys on Flask views: :func:`register` once in the app factory, :func:`require_api_key` per view.

A key comes in ``Authorization: Bearer <key>`` or ``X-Api-Key: <key>``. No key, or one that is
malformed, unknown or revoked: 401 ``{"error": ...}`` with ``WWW-Authenticate`` (RFC 6750: the
``error="invalid_token"`` part only when a key was sent). A valid key without the scope: 403
(``error="insufficient_scope"``). Refused keys are counted per client address; past the limit
the address gets 429 with ``Retry-After`` before any key is looked at. The key that passed is
``flask.g.api_key`` (:func:`current_api_key`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from flask import Flask, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from .store import ApiKeyInfo, ApiKeys, Refusal, check_scope
from .throttle import KeyThrottle

__all__ = ["register", "require_api_key", "current_api_key"]

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger(__name__)
_EXTENSION = "apikeys"
_REALM = 'Bearer realm="brandbot"'
_HOW = "send 'Authorization: Bearer <key>' or 'X-Api-Key: <key>' (keys are made with `brandbot apikey create`)"


@dataclass(frozen=True)
class _Registered:
    apikeys: ApiKeys
    throttle: KeyThrottle


def register(app: Flask, apikeys: ApiKeys, throttle: KeyThrottle) -> None:
    """Give the views of ``app`` decorated with :func:`require_api_key` their keys and throttle.

    Args:
        app: the Flask app.
        apikeys: the API key store.
        throttle: counts refused keys per client address (Redis).
    """
    app.extensions[_EXTENSION] = _Registered(apikeys=apikeys, throttle=throttle)


def _registered() -> _Registered:
    parts = current_app.extensions.get(_EXTENSION)
    if not isinstance(parts, _Registered):
        raise RuntimeError("require_api_key needs bots.apikeys.web.register(app, apikeys, throttle) in the app factory")
    return parts


def current_api_key() -> ApiKeyInfo:
    """The key a view decorated with :func:`require_api_key` runs for.

    Raises:
        RuntimeError: the view is not behind ``require_api_key``.
    """
    key = g.get("api_key")
    if not isinstance(key, ApiKeyInfo):
        raise RuntimeError("current_api_key() needs a checked key: decorate the view with require_api_key")
    return key


def _presented_key() -> str | Response | None:
    """The key of the request, None when it brings none, or a 401 when its two headers disagree."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else ""
    header = request.headers.get("X-Api-Key", "").strip()
    if bearer and header and bearer != header:
        return _unauthorized("two different keys (Authorization and X-Api-Key): send one", "invalid_request")
    return bearer or header or None


def _json(status: int, message: str, challenge: str | None = None) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if challenge:
        response.headers["WWW-Authenticate"] = challenge
    return response


def _unauthorized(message: str, error: str | None) -> Response:
    return _json(401, message, _REALM + (f', error="{error}"' if error else ""))


def require_api_key(scope: str) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Decorate a JSON view: an active API key with ``scope``; sets ``g.api_key``.

    Raises:
        ApiKeyError: ``scope`` is not one of :data:`bots.apikeys.SCOPES` (at decoration time).
        StoreUnavailable: (per request) the throttle's Redis does not answer.
    """
    check_scope(scope)

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            parts = _registered()
            raw = _presented_key()
            if isinstance(raw, Response):
                return raw
            if raw is None:
                return _unauthorized(f"missing API key: {_HOW}", None)
            address = request.remote_addr or "unknown"
            wait = parts.throttle.blocked(address)
            if wait is not None:
                response = _json(429, f"too many refused API keys from your address; try again in {wait} s")
                response.headers["Retry-After"] = str(wait)
                return response
            verdict = parts.apikeys.verify(raw, scope)
            if verdict.refusal is not None and verdict.refusal.status == 401:
                parts.throttle.failed(address)
                log.info("api key refused from %s: %s", address, verdict.refusal.name.lower())
                return _unauthorized(f"{verdict.refusal.value}: {_HOW}", "invalid_token")
            key = verdict.key
            assert key is not None  # a 403 or a pass: the key is known and active
            if verdict.refusal is Refusal.MISSING_SCOPE:
                message = (
                    f"the API key {key.name!r} ({key.shown_prefix}) lacks the scope {scope!r}; "
                    f"it has: {', '.join(key.scopes)} (make one with `brandbot apikey create --scope {scope}`)"
                )
                return _json(403, message, f'{_REALM}, error="insufficient_scope", scope="{scope}"')
            g.api_key = key
            return view(*args, **kwargs)

        return wrapper

    return decorate
