"""Settings of the web process: where it listens, how it logs, embedded workers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from ._base import Section
from .checks import port_number

#: a TCP port, refused with a message naming the value ("'abc' is not a port number").
Port = Annotated[int, BeforeValidator(port_number)]

#: the development default of server.secret_key; refused when environment is production.
DEV_SECRET_KEY = "dev-only-not-secret"


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: Port = 8000
    #: development: readable logs, embedded defaults. production: JSON log lines.
    environment: Literal["development", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: gunicorn worker processes for ``brandbot serve``.
    web_workers: int = Field(default=1, ge=1, le=64)
    #: worker threads run inside ``serve`` (the embedded default); 0 = run ``brandbot worker`` apart.
    embedded_workers: int = Field(default=2, ge=0, le=64)
    #: signs console sessions; set BRANDBOT_SECRET_KEY in production.
    secret_key: str = Field(default=DEV_SECRET_KEY, min_length=8)
    #: public base URL of this deployment (printed links, webhooks).
    public_url: str = ""

    @model_validator(mode="after")
    def _real_secret_in_production(self) -> ServerSettings:
        if self.environment == "production" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError("secret_key is the development default in production: export BRANDBOT_SECRET_KEY")
        return self


class BrandSettings(Section):
    name: str = Field(min_length=1)
    #: IANA time zone used to resolve "tomorrow" and to show times.
    timezone: str = "UTC"
    languages: tuple[str, ...] = Field(default=("en",), min_length=1)
    default_language: str = "en"
