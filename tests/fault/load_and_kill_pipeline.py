"""``brandbot worker --pipeline tests.fault.load_and_kill_pipeline:build``: echo turns over the real channels.

The turn is :func:`tests.pipeline.fake_channel.echo_handler` (one reply, ``echo: <text>``)
after $LOAD_TURN_DELAY seconds of work; the replies go through the process's real
connectors (``bots.runtime.build_connectors_for``: Twilio's, pointed at the fake Twilio
API) and the real Deliverer, so a send is recorded and deduplicated as in production.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bots.pipeline.turn import TurnResult
from bots.runtime import build_connectors_for
from connectors.base import Inbound
from tests.pipeline.fake_channel import echo_handler
from tests.pipeline.fake_pipeline import FakePipeline


def build(services: Any) -> FakePipeline:
    delay = float(os.environ.get("LOAD_TURN_DELAY", "0"))

    def handler(inbound: Inbound) -> TurnResult:
        time.sleep(delay)
        return echo_handler(inbound)

    return FakePipeline(handler, dict(build_connectors_for(services)))
