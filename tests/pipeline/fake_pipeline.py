"""``--pipeline tests.pipeline.fake_pipeline:build`` for worker processes in tests and benchmarks.

Echo turns sent to a :class:`FakeChannelServer` at $FAKE_CHANNEL_URL; $FAKE_TURN_DELAY
seconds of work per turn (to kill a process mid-turn); $FAKE_CHANNELS lists the
channel names to serve (default ``fake``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from connectors.base import Inbound, Outbound

from .fake_channel import FakeConnector, echo_handler


@dataclass
class FakePipeline:
    handler: Callable[[Inbound], list[Outbound]]
    connectors: dict[str, Any]


def build(services: Any) -> FakePipeline:
    url = os.environ["FAKE_CHANNEL_URL"]
    delay = float(os.environ.get("FAKE_TURN_DELAY", "0"))
    channels = os.environ.get("FAKE_CHANNELS", "fake").split(",")

    def handler(inbound: Inbound) -> list[Outbound]:
        if delay:
            time.sleep(delay)
        return echo_handler(inbound)

    return FakePipeline(handler, {c: FakeConnector(url, channel=c) for c in channels})
