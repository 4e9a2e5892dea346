"""The Graph API calls of the Meta connectors: a JSON POST per send, a GET for ``brandbot doctor``.

Messenger, Instagram and the WhatsApp Cloud API share one host, one token header and one
error shape (``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``), so
one small client serves all three; the connectors decide what an error means for their channel.
Plain ``requests``: Meta ships no maintained Python SDK for the Send API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from .._http import request_may_have_arrived
from ..errors import OutcomeUnknown, TransientSendError

__all__ = ["GRAPH_API", "GraphClient", "GraphError", "RATE_LIMIT_CODES", "TRANSIENT_CODES"]

GRAPH_API = "https://graph.facebook.com/v21.0"
#: Graph's throttling codes: app (4), user (17), page (32), calls (613), business use case
#: (80001-80009), WhatsApp throughput (130429), per-user pair rate (131056) and spam rate (131048).
RATE_LIMIT_CODES = frozenset(
    {4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006, 80007, 80008, 80009, 130429, 131048, 131056}
)
#: errors Meta documents as temporary: unknown (1), service (2), WhatsApp generic/service (131000, 131016, 133004).
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})


class GraphError(Exception):
    """The API answered with an error.

    Attributes:
        status: the HTTP status.
        code: Graph's ``error.code`` (None when the body was not Graph's error shape).
        subcode: ``error.error_subcode``.
        message: ``error.message`` (or the start of the body).
        retry_after: seconds from a ``Retry-After`` header, if any.
    """

    def __init__(
        self, status: int, code: int | None, subcode: int | None, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(status, code, subcode, message)
        self.status = status
        self.code = code
        self.subcode = subcode
        self.message = message
        self.retry_after = retry_after

    def __str__(self) -> str:
        sub = f"/{self.subcode}" if self.subcode is not None else ""
        return f"Graph error {self.code}{sub} (HTTP {self.status}): {self.message}"

    @property
    def rate_limited(self) -> bool:
        return self.status == 429 or self.code in RATE_LIMIT_CODES

    @property
    def transient(self) -> bool:
        return self.rate_limited or self.status >= 500 or self.code in TRANSIENT_CODES


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


class GraphClient:
    """Calls to ``api_base_url`` (``https://graph.facebook.com/v21.0``, or a fake) with a bearer token.

    Args:
        api_base_url: Graph's versioned base URL.
        access_token: a page or system-user token (``META_ACCESS_TOKEN``).
        timeout: seconds for one call.
        session: a ready ``requests.Session`` (else one is made).
    """

    def __init__(
        self,
        api_base_url: str,
        access_token: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        base = urlsplit(api_base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ValueError(f"api_base_url {api_base_url!r} is not an http(s) URL (e.g. {GRAPH_API})")
        self.base_url = api_base_url.rstrip("/")
        self._timeout = timeout
        self._session = session or requests.Session()
        self._session.headers["Authorization"] = f"Bearer {access_token}"

    def post(self, path: str, body: Mapping[str, Any], what: str, timeout: float | None = None) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path`` (``"<account id>/messages"``); the answer's JSON object.

        Raises:
            GraphError: the API answered an error.
            OutcomeUnknown: the answer was lost after the request may have arrived.
            TransientSendError: the API could not be reached (nothing was sent).
        """
        return self._call("POST", path, what, json=dict(body), timeout=timeout)

    def get(self, path: str, params: Mapping[str, str], what: str) -> dict[str, Any]:
        """GET ``path`` with ``params`` (raises as :meth:`post`)."""
        return self._call("GET", path, what, params=dict(params))

    def _call(self, method: str, path: str, what: str, timeout: float | None = None, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            answer = self._session.request(method, url, timeout=timeout or self._timeout, **kwargs)
        except OSError as exc:  # requests' errors are OSErrors
            reason = f"{type(exc).__name__}: {exc}"
            if method == "POST" and request_may_have_arrived(exc):
                raise OutcomeUnknown(f"{what}: the Graph API's answer was lost ({reason})") from exc
            raise TransientSendError(f"{what}: the Graph API is unreachable, nothing sent ({reason})") from exc
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.status_code >= 400 or not isinstance(data, dict):
            error = data.get("error") if isinstance(data, dict) else None
            if isinstance(error, dict):
                raise GraphError(
                    answer.status_code,
                    _int(error.get("code")),
                    _int(error.get("error_subcode")),
                    str(error.get("message") or error.get("type") or "error")[:300],
                    _retry_after(answer.headers),
                )
            raise GraphError(
                answer.status_code, None, None, answer.text[:300] or "empty answer", _retry_after(answer.headers)
            )
        return data

    def close(self) -> None:
        self._session.close()
