"""The API key format, pure: make, parse and hash a key (no I/O).

A key reads ``bbk_<prefix>_<secret>``: ``bbk_`` says what it is (secret scanners and people
recognise it), ``<prefix>`` is 8 url-safe characters kept in clear to tell keys apart in a
list, ``<secret>`` is ``secrets.token_urlsafe(32)`` (43 characters, 256 random bits). The
whole key is hashed with SHA-256: with 256 random bits no one can guess a key, so a slow
password hash would only cost time on every request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

__all__ = [
    "KEY_PREFIX",
    "PREFIX_LENGTH",
    "SECRET_LENGTH",
    "KEY_LENGTH",
    "ParsedKey",
    "new_key",
    "parse_key",
    "hash_key",
]

KEY_PREFIX = "bbk_"
#: characters of the clear prefix (``secrets.token_urlsafe(6)``: 48 random bits).
PREFIX_LENGTH = 8
#: characters of the secret (``secrets.token_urlsafe(32)``: 256 random bits).
SECRET_LENGTH = 43
KEY_LENGTH = len(KEY_PREFIX) + PREFIX_LENGTH + 1 + SECRET_LENGTH
_URLSAFE = "[A-Za-z0-9_-]"
# fixed positions: the prefix may itself hold "_" or "-", so the key is not split on "_".
_KEY = re.compile(rf"{KEY_PREFIX}({_URLSAFE}{{{PREFIX_LENGTH}}})_({_URLSAFE}{{{SECRET_LENGTH}}})")


@dataclass(frozen=True)
class ParsedKey:
    """A key of the right shape (not yet known to be valid)."""

    prefix: str
    secret: str = ""

    def __repr__(self) -> str:  # the secret never reaches a log through repr()
        return f"ParsedKey(prefix={self.prefix!r}, secret=...)"

    @property
    def key(self) -> str:
        """The whole key again."""
        return f"{KEY_PREFIX}{self.prefix}_{self.secret}"


def new_key() -> ParsedKey:
    """A fresh random key."""
    return ParsedKey(prefix=secrets.token_urlsafe(6), secret=secrets.token_urlsafe(32))


def parse_key(raw: str) -> ParsedKey | None:
    """``raw`` as a key when it has the ``bbk_<8>_<43>`` shape, else None (spaces around are ignored)."""
    value = raw.strip()
    if len(value) != KEY_LENGTH:
        return None
    match = _KEY.fullmatch(value)
    return ParsedKey(prefix=match[1], secret=match[2]) if match else None


def hash_key(key: str) -> str:
    """The SHA-256 (64 hex characters) stored for the whole ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
