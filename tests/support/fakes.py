"""The fake servers, re-exported: channel APIs (Twilio, Telegram) and the generic fake channel.

They live next to the tests that grew them (``tests/fakes``, ``tests/pipeline/fake_channel``);
import them from here in new code and in the benchmarks.
"""

from __future__ import annotations

from tests.fakes.telegram_api import DEFAULT_TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import DEFAULT_SID as TWILIO_SID
from tests.fakes.twilio_api import DEFAULT_TOKEN as TWILIO_TOKEN
from tests.fakes.twilio_api import FakeTwilioAPI, twilio_error
from tests.pipeline.fake_channel import FakeChannelServer, FakeConnector, echo_handler

__all__ = [
    "TELEGRAM_TOKEN",
    "TWILIO_SID",
    "TWILIO_TOKEN",
    "FakeChannelServer",
    "FakeConnector",
    "FakeTelegramAPI",
    "FakeTwilioAPI",
    "echo_handler",
    "twilio_error",
]
