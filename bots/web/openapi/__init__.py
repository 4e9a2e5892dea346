"""OpenAPI 3 descriptions of every HTTP endpoint of the web app, shipped as package data.

One YAML file per face of the app: the staff API (``api_v1.yaml``, also served at
``GET /api/v1/openapi.json``), the web chat, the channel webhooks, the console and the
operations routes (``/``, ``/healthz``, ``/readyz``, ``/metrics``). The fuzz campaign
(``tests/fuzz/test_http_schemathesis.py``) generates its requests from them, and a test
checks that every route Flask registers is described in one of them.
"""

from __future__ import annotations

import copy
import functools
from enum import Enum
from importlib import resources
from typing import Any

import yaml

__all__ = ["Description", "load", "load_all", "flask_path"]


class Description(Enum):
    """The description files (value: the file name inside this package)."""

    API_V1 = "api_v1.yaml"
    WEB_CHAT = "web_chat.yaml"
    WEBHOOKS = "webhooks.yaml"
    CONSOLE = "console.yaml"
    OPERATIONS = "operations.yaml"
    DASHBOARD = "dashboard.yaml"
    LINKS = "links.yaml"


@functools.cache
def _read(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not str(data.get("openapi", "")).startswith("3."):
        raise ValueError(f"{name} is not an OpenAPI 3 description")
    return data


def load(description: Description) -> dict[str, Any]:
    """A fresh copy of ``description`` (callers may change it: the cached original stays intact)."""
    return copy.deepcopy(_read(description.value))


def load_all() -> dict[Description, dict[str, Any]]:
    """Every description."""
    return {d: load(d) for d in Description}


def flask_path(description: dict[str, Any], path: str) -> str:
    """``path`` of ``description`` with its server prefix (``/api/v1``) and Flask's ``<name>`` syntax."""
    servers = description.get("servers") or [{"url": ""}]
    prefix = str(servers[0].get("url", "")).rstrip("/")
    return (prefix + path).replace("{", "<").replace("}", ">")
