"""The pipeline's Lua scripts (one file each under ``lua/``), loaded once per client."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["script", "lua_source"]

_DIR = Path(__file__).resolve().parent / "lua"


@cache
def lua_source(name: str) -> str:
    return (_DIR / f"{name}.lua").read_text(encoding="utf-8")


def script(client: Any, name: str) -> Any:
    """A registered script (EVALSHA, reloaded on NOSCRIPT) for ``client``; works on RedisCluster too."""
    cache = client.__dict__.setdefault("_brandbot_scripts", {})
    if name not in cache:
        cache[name] = client.register_script(lua_source(name))
    return cache[name]
