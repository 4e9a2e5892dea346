"""The dialogue section of config.yaml: typed flows/FAQ/responses, checked at start with clear errors."""

from __future__ import annotations

import pytest

from bots.dialogue.domain import load_domain
from bots.errors import ConfigError
from bots.settings import load_settings

from .conftest import DOMAIN, REPO


def test_the_shipped_config_loads_the_airline_domain() -> None:
    settings = load_settings(REPO / "config.yaml", env={})
    domain = load_domain(settings)
    assert set(domain.flows) == {"booking_status", "travel_details", "flight_status", "change_seat", "cancel_booking"}
    assert {"baggage_info", "checkin_info", "greet", "complaint"} <= set(domain.faq)
    assert domain.flows["change_seat"].confirm == "confirm_seat_change"


def test_inline_keys_override_the_domain_file(write_config) -> None:
    path = write_config(
        {
            "dialogue": {
                "domain_file": str(DOMAIN),
                "faq": {"baggage_info": {"text": {"en": "Just one bag.", "fr": "Un seul sac."}}},
            }
        }
    )
    domain = load_domain(load_settings(path, env={}))
    assert domain.faq["baggage_info"].text["en"] == "Just one bag."
    assert "checkin_info" in domain.faq


def test_unknown_key_in_a_flow_is_named(write_config) -> None:
    path = write_config({"dialogue": {"flows": {"x": {"intents": ["greet"], "confrim": "oops"}}}})
    with pytest.raises(ConfigError, match=r"dialogue\.flows\.x\.confrim: unknown key"):
        load_settings(path, env={})


def test_an_intent_may_trigger_only_one_flow(write_config) -> None:
    path = write_config({"dialogue": {"flows": {"a": {"intents": ["greet"]}, "b": {"intents": ["greet"]}}}})
    with pytest.raises(ConfigError, match="intent 'greet' triggers both flows 'a' and 'b'"):
        load_settings(path, env={})


def test_lock_must_outlive_a_slow_action(write_config) -> None:
    path = write_config({"dialogue": {"lock_ttl_seconds": 5, "action_timeout_seconds": 5}})
    with pytest.raises(ConfigError, match="at least twice action_timeout_seconds"):
        load_settings(path, env={})


def test_missing_domain_file_is_named(write_config, tmp_path) -> None:
    path = write_config({"dialogue": {"domain_file": "nope.yml"}})
    with pytest.raises(ConfigError, match=r"dialogue\.domain_file: .*nope\.yml does not exist"):
        load_domain(load_settings(path, env={}))


def test_an_faq_intent_cannot_also_trigger_a_flow(write_config) -> None:
    from bots.dialogue.errors import DomainError

    path = write_config(
        {"dialogue": {"domain_file": str(DOMAIN), "faq": {"change_seat": {"text": {"en": "x", "fr": "x"}}}}}
    )
    with pytest.raises(DomainError, match="intent 'change_seat' has an FAQ answer and triggers flow 'change_seat'"):
        load_domain(load_settings(path, env={}))
