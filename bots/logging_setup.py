"""Structured logging: JSON lines in production, readable lines in development.

A request id and a conversation id travel in context variables and appear on
every line logged while they are set.
"""

from __future__ import annotations

import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

__all__ = ["configure_logging", "request_id_var", "conversation_id_var"]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
conversation_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("conversation_id", default=None)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        record.conversation_id = conversation_id_var.get() or "-"
        return True


class _Handler(logging.StreamHandler):
    """The handler configure_logging installs, so that a second call replaces it."""


def configure_logging(environment: str = "development", level: str = "INFO", stream=None) -> None:
    """Configure the root logger once for the process (idempotent)."""
    handler = _Handler(stream or sys.stderr)
    handler.addFilter(_ContextFilter())
    if environment == "production":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(conversation_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s %(name)s [req=%(request_id)s conv=%(conversation_id)s] %(message)s",
                datefmt="%H:%M:%S",
            )
        )
    root = logging.getLogger()
    for h in list(root.handlers):
        if isinstance(h, _Handler):
            root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "urllib3", "twilio.http_client", "telegram.ext"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
