"""Settings are validated once; every mistake names the file, the key and the fix."""

from __future__ import annotations

import pytest

from bots.errors import ConfigError
from bots.settings import load_settings
from tests.conftest import REPO


def test_shipped_config_loads_with_no_secrets_set() -> None:
    settings = load_settings(REPO / "config.yaml", env={})
    assert settings.brand.name == "Nimbus Air"
    assert set(settings.brand.languages) == {"en", "fr"}
    assert settings.enabled_channels() == ["webchat"]
    assert settings.database_url.startswith("sqlite:////")  # relative path made absolute


def test_unknown_key_is_named_with_the_file(write_config) -> None:
    path = write_config({"server": {"prot": 8000}})
    with pytest.raises(ConfigError, match=r"server\.prot: unknown key") as info:
        load_settings(path, env={})
    assert str(path) in str(info.value)


def test_wrong_type_names_key_and_value(write_config) -> None:
    path = write_config({"server": {"web_workers": "eighty"}})
    with pytest.raises(ConfigError, match=r"server\.web_workers: .*integer.*'eighty'"):
        load_settings(path, env={})


def test_out_of_range_value_says_what_is_valid(write_config) -> None:
    path = write_config({"server": {"environment": "staging"}})
    with pytest.raises(ConfigError, match=r"server\.environment: .*'development' or 'production'"):
        load_settings(path, env={})


def test_missing_secret_of_an_enabled_channel_names_variable_and_key(write_config) -> None:
    path = write_config(
        """
        brand: {name: X}
        channels:
          telegram:
            enabled: true
            token: ${TELEGRAM_BOT_TOKEN}
            webhook_secret: ${TELEGRAM_WEBHOOK_SECRET}
        """
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={"TELEGRAM_WEBHOOK_SECRET": "s3cret"})
    message = str(info.value)
    assert "channels.telegram.token: environment variable TELEGRAM_BOT_TOKEN is not set" in message
    assert "webhook_secret" not in message
    assert len(message.splitlines()) < 20  # one screen


def test_secret_of_a_disabled_channel_may_be_unset(write_config) -> None:
    path = write_config("""
        brand: {name: X}
        channels: {twilio: {enabled: false, auth_token: "${TWILIO_AUTH_TOKEN}"}}
    """)
    assert load_settings(path, env={}).channels.twilio.auth_token == ""


def test_secret_is_read_from_the_environment(write_config) -> None:
    path = write_config("""
        brand: {name: X}
        channels: {twilio: {enabled: true, account_sid: "${SID}", auth_token: "${TOKEN}"}}
    """)
    s = load_settings(path, env={"SID": "AC123", "TOKEN": "tok"})
    assert (s.channels.twilio.account_sid, s.channels.twilio.auth_token) == ("AC123", "tok")
    assert s.enabled_channels() == ["webchat", "twilio"]


def test_default_in_placeholder_applies_when_unset(write_config) -> None:
    path = write_config("""
        brand: {name: X}
        stores: {database_url: "${DATABASE_URL:-sqlite:///data/x.db}"}
    """)
    assert load_settings(path, env={}).database_url == f"sqlite:///{path.parent / 'data/x.db'}"
    pg = load_settings(path, env={"DATABASE_URL": "postgresql://u@h/db"}).database_url
    assert pg == "postgresql+psycopg://u@h/db"


def test_invalid_yaml_gives_the_line(write_config) -> None:
    path = write_config("brand:\n  name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+"):
        load_settings(path, env={})


def test_missing_file_says_how_to_point_at_one(tmp_path) -> None:
    with pytest.raises(ConfigError, match="BRANDBOT_CONFIG"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_config_path_from_environment_and_host_port_override(write_config, monkeypatch) -> None:
    path = write_config({})
    monkeypatch.setenv("BRANDBOT_CONFIG", str(path))
    s = load_settings(env={"BRANDBOT_HOST": "0.0.0.0", "BRANDBOT_PORT": "9123"})
    assert s.source == str(path)
    assert (s.server.host, s.server.port) == ("0.0.0.0", 9123)


def test_flags_override_file_values(write_config) -> None:
    s = load_settings(write_config({}), env={}, overrides={"server.port": 7001, "server.host": None})
    assert s.server.port == 7001 and s.server.host == "127.0.0.1"


def test_default_language_must_be_one_of_the_languages(write_config) -> None:
    path = write_config({"brand": {"languages": ["en"], "default_language": "fr"}})
    with pytest.raises(ConfigError, match=r"brand\.default_language: 'fr' is not one of"):
        load_settings(path, env={})


def test_settings_are_frozen(write_config) -> None:
    s = load_settings(write_config({}), env={})
    with pytest.raises(Exception, match="frozen"):
        s.server.port = 1


def test_bad_redis_url_is_refused(write_config) -> None:
    with pytest.raises(ConfigError, match=r"stores\.redis_url: .*not a Redis URL"):
        load_settings(write_config({"stores": {"redis_url": "localhost:6379"}}), env={})


def test_production_refuses_the_development_secret_key(write_config) -> None:
    path = write_config({"server": {"environment": "production"}})
    with pytest.raises(ConfigError, match=r"server: .*BRANDBOT_SECRET_KEY"):
        load_settings(path, env={})
    with pytest.raises(ConfigError, match=r"privacy.analytics_secret: .*BRANDBOT_ANALYTICS_SECRET"):
        load_settings(
            write_config({"server": {"environment": "production", "secret_key": "a-real-long-secret"}}), env={}
        )
    s = load_settings(
        write_config(
            {
                "server": {"environment": "production", "secret_key": "a-real-long-secret"},
                "privacy": {"analytics_secret": "another-real-long-secret"},
            }
        ),
        env={},
    )
    assert s.server.environment == "production"
