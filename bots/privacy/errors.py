"""Errors of the privacy package (part of brandbot's one error tree)."""

from __future__ import annotations

from ..errors import BrandbotError

__all__ = ["PrivacyError"]


class PrivacyError(BrandbotError):
    """Raised when a privacy operation is given something it cannot act on.

    An unknown channel (valid: telegram, whatsapp, sms, webchat), a malformed customer id
    (a phone number that is not E.164), an unknown consent purpose or way of giving it, a
    consent without the wording shown: the message names the value and what is valid.
    """
