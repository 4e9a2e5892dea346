"""What the tests and the benchmarks share: ports, folders, processes, signed webhooks, fakes.

One place for the helpers that both need, so a benchmark measures the same setup the
tests check (``benchmarks/*.py`` put the repository root on ``sys.path`` and import
this package). Nothing here starts at import time.
"""

from __future__ import annotations

from .fakes import (
    TELEGRAM_TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeChannelServer,
    FakeConnector,
    FakeTelegramAPI,
    FakeTwilioAPI,
    echo_handler,
    twilio_error,
)
from .folders import temp_folder
from .net import free_port, wait_for, wait_http_ok, wait_listening
from .processes import BRANDBOT, FAKE_PIPELINE, REPO, ServerProcess, start_worker, stop_processes
from .servers import start_embedded_redis
from .signing import signed_twilio_form, telegram_headers, twilio_signature

__all__ = [
    "BRANDBOT",
    "FAKE_PIPELINE",
    "REPO",
    "TELEGRAM_TOKEN",
    "TWILIO_SID",
    "TWILIO_TOKEN",
    "FakeChannelServer",
    "FakeConnector",
    "FakeTelegramAPI",
    "FakeTwilioAPI",
    "ServerProcess",
    "echo_handler",
    "free_port",
    "signed_twilio_form",
    "start_embedded_redis",
    "start_worker",
    "stop_processes",
    "telegram_headers",
    "temp_folder",
    "twilio_error",
    "twilio_signature",
    "wait_for",
    "wait_http_ok",
    "wait_listening",
]
