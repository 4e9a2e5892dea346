"""Logs are JSON lines in production and readable lines in development, with request ids."""

from __future__ import annotations

import io
import json
import logging

from bots.logging_setup import configure_logging, conversation_id_var, request_id_var


def _log_one(environment: str) -> str:
    stream = io.StringIO()
    configure_logging(environment, "INFO", stream=stream)
    token_r, token_c = request_id_var.set("req-1"), conversation_id_var.set("telegram:42")
    try:
        logging.getLogger("bots.test").info("turn done in %d ms", 12)
    finally:
        request_id_var.reset(token_r)
        conversation_id_var.reset(token_c)
        configure_logging("development", "WARNING")
    return stream.getvalue().strip()


def test_production_logs_are_json_lines_with_ids() -> None:
    record = json.loads(_log_one("production"))
    assert record["message"] == "turn done in 12 ms"
    assert record["level"] == "INFO"
    assert record["request_id"] == "req-1"
    assert record["conversation_id"] == "telegram:42"


def test_development_logs_are_readable_lines() -> None:
    line = _log_one("development")
    assert "turn done in 12 ms" in line and "req=req-1" in line and "conv=telegram:42" in line
