"""The strict headers of the staff pages (console, dashboard): CSP, no framing, no sniffing."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

__all__ = ["apply_strict_headers"]


def apply_strict_headers(response: Response, csp: str, static_endpoint: str) -> Response:
    """Set the headers on ``response``; everything but the blueprint's static files is ``no-store``."""
    headers = response.headers
    headers["Content-Security-Policy"] = csp
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != static_endpoint:
        headers["Cache-Control"] = "no-store"
    return response
