"""Errors a connector raises; the runtime maps them to HTTP answers and retries."""

from __future__ import annotations

__all__ = [
    "ChannelError",
    "ForgedRequest",
    "MalformedRequest",
    "BadInput",
    "SendError",
    "TransientSendError",
    "OutcomeUnknown",
    "OUTCOME_UNKNOWN",
    "PermanentSendError",
]


class ChannelError(Exception):
    """Base class of every connector error."""


class ForgedRequest(ChannelError):
    """Raised when a webhook's signature or secret token does not match (HTTP 403)."""


class MalformedRequest(ChannelError):
    """Raised when a webhook body cannot be parsed into messages (HTTP 400)."""


class BadInput(MalformedRequest):
    """Raised when a field's text cannot be accepted (HTTP 400): a lone surrogate, too long, empty.

    Attributes:
        field: the field's name as the client knows it.
        reason: what is wrong with it.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field
        self.reason = reason


class SendError(ChannelError):
    """Raised when a message could not be sent.

    Attributes:
        code: the channel's error code, if it gave one (Twilio ``21610``, HTTP status...).
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Raised for a failure worth retrying: 5xx, timeout, 429 (``retry_after`` seconds if given)."""

    def __init__(self, message: str, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


#: ``SendError.code`` of :class:`OutcomeUnknown` (kept in ``deliveries.error_code`` when a send gives up unsure).
OUTCOME_UNKNOWN = "outcome_unknown"


class OutcomeUnknown(TransientSendError):
    """Raised when a send's request may have reached the channel but its answer was lost.

    The connection dropped after the request was written, or no answer came within the
    read timeout: the channel may have accepted the message. Still worth retrying (it is
    a TransientSendError), but a connector that :class:`Reconciles` is asked first, and a
    channel that cannot be asked may get the message twice.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, OUTCOME_UNKNOWN, retry_after)


class PermanentSendError(SendError):
    """Raised for a failure never worth retrying: bad recipient, opted out, window closed."""
