"""``/healthz`` (the process is up) and ``/readyz`` (its stores answer)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..errors import StoreUnavailable
from ..stores.redis_client import ping
from ..stores.sql import check_sql

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    services = current_app.extensions["brandbot"]
    checks: dict[str, str] = {}
    reasons: list[str] = []
    for name, check in (("redis", lambda: ping(services.redis)), ("sql", lambda: check_sql(services.engine))):
        try:
            check()
            checks[name] = "ok"
        except StoreUnavailable as exc:
            checks[name] = "unavailable"
            reasons.append(str(exc))
    for name, probe in services.readiness.items():
        problem = probe()
        checks[name] = "ok" if problem is None else "unavailable"
        if problem:
            reasons.append(problem)
    if reasons:
        return jsonify(status="unavailable", checks=checks, reasons=reasons), 503
    return jsonify(status="ready", checks=checks)
