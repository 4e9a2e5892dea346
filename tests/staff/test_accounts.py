"""Staff accounts and API tokens against real SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bots.errors import StaffError
from bots.staff.accounts import ROLES, Accounts, StaffMember
from bots.stores.models import api_tokens, audit_log, staff

from .conftest import PASSWORD


def _rows(engine, table):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table)).mappings()]


def _audit(engine) -> list[tuple[str, str, str | None]]:
    return [(r["actor"], r["action"], r["subject"]) for r in _rows(engine, audit_log)]


def test_add_hashes_with_argon2id_and_authenticates(any_engine, cheap_hasher, clock) -> None:
    accounts = Accounts(any_engine, clock=clock, hasher=cheap_hasher)
    member = accounts.add(" Ana@Example.com ", "agent", password=PASSWORD, name="Ana", actor="cli")
    assert member == StaffMember(id=member.id, email="ana@example.com", name="Ana", role="agent", disabled=False)
    (row,) = _rows(any_engine, staff)
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]
    assert row["last_login_at"] is None

    clock.now += timedelta(minutes=5)
    assert accounts.authenticate("ANA@example.com", PASSWORD) == member
    (row,) = _rows(any_engine, staff)
    assert row["last_login_at"].replace(tzinfo=None) == clock.now.replace(tzinfo=None)
    assert accounts.authenticate("ana@example.com", PASSWORD + "x") is None
    assert accounts.get(member.id) == member
    assert accounts.by_email("ana@EXAMPLE.com") == member
    assert accounts.list() == [member]
    assert ("cli", "staff.added", "ana@example.com") in _audit(any_engine)


def test_default_hasher_is_argon2id(sql_engine) -> None:
    accounts = Accounts(sql_engine)
    accounts.add("real@example.com", "admin", password=PASSWORD)
    (row,) = _rows(sql_engine, staff)
    assert row["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts.authenticate("real@example.com", PASSWORD) is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "a@example.com", "role": "agent", "password": "short"}, r"5 characters; use at least 10"),
        (
            {"email": "a@example.com", "role": "boss", "password": PASSWORD},
            r"role 'boss' is not one of agent, analyst, admin",
        ),
        ({"email": "not-an-email", "role": "agent", "password": PASSWORD}, r"'not-an-email' is not an email address"),
        ({"email": "a@example.com", "role": "agent", "password": "x" * 2000}, r"longer than 1024"),
    ],
)
def test_add_refuses_bad_input_with_a_clear_message(accounts, kwargs, message) -> None:
    with pytest.raises(StaffError, match=message):
        accounts.add(**kwargs)
    assert accounts.list() == []


def test_email_is_unique_whatever_the_case(any_engine, cheap_hasher) -> None:
    accounts = Accounts(any_engine, hasher=cheap_hasher)
    accounts.add("bo@example.com", "analyst", password=PASSWORD)
    with pytest.raises(StaffError, match=r"'bo@example.com' already exists"):
        accounts.add("BO@example.com", "agent", password=PASSWORD)


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):  # noqa: A002 - argon2's signature
        self.verified += 1
        return super().verify(hash, password)


def test_unknown_email_and_passwordless_accounts_still_verify_a_hash(sql_engine) -> None:
    hasher = CountingHasher()
    accounts = Accounts(sql_engine, hasher=hasher)
    assert accounts.authenticate("nobody@example.com", PASSWORD) is None
    assert hasher.verified == 1
    accounts.add("api-only@example.com", "agent")  # no password: tokens only
    assert accounts.authenticate("api-only@example.com", "") is None
    assert hasher.verified == 2


def test_disabled_account_cannot_sign_in_until_enabled(accounts, sql_engine) -> None:
    accounts.add("cy@example.com", "agent", password=PASSWORD)
    assert accounts.disable("cy@example.com", actor="staff:9").disabled
    assert accounts.authenticate("cy@example.com", PASSWORD) is None
    assert accounts.by_email("cy@example.com").disabled
    assert not accounts.enable("CY@example.com").disabled
    assert accounts.authenticate("cy@example.com", PASSWORD) is not None
    actions = _audit(sql_engine)
    assert ("staff:9", "staff.disabled", "cy@example.com") in actions
    assert ("system", "staff.enabled", "cy@example.com") in actions
    with pytest.raises(StaffError, match=r"no staff account has the email 'zz@example.com'"):
        accounts.disable("zz@example.com")


def test_set_password(accounts) -> None:
    accounts.add("di@example.com", "agent", password=PASSWORD)
    with pytest.raises(StaffError, match="at least 10"):
        accounts.set_password("di@example.com", "123456789")
    accounts.set_password("di@example.com", "a brand new passphrase")
    assert accounts.authenticate("di@example.com", PASSWORD) is None
    assert accounts.authenticate("di@example.com", "a brand new passphrase") is not None


def test_outdated_hash_is_replaced_at_sign_in(sql_engine, cheap_hasher) -> None:
    Accounts(sql_engine, hasher=cheap_hasher).add("ed@example.com", "agent", password=PASSWORD)
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    accounts = Accounts(sql_engine, hasher=stronger)
    assert accounts.authenticate("ed@example.com", PASSWORD) is not None
    (row,) = _rows(sql_engine, staff)
    assert "m=2048,t=2,p=1" in row["password_hash"]
    assert not stronger.check_needs_rehash(row["password_hash"])
    assert accounts.authenticate("ed@example.com", PASSWORD) is not None


def test_tokens_are_stored_hashed_and_revocable(any_engine, cheap_hasher, clock) -> None:
    accounts = Accounts(any_engine, clock=clock, hasher=cheap_hasher)
    member = accounts.add("fa@example.com", "agent", password=PASSWORD)
    token = accounts.issue_token("fa@example.com", actor="cli")
    assert token.startswith("bbt_") and len(token) == 4 + 43
    (row,) = _rows(any_engine, api_tokens)
    assert token not in repr(row) and token[4:] not in repr(row)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert row["prefix"] == token[:12]

    clock.now += timedelta(hours=1)
    assert accounts.staff_for_token(token) == member
    (info,) = accounts.tokens("fa@example.com")
    assert info.prefix == token[:12] and info.active
    assert info.last_used_at.replace(tzinfo=None) == clock.now.replace(tzinfo=None)
    assert accounts.staff_for_token(token + "x") is None
    assert accounts.staff_for_token("not-a-token") is None

    assert accounts.revoke_token(token[:12], actor="cli") == 1
    assert accounts.staff_for_token(token) is None
    assert accounts.revoke_token(token) == 0  # already revoked
    assert not accounts.tokens("fa@example.com")[0].active

    second = accounts.issue_token("fa@example.com")
    assert accounts.revoke_token(second) == 1  # the whole token works too
    actions = _audit(any_engine)
    assert ("cli", "token.issued", "fa@example.com") in actions
    assert ("cli", "token.revoked", "fa@example.com") in actions
    assert all(token not in repr(r) for r in _rows(any_engine, audit_log))


def test_disabled_account_loses_its_tokens_until_enabled(accounts) -> None:
    accounts.add("gi@example.com", "analyst")
    token = accounts.issue_token("gi@example.com")
    accounts.disable("gi@example.com")
    assert accounts.staff_for_token(token) is None
    with pytest.raises(StaffError, match="is disabled"):
        accounts.issue_token("gi@example.com")
    accounts.enable("gi@example.com")
    assert accounts.staff_for_token(token).email == "gi@example.com"


def test_roles_and_display() -> None:
    agent = StaffMember(id=1, email="h@example.com", name="", role="agent", disabled=False)
    admin = StaffMember(id=2, email="i@example.com", name="Ines", role="admin", disabled=False)
    assert ROLES == ("agent", "analyst", "admin")
    assert agent.display == "h@example.com" and admin.display == "Ines"
    assert agent.can() and agent.can("agent") and agent.can("agent", "analyst")
    assert not agent.can("analyst") and not agent.can("admin")
    assert admin.can("agent") and admin.can("analyst")
    assert agent.actor == "staff:1"
    gone = StaffMember(id=3, email="j@example.com", name="", role="admin", disabled=True)
    assert not gone.can() and not gone.can("admin")
