"""Meta webhooks (Messenger, Instagram, WhatsApp Cloud): the body signature and the subscription handshake.

Meta signs every POST with ``X-Hub-Signature-256: sha256=<hex>``, an HMAC-SHA256 of the raw
body keyed with the app secret: the check runs on the bytes as received, before any parsing.
When a webhook is set up, Meta calls it once with a GET (``hub.mode=subscribe``,
``hub.verify_token``, ``hub.challenge``) and expects the challenge back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from ..errors import ForgedRequest

__all__ = ["SIGNATURE_HEADER", "MAX_CHALLENGE", "verify_signature", "sign", "verify_subscription"]

SIGNATURE_HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="
#: longest ``hub.challenge`` echoed back (Meta's are a few digits).
MAX_CHALLENGE = 256
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def sign(body: bytes, app_secret: str) -> str:
    """``"sha256=<hex>"``: the header Meta sends for ``body`` (for tests and the fake API)."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def verify_signature(body: bytes, header: str | None, app_secret: str) -> None:
    """Check ``X-Hub-Signature-256`` against the raw ``body`` in constant time.

    Args:
        body: the request body exactly as received.
        header: the ``X-Hub-Signature-256`` header's value (None when absent).
        app_secret: the Meta app's secret.

    Raises:
        ForgedRequest: no secret configured, header missing, not ``sha256=<64 hex>``, or no match (answer 403).
    """
    if not app_secret:
        raise ForgedRequest("no Meta app secret is configured (channels.meta.app_secret); refusing every webhook")
    if not header:
        raise ForgedRequest(f"missing {SIGNATURE_HEADER} header")
    if not header.startswith(PREFIX):
        algorithm = header.split("=", 1)[0][:16] if "=" in header else ""
        raise ForgedRequest(
            f"{SIGNATURE_HEADER} must be 'sha256=<hex digest>'"
            + (f", not a {algorithm!r} signature" if algorithm else "")
        )
    given = header[len(PREFIX) :]
    if not _HEX_DIGEST.fullmatch(given):
        raise ForgedRequest(f"{SIGNATURE_HEADER} is not a hex SHA-256 digest (64 hex digits after 'sha256=')")
    expected = sign(body, app_secret)[len(PREFIX) :]
    if not hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii")):
        raise ForgedRequest(
            f"{SIGNATURE_HEADER} does not match the body; check that the configured app secret is the Meta app's"
        )


def verify_subscription(args: Mapping[str, str], verify_token: str) -> str:
    """The ``hub.challenge`` to answer Meta's subscription GET with, once its token matched.

    Args:
        args: the query arguments (``hub.mode``, ``hub.verify_token``, ``hub.challenge``).
        verify_token: the token configured here and in the Meta app's webhook settings.

    Returns:
        ``hub.challenge`` as given (printable ASCII, 1 to :data:`MAX_CHALLENGE` characters).

    Raises:
        ForgedRequest: the mode is not ``subscribe``, no token is configured, the token is
            missing or differs, or the challenge is missing or odd (answer 403). The message
            says which check failed and never echoes a token.
    """
    mode = args.get("hub.mode")
    if mode != "subscribe":
        shown = "missing" if mode is None else f"{mode[:20]!r}"
        raise ForgedRequest(f"hub.mode is {shown}, not 'subscribe'")
    if not verify_token:
        raise ForgedRequest(
            "no Meta verify token is configured (channels.meta.verify_token); refusing every subscription"
        )
    token = args.get("hub.verify_token")
    if token is None:
        raise ForgedRequest("missing hub.verify_token")
    given = token.encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(given, verify_token.encode("utf-8", "surrogatepass")):
        raise ForgedRequest("hub.verify_token does not match the configured verify token")
    challenge = args.get("hub.challenge")
    if not challenge:
        raise ForgedRequest("missing hub.challenge")
    if len(challenge) > MAX_CHALLENGE or not (challenge.isascii() and challenge.isprintable()):
        raise ForgedRequest(f"hub.challenge must be 1 to {MAX_CHALLENGE} printable ASCII characters")
    return challenge
