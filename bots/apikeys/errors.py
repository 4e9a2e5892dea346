"""The errors of API keys (part of brandbot's error tree, and ValueErrors)."""

from __future__ import annotations

from ..errors import BrandbotError

__all__ = ["ApiKeyError"]


class ApiKeyError(BrandbotError, ValueError):
    """Raised when an API key cannot be made as asked.

    An empty or too long name, no scope, a scope brandbot does not know: the message names
    the value and what would be valid. A ``ValueError`` too, since the caller passed a bad value.
    """
