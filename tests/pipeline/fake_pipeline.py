"""``--pipeline tests.pipeline.fake_pipeline:build`` for worker processes in tests and benchmarks.

Echo turns sent to a :class:`FakeChannelServer` at $FAKE_CHANNEL_URL; $FAKE_TURN_DELAY
seconds of work per turn (to kill a process mid-turn); $FAKE_CHANNELS lists the
channel names to serve (default ``fake``); $BENCH_SQLITE_SYNC sets SQLite's
``PRAGMA synchronous`` (benchmarks compare FULL, the default, with NORMAL).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bots.pipeline.turn import TurnResult
from connectors.base import Inbound

from .fake_channel import FakeConnector, echo_handler


@dataclass
class FakePipeline:
    handler: Callable[[Inbound], TurnResult]
    connectors: dict[str, Any]


def _sqlite_sync(engine: Any, mode: str) -> None:
    """Benchmarks only: PRAGMA synchronous=<mode> on every SQLite connection of this process."""
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragma(dbapi_conn, _record) -> None:
        dbapi_conn.cursor().execute(f"PRAGMA synchronous={mode}")

    engine.dispose()


def build(services: Any) -> FakePipeline:
    url = os.environ["FAKE_CHANNEL_URL"]
    if os.environ.get("BENCH_SQLITE_SYNC"):
        _sqlite_sync(services.engine, os.environ["BENCH_SQLITE_SYNC"])
    delay = float(os.environ.get("FAKE_TURN_DELAY", "0"))
    channels = os.environ.get("FAKE_CHANNELS", "fake").split(",")

    def handler(inbound: Inbound) -> TurnResult:
        if delay:
            time.sleep(delay)
        return echo_handler(inbound)

    return FakePipeline(handler, {c: FakeConnector(url, channel=c) for c in channels})
