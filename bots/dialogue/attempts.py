"""Failed identity checks counted per subject (a booking reference) across conversations.

The engine limits attempts within one conversation (in its state); this count, in Redis, stops
someone guessing a booking's surname (or a surname's booking) by opening new chats: after
``identity.max_attempts_per_subject`` failures within ``lockout_seconds`` the subject is locked
until the window passes. Keys hold a hash of the subject, never the reference itself.
"""

from __future__ import annotations

import hashlib

import redis

from ..settings.dialogue import IdentitySpec
from .identity import subject_key

__all__ = ["IdentityAttempts"]


class IdentityAttempts:
    """Args: redis client, the key prefix (``stores.key_prefix``), the domain's identity step."""

    def __init__(self, client: redis.Redis, prefix: str, spec: IdentitySpec) -> None:
        self.redis = client
        self.prefix = prefix
        self.spec = spec

    def _key(self, subject: object) -> str:
        digest = hashlib.sha256(subject_key(subject).encode("utf-8")).hexdigest()[:32]
        return f"{self.prefix}:identity:{digest}"

    def locked(self, subject: object) -> bool:
        """True while this subject has had too many failed checks recently."""
        count = self.redis.get(self._key(subject))
        return count is not None and int(count) >= self.spec.max_attempts_per_subject

    def failed(self, subject: object) -> int:
        """Count one failed check; the window starts at the first failure. Returns the count."""
        key = self._key(subject)
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(key, 0, ex=self.spec.lockout_seconds, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
        return int(count)
