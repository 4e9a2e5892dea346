"""``brandbot worker --pipeline benchmarks.airline_pipeline:build``: the real airline turn, replies to a fake channel.

Used by ``benchmarks/airline_turn.py``. The pipeline is the product's own
(``bots.runtime.build_pipeline``: the trained NLU from ``nlu.model_dir``, the dialogue runtime
with the domain and actions of ``dialogue.*``, the SQL transcript, the brand's apology); only
the connectors are replaced by :class:`tests.pipeline.fake_channel.FakeConnector` sending to a
:class:`FakeChannelServer` at $FAKE_CHANNEL_URL, for the channels in $FAKE_CHANNELS.
$BENCH_SQLITE_SYNC sets SQLite's ``PRAGMA synchronous`` as for the echo pipeline.
"""

from __future__ import annotations

import os
from typing import Any

from bots.runtime import Pipeline, build_pipeline
from tests.pipeline.fake_channel import FakeConnector
from tests.pipeline.fake_pipeline import _sqlite_sync


def build(services: Any) -> Pipeline:
    url = os.environ["FAKE_CHANNEL_URL"]
    if os.environ.get("BENCH_SQLITE_SYNC"):
        _sqlite_sync(services.engine, os.environ["BENCH_SQLITE_SYNC"])
    channels = os.environ.get("FAKE_CHANNELS", "fake").split(",")
    services.connectors = {c: FakeConnector(url, channel=c) for c in channels}  # build_connectors_for keeps these
    return build_pipeline(services)
