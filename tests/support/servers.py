"""A real Redis for code outside pytest's fixtures (benchmarks, helper scripts)."""

from __future__ import annotations

from pathlib import Path

from bots.stores.redis_client import EmbeddedRedis

from .net import free_port

__all__ = ["start_embedded_redis"]


def start_embedded_redis(folder: Path) -> EmbeddedRedis:
    """A throwaway redis-server (no AOF) on a free loopback port, data under ``folder/redis``; call ``.stop()``."""
    return EmbeddedRedis(folder / "redis", port=free_port(), persist=False).start()
