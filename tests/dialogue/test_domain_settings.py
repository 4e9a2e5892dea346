"""The dialogue section of config.yaml: typed flows/FAQ/responses, checked at start with clear errors."""

from __future__ import annotations

import pytest

from bots.dialogue.domain import BUILTIN_RESPONSES, load_domain
from bots.errors import ConfigError
from bots.settings import load_settings

from .conftest import DOMAIN, REPO

_BUILTINS = "responses:\n" + "".join(f"  {k}: {{text: {{en: ok}}}}\n" for k in BUILTIN_RESPONSES)


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


def test_a_domain_file_includes_others_relative_to_itself(tmp_path, write_config) -> None:
    (tmp_path / "more").mkdir()
    (tmp_path / "main.yml").write_text(
        "include: [more/topics.yml]\nfaq:\n  greet: {text: {en: Hi}}\n" + _BUILTINS, encoding="utf-8"
    )
    topics = "faq:\n  pets: {text: {en: Pets fly in the cabin.}}\n"
    (tmp_path / "more" / "topics.yml").write_text(topics, encoding="utf-8")
    path = write_config({"brand": {"languages": ["en"]}, "dialogue": {"domain_file": str(tmp_path / "main.yml")}})
    domain = load_domain(load_settings(path, env={}))
    assert domain.faq["pets"].text["en"] == "Pets fly in the cabin."
    assert "greet" in domain.faq


@pytest.mark.parametrize(
    ("topics", "error"),
    [
        ("faq:\n  greet: {text: {en: Hello again}}\n", "faq.greet is also defined in"),
        ("include: [main.yml]\n", "is included twice"),
        ("include: [nowhere.yml]\n", "does not exist"),
    ],
)
def test_an_included_file_may_not_redefine_a_name_or_loop_or_be_missing(tmp_path, write_config, topics, error) -> None:
    (tmp_path / "main.yml").write_text(
        "include: [topics.yml]\nfaq:\n  greet: {text: {en: Hi}}\n" + _BUILTINS, encoding="utf-8"
    )
    (tmp_path / "topics.yml").write_text(topics, encoding="utf-8")
    path = write_config({"brand": {"languages": ["en"]}, "dialogue": {"domain_file": str(tmp_path / "main.yml")}})
    with pytest.raises(ConfigError, match=error):
        load_domain(load_settings(path, env={}))
