"""Reading a decoded Meta webhook body: every failure a MalformedRequest naming the JSON path.

Every string goes through :func:`connectors.input_text.clean_text` under the path it came from
(``entry[0].messaging[1].message.text``), so a lone surrogate is refused and controls removed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import MalformedRequest
from ..input_text import clean_text
from .delivery import MAX_ID, MAX_NAME

__all__ = [
    "fail",
    "read_obj",
    "read_list",
    "type_name",
    "read_text",
    "read_optional",
    "read_required",
    "read_digits",
    "read_number",
    "short",
    "read_time",
    "read_coordinate",
    "decode_body",
    "event_count",
]

_DIGITS = re.compile(r"[0-9]{1,32}")


def fail(path: str, what: str) -> MalformedRequest:
    return MalformedRequest(f"Meta webhook {path} {what}")


def read_obj(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(path, f"must be an object, not {type_name(value)}")
    return value


def read_list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise fail(path, f"must be a list, not {type_name(value)}")
    return value


def type_name(value: object) -> str:
    return "missing" if value is None else type(value).__name__


def read_text(value: object, path: str, cap: int) -> str:
    """A string (absent: ""), through :func:`clean_text`."""
    return "" if value is None else clean_text(value, field=path, max_chars=cap)


def read_optional(value: object, path: str, cap: int = MAX_NAME) -> str | None:
    return read_text(value, path, cap) or None


def read_required(value: object, path: str, cap: int = MAX_ID) -> str:
    text = read_text(value, path, cap)
    if not text:
        raise fail(path, "is missing or empty")
    return text


def read_digits(value: object, path: str) -> str:
    """An id Meta gives as a string of digits (PSID, IGSID, page id, wa_id)."""
    text = read_required(value, path)
    if not _DIGITS.fullmatch(text):
        raise fail(path, f"{text[:40]!r} is not an id of 1 to 32 digits")
    return text


def read_number(value: object, path: str) -> int:
    """A non-negative integer, or a string of digits (WhatsApp sends timestamps as strings)."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise fail(path, f"{short(value)} is not a non-negative integer")


def short(value: object) -> str:
    return repr(value)[:40]


def read_time(value: object, path: str, per_second: int) -> datetime:
    """A UTC datetime from Meta's ``timestamp``: ``per_second`` 1000 for ms (Messenger), 1 for s (WhatsApp)."""
    count = read_number(value, path)
    seconds, rest = divmod(count, per_second)
    try:
        return datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=rest * 1000 // per_second)
    except (OverflowError, ValueError, OSError) as exc:
        raise fail(path, f"{short(value)} is not a time") from exc


def read_coordinate(value: object, path: str, limit: float) -> float:
    """A latitude / longitude: a finite number within ``-limit..limit``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or abs(value) > limit:
        raise fail(path, f"{short(value)} is not a coordinate (-{limit:g}..{limit:g})")
    return float(value)


def _no_constant(name: str) -> Any:
    """JSON has no NaN nor Infinity (Python's decoder accepts them)."""
    raise ValueError(f"{name} is not a JSON value")


def decode_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(f"Meta webhook body is not UTF-8 JSON: {exc}") from exc
    except RecursionError as exc:
        raise MalformedRequest("Meta webhook body is nested too deeply") from exc
    if not isinstance(data, dict):
        raise MalformedRequest(f"Meta webhook body must be a JSON object, not {type(data).__name__}")
    return data


def event_count(entry: Mapping[str, Any], *keys: str) -> int:
    """How many events an entry we do not read holds (at least one)."""
    return max(1, sum(len(v) for k in keys if isinstance(v := entry.get(k), list)))
