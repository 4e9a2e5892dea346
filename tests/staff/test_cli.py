"""``brandbot staff ...`` through click's CliRunner, on a config pointing at a temp SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bots.cli import main
from bots.cli.staff import ROLE_CHOICES, staff
from bots.staff.accounts import ROLES, Accounts
from bots.stores.models import audit_log
from bots.stores.sql import make_engine

from .conftest import PASSWORD


@pytest.fixture(autouse=True)
def staff_registered() -> Iterator[None]:
    """Until bots/cli/__init__.py registers the group, add it for these tests."""
    added = "staff" not in main.commands
    if added:
        main.add_command(staff)
    yield
    if added:
        main.commands.pop("staff")


@pytest.fixture
def cfg(write_config, sqlite_url):
    return write_config({"stores": {"database_url": sqlite_url}})


@pytest.fixture
def accounts(sqlite_url) -> Accounts:
    return Accounts(make_engine(sqlite_url))


def run(cfg, *args: str, input: str | None = None) -> Result:  # noqa: A002 - CliRunner.invoke's name for it
    return CliRunner().invoke(main, ["--config", str(cfg), "staff", *args], input=input, terminal_width=200)


def test_role_choices_match_the_accounts_roles() -> None:
    assert ROLE_CHOICES == ROLES


def test_add_with_password_on_stdin_then_list(cfg, accounts) -> None:
    result = run(
        cfg, "add", "Ana@Example.com", "--role", "agent", "--name", "Ana", "--password-stdin", input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "added ana@example.com (agent), id 1" in result.output
    assert accounts.authenticate("ana@example.com", PASSWORD).name == "Ana"

    listing = run(cfg, "list")
    assert listing.exit_code == 0, listing.output
    assert "ana@example.com" in listing.output and "agent" in listing.output and "active" in listing.output


def test_add_prompts_twice_hidden(cfg, accounts) -> None:
    result = run(cfg, "add", "bo@example.com", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Repeat for confirmation" in result.output
    assert accounts.authenticate("bo@example.com", PASSWORD).role == "admin"


def test_friendly_errors(cfg) -> None:
    short = run(cfg, "add", "cy@example.com", "--role", "agent", "--password-stdin", input="tooshort\n")
    assert short.exit_code == 2
    assert "use at least 10" in short.output and "Traceback" not in short.output
    bad_role = run(cfg, "add", "cy@example.com", "--role", "boss", "--password-stdin", input=PASSWORD + "\n")
    assert bad_role.exit_code == 2 and "'boss' is not one of" in bad_role.output
    unknown = run(cfg, "disable", "nobody@example.com")
    assert unknown.exit_code == 2 and "no staff account has the email 'nobody@example.com'" in unknown.output
    run(cfg, "add", "cy@example.com", "--role", "agent", "--password-stdin", input=PASSWORD + "\n")
    again = run(cfg, "add", "cy@example.com", "--role", "agent", "--password-stdin", input=PASSWORD + "\n")
    assert again.exit_code == 2 and "already exists" in again.output


def test_disable_enable_token_revoke(cfg, accounts, sqlite_url) -> None:
    assert (
        run(cfg, "add", "di@example.com", "--role", "analyst", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    )

    issued = run(cfg, "token", "di@example.com")
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token.startswith("bbt_") and "\n" not in token
    assert accounts.staff_for_token(token).email == "di@example.com"
    assert token[:12] + "…" in run(cfg, "list").output

    assert run(cfg, "disable", "di@example.com").exit_code == 0
    assert accounts.authenticate("di@example.com", PASSWORD) is None
    assert accounts.staff_for_token(token) is None
    assert "disabled" in run(cfg, "list").output
    assert run(cfg, "enable", "di@example.com").exit_code == 0
    assert accounts.staff_for_token(token) is not None

    revoked = run(cfg, "revoke", token[:12])
    assert revoked.exit_code == 0 and "revoked 1 token" in revoked.output
    assert accounts.staff_for_token(token) is None
    nothing = run(cfg, "revoke", token)
    assert nothing.exit_code == 1 and "no active token matches" in nothing.output

    with make_engine(sqlite_url).connect() as conn:
        rows = [(r.actor, r.action) for r in conn.execute(select(audit_log))]
    assert {
        ("cli", a) for a in ("staff.added", "token.issued", "staff.disabled", "staff.enabled", "token.revoked")
    } <= set(rows)
