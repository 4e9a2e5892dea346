"""ApiKeys on SQLite and PostgreSQL: create, authenticate, verify, revoke, list, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bots.apikeys import SCOPES, ApiKeyError, ApiKeys, Refusal, hash_key, parse_key
from bots.stores.models import api_keys, audit_log

from .conftest import OTHER_SCOPE


def test_create_returns_the_key_once_and_stores_only_its_hash(apikeys: ApiKeys, engine, clock) -> None:
    created = apikeys.create("  booking system: delays  ", ["notify"], created_by="cli")
    assert (created.id, created.name, created.scopes) == (1, "booking system: delays", ("notify",))
    parsed = parse_key(created.key)
    assert parsed is not None and parsed.prefix == created.prefix
    assert created.key not in repr(created)
    with engine.connect() as conn:
        row = conn.execute(select(api_keys)).mappings().one()
    assert row["key_hash"] == hash_key(created.key) and row["prefix"] == created.prefix
    assert parsed.secret not in " ".join(str(v) for v in row.values())
    assert (row["scopes"], row["created_by"], row["last_used_at"], row["revoked_at"]) == ("notify", "cli", None, None)
    with engine.connect() as conn:
        audit = conn.execute(select(audit_log)).mappings().one()
    assert (audit["actor"], audit["action"], audit["subject"]) == ("cli", "apikey.created", "apikey:1")
    assert created.key not in str(audit["detail"])


def test_authenticate_accepts_the_key_for_its_scope_and_records_use_once_a_minute(apikeys: ApiKeys, clock) -> None:
    created = apikeys.create("crm", "notify")
    start = clock.now
    info = apikeys.authenticate(created.key, "notify")
    assert info is not None and (info.id, info.name, info.scopes, info.active) == (created.id, "crm", ("notify",), True)
    assert info.last_used_at == start

    clock.now = start + timedelta(seconds=59)
    apikeys.authenticate(created.key, "notify")
    assert apikeys.list()[0].last_used_at == start  # not rewritten within the minute

    clock.now = start + timedelta(seconds=61)
    apikeys.authenticate(f" {created.key} ", "notify")
    assert apikeys.list()[0].last_used_at == clock.now


def test_verify_says_why_a_key_is_refused(apikeys: ApiKeys, two_scopes) -> None:
    notify = apikeys.create("crm", ["notify"])
    other = apikeys.create("bi", [OTHER_SCOPE])
    forged = notify.key[:-1] + ("A" if notify.key[-1] != "A" else "B")  # right prefix, wrong secret

    assert apikeys.verify(notify.key, "notify").ok
    assert apikeys.verify("nonsense", "notify").refusal is Refusal.MALFORMED
    assert apikeys.verify(forged, "notify").refusal is Refusal.UNKNOWN
    unknown_prefix = "bbk_" + "z" * 8 + notify.key[12:]
    assert apikeys.verify(unknown_prefix, "notify").refusal is Refusal.UNKNOWN

    lacking = apikeys.verify(other.key, "notify")
    assert lacking.refusal is Refusal.MISSING_SCOPE and lacking.refusal.status == 403
    assert lacking.key is not None and lacking.key.name == "bi"
    assert lacking.key.last_used_at is None  # only an accepted key counts as used
    assert apikeys.authenticate(other.key, "notify") is None

    assert apikeys.revoke(notify.prefix)
    revoked = apikeys.verify(notify.key, "notify")
    assert revoked.refusal is Refusal.REVOKED and revoked.key is None and revoked.refusal.status == 401
    assert apikeys.authenticate(notify.key, "notify") is None


def test_revoke_by_id_prefix_shown_prefix_or_whole_key(apikeys: ApiKeys, engine, clock) -> None:
    keys = [apikeys.create(f"k{i}", ["notify"]) for i in range(4)]
    assert apikeys.revoke(keys[0].id)
    assert apikeys.revoke(str(keys[1].id))
    assert apikeys.revoke("bbk_" + keys[2].prefix + "…", actor="staff:1")
    assert apikeys.revoke(keys[3].key)
    assert [k.revoked_at for k in apikeys.list()] == [clock.now] * 4
    assert not apikeys.revoke(keys[0].prefix)  # already revoked
    assert not apikeys.revoke("nothing")
    assert not apikeys.revoke("999")
    assert not apikeys.revoke("9" * 30)  # beyond any id: no database error
    assert all(apikeys.authenticate(k.key, "notify") is None for k in keys)
    with engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.actor, audit_log.c.action).order_by(audit_log.c.id)).all()
    assert actions[-4:] == [("system", "apikey.revoked")] * 2 + [
        ("staff:1", "apikey.revoked"),
        ("system", "apikey.revoked"),
    ]


def test_list_shows_every_key_without_secrets(apikeys: ApiKeys) -> None:
    first = apikeys.create("crm", ["notify"], created_by="ops")
    second = apikeys.create("erp", ["notify", "notify"])
    apikeys.revoke(first.id)
    listed = apikeys.list()
    assert [(k.id, k.name, k.scopes, k.active, k.created_by) for k in listed] == [
        (first.id, "crm", ("notify",), False, "ops"),
        (second.id, "erp", ("notify",), True, None),
    ]
    assert listed[0].created_at.tzinfo is not None and listed[0].shown_prefix == "bbk_" + first.prefix
    assert not hasattr(listed[0], "key") and not hasattr(listed[0], "key_hash")


def test_create_refuses_bad_names_and_scopes(apikeys: ApiKeys) -> None:
    with pytest.raises(ValueError, match=r"unknown scope 'admin'; valid scopes: notify"):
        apikeys.create("crm", ["notify", "admin"])
    with pytest.raises(ApiKeyError, match="at least one scope"):
        apikeys.create("crm", [])
    with pytest.raises(ApiKeyError, match="give the key a name"):
        apikeys.create("   ", ["notify"])
    with pytest.raises(ApiKeyError, match="101 characters; at most 100"):
        apikeys.create("x" * 101, ["notify"])
    assert apikeys.list() == []
    assert apikeys.create("x" * 100, ["notify"]).name == "x" * 100


def test_an_unknown_scope_asked_of_verify_is_a_mistake_of_the_caller(apikeys: ApiKeys) -> None:
    key = apikeys.create("crm", ["notify"]).key
    with pytest.raises(ApiKeyError, match=r"unknown scope 'notfiy'; valid scopes: notify"):
        apikeys.authenticate(key, "notfiy")


def test_scopes_are_the_documented_ones() -> None:
    assert SCOPES == ("notify",)
