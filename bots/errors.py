"""The one error tree of brandbot.

Adapters translate vendor exceptions into these with ``raise ... from exc`` so
callers handle a handful of classes, and every message names the bad value and
what would be valid.
"""

from __future__ import annotations

__all__ = [
    "BrandbotError",
    "ConfigError",
    "StoreUnavailable",
    "ModelNotTrained",
]


class BrandbotError(Exception):
    """Base class: raised for any failure brandbot itself reports."""


class ConfigError(BrandbotError):
    """Raised when config.yaml or the environment is wrong.

    The message names the file, the key path and what would be valid, so that
    one screen is enough to fix it.
    """

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        where = f" in {path}" if path else ""
        lines = [f"Invalid configuration{where}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class StoreUnavailable(BrandbotError):
    """Raised when Redis or the SQL database cannot be reached.

    The message says which store, at which address, and what to check.
    """


class ModelNotTrained(BrandbotError):
    """Raised when the NLU model is needed but has not been trained yet."""


__all__ += ["StaffError"]


class StaffError(BrandbotError):
    """Raised when a staff account or API token operation cannot be done.

    An unknown email, an email already taken, a role that is not agent, analyst or
    admin, a password shorter than the minimum: the message names the value and
    what would be valid.
    """
