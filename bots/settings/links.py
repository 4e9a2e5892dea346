"""Settings of tracked links (``links:`` in config.yaml).

When ``enabled``, every URL in a bot reply that the allow-list accepts becomes a short link
``<public_base_url>/l/<code>``: a click is redirected (302) to the stored target and counted
(browser family, first click or later, forwarded to another browser). Only allow-listed targets
are ever shortened, and a stored target is checked against the list again at each redirect, so
the short-link route can never become an open redirect.

``allow`` entries are either a host (``example.com``: that host only; ``*.example.com``: its
subdomains and itself) or a URL prefix (``https://example.com/help/``: same scheme and host, a
path under that one). Only ``http`` and ``https`` URLs without user info are ever accepted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from ._base import Section

__all__ = ["LinksSettings"]


class LinksSettings(Section):
    #: rewrite allow-listed URLs in bot replies into tracked short links.
    enabled: bool = False
    #: the public origin the short links start with (``https://go.example.com``); required when enabled.
    public_base_url: str | None = None
    #: hosts (``example.com``, ``*.example.com``) or URL prefixes (``https://example.com/help/``).
    allow: tuple[str, ...] = ()
    #: characters of a generated code (URL-safe base64: 6 bits each; 10 gives 60 bits).
    code_length: int = Field(default=10, ge=8, le=32)
    #: the campaign a link sent in a reply is counted under.
    campaign: str = Field(default="replies", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    #: how long the first-click cookie (forward detection) lives, in days.
    cookie_days: int = Field(default=365, ge=1, le=3650)

    @field_validator("public_base_url")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an http(s) URL such as https://go.example.com")
        return value.rstrip("/")

    @field_validator("allow")
    @classmethod
    def _entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if "://" in entry:
                parts = urlsplit(entry)
                if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
                    raise ValueError(f"{entry!r}: a URL prefix must be http(s)://host/...")
            else:
                host = entry.removeprefix("*.")
                if not host or "/" in host or "*" in host or "." not in host or host != host.strip():
                    raise ValueError(f"{entry!r}: a host is 'example.com' or '*.example.com'")
        return value

    @model_validator(mode="after")
    def _base_when_enabled(self) -> LinksSettings:
        if self.enabled and self.public_base_url is None:
            raise ValueError("links.enabled needs links.public_base_url (the public origin of /l/<code>)")
        return self
