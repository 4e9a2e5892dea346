"""handoff: and console: settings: business hours, time zones and canned replies checked at start."""

from __future__ import annotations

from datetime import time

import pytest

from bots.errors import ConfigError
from bots.settings import load_settings
from bots.settings.handoff import parse_span


def test_shipped_config_has_business_hours_and_canned_replies(write_config) -> None:
    from tests.conftest import REPO

    settings = load_settings(REPO / "config.yaml", env={})
    assert settings.handoff.business_hours["mon"] == ("08:00-20:00",)
    assert "sun" not in settings.handoff.business_hours
    assert {c.shortcut for c in settings.console.canned_replies} >= {"hello", "sorry"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"handoff": {"business_hours": {"monday": ["08:00-20:00"]}}},
            r"handoff.business_hours: .*'monday' is not a day",
        ),
        (
            {"handoff": {"business_hours": {"mon": ["20:00-08:00"]}}},
            r"handoff.business_hours: .*start must be before the end",
        ),
        ({"handoff": {"business_hours": {"mon": ["8-20"]}}}, r"handoff.business_hours: .*not a span"),
        ({"handoff": {"timezone": "Europe/Pariss"}}, r"handoff.timezone: .*unknown time zone 'Europe/Pariss'"),
        ({"brand": {"timezone": "Mars/Olympus"}}, r"brand.timezone: unknown time zone 'Mars/Olympus'"),
        (
            {"console": {"canned_replies": [{"shortcut": "Hello There", "title": "x", "text": {"en": "hi"}}]}},
            r"console.canned_replies.0.shortcut",
        ),
        ({"handoff": {"max_wait_minutes": 0}}, r"handoff.max_wait_minutes"),
    ],
)
def test_a_bad_handoff_or_console_setting_names_its_key(write_config, extra, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write_config(extra), env={})


def test_parse_span_reads_until_midnight() -> None:
    assert parse_span("09:30-24:00") == (time(9, 30), None)
