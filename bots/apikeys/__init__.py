"""Scoped API keys for the brand's own systems (machines, not staff).

A key (``bbk_<prefix>_<secret>``, 256 random bits) is shown once when made; only its
SHA-256 is stored. Each key carries scopes (:data:`SCOPES`, e.g. ``"notify"`` for
``POST /api/v1/notifications``). Flask views check keys with
:func:`bots.apikeys.web.require_api_key` after :func:`bots.apikeys.web.register`;
people manage them with ``brandbot apikey create|list|revoke``.
"""

from __future__ import annotations

from .errors import ApiKeyError
from .keys import KEY_PREFIX, ParsedKey, hash_key, new_key, parse_key
from .store import SCOPES, ApiKeyInfo, ApiKeys, CreatedKey, Refusal, Verdict, check_scope
from .throttle import KeyThrottle

__all__ = [
    "ApiKeys",
    "ApiKeyInfo",
    "CreatedKey",
    "Refusal",
    "Verdict",
    "SCOPES",
    "check_scope",
    "ApiKeyError",
    "KeyThrottle",
    "KEY_PREFIX",
    "ParsedKey",
    "new_key",
    "parse_key",
    "hash_key",
]
