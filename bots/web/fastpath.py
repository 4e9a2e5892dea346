"""A lean WSGI dispatcher in front of Flask for the machine-to-machine webhook routes.

Channels post thousands of webhooks a second at peak; Flask's per-request machinery
(app and request contexts, URL map, session interface, before/after/teardown hooks)
costs more CPU than verifying and enqueueing the webhook itself. :class:`FastWebhooks`
wraps ``app.wsgi_app``: a request whose method and exact path are in
:data:`bots.web.webhooks.HANDLERS` is answered here by the same handler the blueprint
calls; every other request (other paths, a GET on a webhook path -> 405, a trailing
slash) goes to Flask unchanged.

What the Flask hooks in :mod:`bots.web.app` do is done here too: the ``X-Request-ID``
header (the caller's if safe, else a new one) and the request-id logging context, the
access log line (DEBUG on success, INFO on >= 400), a body size limit (413), and an
unexpected error is logged and answered 500 (raised instead when the app is testing or
propagates exceptions, as Flask does).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Request, Response

from ..logging_setup import request_id_var
from ..services import Services

log = logging.getLogger("bots.web.app")  # the access log lines keep the logger Flask's hooks use

__all__ = ["DEFAULT_MAX_BODY", "FastWebhooks"]

#: webhook bodies are small (a Twilio message form, a Telegram update): 1 MiB is plenty.
DEFAULT_MAX_BODY = 1024 * 1024

Handler = Callable[[Services, Request], Response]
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class FastWebhooks:
    """WSGI middleware: ``(method, path)`` in ``handlers`` -> ``handler(services, request)``, else ``app``.

    Args:
        app: the WSGI app for everything else (Flask's ``wsgi_app``).
        services: passed to every handler.
        handlers: ``{("POST", "/webhooks/twilio"): handler, ...}``; exact paths.
        request_id: ``request_id(given_header) -> id`` (the same function the Flask hooks use).
        max_body: larger bodies answer 413.
        propagate: ``propagate() -> bool``; True re-raises unexpected errors (testing), like Flask.
    """

    def __init__(
        self,
        app: WSGIApp,
        services: Services,
        handlers: dict[tuple[str, str], Handler],
        request_id: Callable[[str], str],
        max_body: int = DEFAULT_MAX_BODY,
        propagate: Callable[[], bool] = lambda: False,
    ) -> None:
        if max_body <= 0:
            raise ValueError(f"max_body must be a positive number of bytes, got {max_body!r}")
        self.app = app
        self.services = services
        self.handlers = dict(handlers)
        self.request_id = request_id
        self.max_body = max_body
        self.propagate = propagate

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        handler = self.handlers.get((environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")))
        if handler is None:
            return self.app(environ, start_response)
        started = time.perf_counter()
        rid = self.request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        token = request_id_var.set(rid)
        try:
            req = Request(environ)
            req.max_content_length = self.max_body
            try:
                response = handler(self.services, req)
            except HTTPException as exc:  # e.g. 413 from the body limit
                response = exc.get_response(environ)
            except Exception:
                if self.propagate():
                    raise
                log.exception("Exception on %s [%s]", req.path, req.method)
                response = InternalServerError().get_response(environ)
            response.headers["X-Request-ID"] = rid
            level = logging.DEBUG if response.status_code < 400 else logging.INFO
            if log.isEnabledFor(level):
                log.log(level, "%s %s -> %s in %.1f ms", req.method, req.path, response.status_code,
                        (time.perf_counter() - started) * 1000)
            return response(environ, start_response)
        finally:
            request_id_var.reset(token)
