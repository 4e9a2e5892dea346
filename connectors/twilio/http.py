"""A twilio HttpClient that sends the API calls to another base URL (a local fake, a proxy).

twilio's ``Client(sid, token, http_client=...)`` is the seam: the SDK builds
``https://api.twilio.com/2010-04-01/...`` URLs and this client rewrites the
scheme and host of any ``*.twilio.com`` URL to ``api_base_url``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from .._http import request_may_have_arrived

__all__ = ["BaseUrlHttpClient", "TWILIO_API", "request_may_have_arrived"]


TWILIO_API = "https://api.twilio.com"


class BaseUrlHttpClient(TwilioHttpClient):
    """:class:`TwilioHttpClient` pointed at ``api_base_url`` instead of Twilio's hosts.

    Args:
        api_base_url: e.g. ``http://127.0.0.1:8082``; Twilio's own URL changes nothing.
        timeout: seconds for one request.
    """

    def __init__(self, api_base_url: str = TWILIO_API, timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(timeout=timeout, **kwargs)
        base = urlsplit(api_base_url.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ValueError(f"api_base_url {api_base_url!r} is not an http(s) URL (e.g. https://api.twilio.com)")
        self._base = base

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.netloc.endswith("twilio.com") or self._base.netloc == "api.twilio.com":
            return url
        path = self._base.path + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, parts.fragment))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """:meth:`TwilioHttpClient.request` (the same signature) with ``url`` rewritten to ``api_base_url``."""
        return super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
