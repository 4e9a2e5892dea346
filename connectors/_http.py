"""What every connector calling an HTTP API with ``requests`` needs to know about a failed call."""

from __future__ import annotations

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

__all__ = ["request_may_have_arrived"]


def request_may_have_arrived(exc: OSError) -> bool:
    """Whether the API may have read the request that failed with ``exc`` (what requests raises).

    False only when no connection was made (refused, DNS, connect timeout): nothing was
    sent. A connection dropped before the answer, a read timeout or anything else may
    come after the API created the message, so the caller must find out before resending.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        # NewConnectionError and NameResolutionError are ConnectTimeoutErrors in urllib3 2
        return not isinstance(reason, ConnectTimeoutError)
    return True
