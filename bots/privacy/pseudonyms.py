"""Pseudonymous keys for analytics and erasure records: HMACs of ``"channel:id"``.

The analytics side never stores a channel id (a phone number is personal data): a
feedback signal is keyed by ``HMAC-SHA256(secret, "channel:id")``. Without the secret
(``privacy.analytics_secret`` from $BRANDBOT_ANALYTICS_SECRET) the key cannot be turned
back into the id, nor recomputed from a guessed phone number. Erasure records use a
different derivation (a domain prefix), so they cannot be joined with analytics keys.
"""

from __future__ import annotations

import hashlib
import hmac

from .customer import Customer

__all__ = ["Pseudonyms"]


class Pseudonyms:
    """Args:
    secret: the analytics secret (at least 16 characters; the settings check it).
    """

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the analytics secret must have at least 16 characters")
        self._key = secret.encode("utf-8")

    def _hmac(self, message: str) -> str:
        return hmac.new(self._key, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def subject(self, who: Customer) -> str:
        """The analytics key of a customer (64 hex characters, stable for one secret)."""
        return self._hmac(who.key)

    def erasure_hash(self, who: Customer) -> str:
        """The keyed hash kept in an erasure record (not equal to :meth:`subject`)."""
        return self._hmac("erasure\x00" + who.key)
