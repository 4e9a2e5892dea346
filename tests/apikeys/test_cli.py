"""``brandbot apikey create|list|revoke`` through click's CliRunner, on a config pointing at a temp SQLite."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bots.apikeys import ApiKeys, parse_key
from bots.cli import main
from bots.stores.models import audit_log
from bots.stores.sql import make_engine


@pytest.fixture
def cfg(write_config, sqlite_url):
    return write_config({"stores": {"database_url": sqlite_url}})


@pytest.fixture
def apikeys(sqlite_url) -> ApiKeys:
    return ApiKeys(make_engine(sqlite_url))


def run(cfg, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(cfg), "apikey", *args], terminal_width=200)


def create(cfg, *args: str) -> tuple[Result, str]:
    result = run(cfg, "create", *args)
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()  # stdout holds the key alone: KEY=$(brandbot apikey create ...) works
    assert parse_key(key) is not None, result.stdout
    return result, key


def test_create_shows_the_key_once_with_its_id_and_prefix(cfg, apikeys: ApiKeys, sqlite_url) -> None:
    result, key = create(cfg, "--name", "booking system", "--scope", "notify", "--scope", "notify")
    assert result.output.count(key) == 1
    assert "shown once; store it now" in result.output
    assert f"API key id 1, prefix {key[:12]} ('booking system'; scopes: notify)" in result.output
    assert f"brandbot apikey revoke {key[:12]}" in result.output  # bbk_: safe when the prefix starts with "-"
    info = apikeys.authenticate(key, "notify")
    assert info is not None and (info.name, info.created_by) == ("booking system", "cli")


def test_create_refuses_unknown_scopes_and_bad_names(cfg, apikeys: ApiKeys) -> None:
    bad_scope = run(cfg, "create", "--name", "crm", "--scope", "admin")
    assert bad_scope.exit_code == 2 and "'admin' is not 'notify'" in bad_scope.output
    no_scope = run(cfg, "create", "--name", "crm")
    assert no_scope.exit_code == 2 and "--scope" in no_scope.output
    long_name = run(cfg, "create", "--name", "x" * 101, "--scope", "notify")
    assert long_name.exit_code == 2 and "error: the name has 101 characters; at most 100" in long_name.output
    assert "Traceback" not in long_name.output
    assert apikeys.list() == []


def test_list_shows_the_keys_but_never_a_key(cfg) -> None:
    _, first = create(cfg, "--name", "crm", "--scope", "notify")
    _, second = create(cfg, "--name", "erp", "--scope", "notify")
    assert run(cfg, "revoke", first[4:12]).exit_code == 0
    listing = run(cfg, "list")
    assert listing.exit_code == 0, listing.output
    out = listing.output
    assert "api keys: 2 (1 active)" in out
    for col in ("id", "name", "prefix", "scopes", "created", "last used", "revoked"):
        assert col in out
    assert "crm" in out and "erp" in out and first[:12] in out and second[:12] in out
    for key in (first, second):
        assert key not in out and key[13:] not in out and key[13:25] not in out


def test_revoke_then_the_key_is_refused(cfg, apikeys: ApiKeys, sqlite_url) -> None:
    _, key = create(cfg, "--name", "crm", "--scope", "notify")
    assert apikeys.authenticate(key, "notify") is not None
    result = run(cfg, "revoke", "1")
    assert result.exit_code == 0 and "revoked API key 1" in result.output
    assert apikeys.authenticate(key, "notify") is None
    again = run(cfg, "revoke", key[:12])
    assert again.exit_code == 1 and f"no active API key matches '{key[:12]}'" in again.output
    with make_engine(sqlite_url).connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action).order_by(audit_log.c.id)).all()
    assert [tuple(r) for r in rows] == [("cli", "apikey.created"), ("cli", "apikey.revoked")]


def test_revoke_of_an_unknown_key_exits_1(cfg) -> None:
    result = run(cfg, "revoke", "nope")
    assert result.exit_code == 1
    assert "no active API key matches 'nope' (see `brandbot apikey list`)" in result.output
