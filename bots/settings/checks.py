"""Semantic checks of the settings: values of the right type that still cannot work.

Pydantic checks types and ranges; these check meaning, so a mistake stops the
process at start with the key named instead of failing every customer turn later:
a time zone that does not exist, a language without training data, a URL that is
not one, a file that is not there. :func:`load_settings` runs them once and
``brandbot doctor`` reports the same problems (it calls ``load_settings``).

The value checks (:func:`zone_problem`, :func:`url_problem`, :func:`port_number`)
are pure; :func:`semantic_problems` also looks at the file system.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .privacy import production_problems

if TYPE_CHECKING:  # the Settings module imports this one
    from . import Settings

__all__ = [
    "INTENT_DATA_SUFFIXES",
    "port_number",
    "zone_problem",
    "url_problem",
    "semantic_problems",
]

#: the file names ``nlu.data`` reads a language's intents from (``<lang>.yml`` ...); kept
#: here so loading the settings does not import spaCy (a test checks both agree).
INTENT_DATA_SUFFIXES = (".yml", ".yaml", ".jsonl")
HTTP = ("http", "https")
#: what Telegram accepts as a webhook ``secret_token``.
TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def port_number(value: Any) -> Any:
    """Refuse a value that is not a whole number from 1 to 65535, naming it (a pydantic before-validator)."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, bool) or not (
        isinstance(text, int) or (isinstance(text, str) and text.isascii() and text.isdigit())
    ):
        raise ValueError(f"{value!r} is not a port number (a whole number from 1 to 65535)")
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(f"{value!r} is not a port number (a whole number from 1 to 65535)")
    return port


def zone_problem(value: str) -> str | None:
    """Why ``value`` is not an IANA time zone zoneinfo can load, or None when it is one."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Europe"
        return f"unknown time zone {value!r} (use an IANA name such as 'Europe/Paris' or 'UTC')"
    return None


def url_problem(value: str, schemes: Iterable[str], example: str) -> str | None:
    """Why ``value`` is not a well-formed URL with one of ``schemes``, or None when it is one."""
    allowed = tuple(schemes)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        return f"{value!r} is not a well-formed URL ({exc}); expected something like {example}"
    if parts.scheme not in allowed:
        shown = " or ".join(f"{s}://" for s in allowed)
        return f"{value!r} is not a {shown} URL; expected something like {example}"
    if not parts.hostname or any(c.isspace() for c in value):
        return f"{value!r} has no valid host; expected something like {example}"
    return None


def _sql_problem(value: str) -> str | None:
    """Why ``value`` is not an SQLAlchemy URL (its own parser, the one the engine uses), or None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except (ArgumentError, ValueError) as exc:
        return f"{value!r} is not a database URL ({exc}); use sqlite:///path or postgresql+psycopg://user@host/db"
    return None


def _redis_problem(value: str) -> str | None:
    """Why ``value`` is not a Redis URL, or None (empty means the embedded server)."""
    if not value:
        return None
    if value.startswith("unix://"):
        return None if urlsplit(value).path else f"{value!r} names no socket; use unix:///path/to/redis.sock"
    problem = url_problem(value, ("redis", "rediss"), "redis://127.0.0.1:6379/0")
    if problem:
        return problem
    db = urlsplit(value).path.strip("/")
    if db and not db.isdigit():
        return f"{value!r}: the database after the host must be a number, as in redis://127.0.0.1:6379/0"
    return None


def _language_data(settings: Settings) -> list[tuple[str, str]]:
    data_dir = settings.path(settings.nlu.data_dir)
    if not data_dir.is_dir():
        return [("nlu.data_dir", f"{data_dir} is not a folder (it holds the training data, one file per language)")]
    problems = []
    for lang in settings.brand.languages:
        if not any((data_dir / f"{lang}{s}").is_file() for s in INTENT_DATA_SUFFIXES):
            names = ", ".join(f"{lang}{s}" for s in INTENT_DATA_SUFFIXES)
            problems.append(
                (
                    "brand.languages",
                    f"{lang!r} has no NLU training data: expected one of {names} in {data_dir} "
                    "(write it, or remove the language)",
                )
            )
    return problems


def _must_exist(settings: Settings) -> list[tuple[str, str]]:
    problems = []
    if settings.dialogue.domain_file:
        path: Path = settings.path(settings.dialogue.domain_file)
        if not path.is_file():
            problems.append(("dialogue.domain_file", f"{path} does not exist"))
    return problems


def _urls_and_secrets(settings: Settings) -> list[tuple[str, str]]:
    """Every URL setting in use: the stores always, a channel's only when it is enabled."""
    checks: list[tuple[str, str | None]] = [
        ("stores.redis_url", _redis_problem(settings.stores.redis_url)),
        ("stores.database_url", _sql_problem(settings.stores.database_url)),
    ]
    web = "https://bot.example.com"
    if settings.server.public_url:
        checks.append(("server.public_url", url_problem(settings.server.public_url, HTTP, web)))
    tg = settings.channels.telegram
    if tg.enabled:
        checks.append(
            ("channels.telegram.api_base_url", url_problem(tg.api_base_url, HTTP, "https://api.telegram.org/bot"))
        )
        if tg.webhook_secret and not TELEGRAM_SECRET.fullmatch(tg.webhook_secret):
            checks.append(
                (
                    "channels.telegram.webhook_secret",
                    "Telegram allows 1 to 256 characters A-Z, a-z, 0-9, _ and - "
                    "(`brandbot telegram set-webhook URL` generates one)",
                )
            )
    tw = settings.channels.twilio
    if tw.enabled:
        checks.append(("channels.twilio.api_base_url", url_problem(tw.api_base_url, HTTP, "https://api.twilio.com")))
        for key, value in (("public_url", tw.public_url), ("status_callback_url", tw.status_callback_url)):
            if value:
                checks.append((f"channels.twilio.{key}", url_problem(value, HTTP, web)))
    return [(key, problem) for key, problem in checks if problem]


def semantic_problems(settings: Settings) -> list[tuple[str, str]]:
    """Every (key path, problem) of settings that validated but cannot work, in config order."""
    problems: list[tuple[str, str]] = []
    for key, zone in (("brand.timezone", settings.brand.timezone), ("handoff.timezone", settings.handoff.timezone)):
        if zone is not None and (problem := zone_problem(zone)):
            problems.append((key, problem))
    if settings.brand.default_language not in settings.brand.languages:
        problems.append(
            (
                "brand.default_language",
                f"{settings.brand.default_language!r} is not one of brand.languages {list(settings.brand.languages)}",
            )
        )
    problems += _language_data(settings)
    problems += _urls_and_secrets(settings)
    problems += _must_exist(settings)
    problems += production_problems(settings.privacy, settings.server.environment)
    phrases = settings.feedback.phrases_file
    if phrases is not None and not settings.path(phrases).is_file():
        problems.append(("feedback.phrases_file", f"{settings.path(phrases)} does not exist"))
    return problems
