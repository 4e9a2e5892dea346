"""Settings of the web process: where it listens, how it logs, embedded workers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import Section


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: development: readable logs, embedded defaults. production: JSON log lines.
    environment: Literal["development", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: gunicorn worker processes for ``brandbot serve``.
    web_workers: int = Field(default=1, ge=1, le=64)
    #: worker threads run inside ``serve`` (the embedded default); 0 = run ``brandbot worker`` apart.
    embedded_workers: int = Field(default=2, ge=0, le=64)
    #: signs console sessions; set BRANDBOT_SECRET_KEY in production.
    secret_key: str = Field(default="dev-only-not-secret", min_length=8)
    #: public base URL of this deployment (printed links, webhooks).
    public_url: str = ""


class BrandSettings(Section):
    name: str = Field(min_length=1)
    #: IANA time zone used to resolve "tomorrow" and to show times.
    timezone: str = "UTC"
    languages: tuple[str, ...] = Field(default=("en",), min_length=1)
    default_language: str = "en"
