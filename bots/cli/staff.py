"""``brandbot staff add|list|disable|enable|token|revoke``: console accounts and API tokens."""

from __future__ import annotations

import sys

import click
from rich.markup import escape
from rich.table import Table

from ._state import CliState, console, friendly_errors, migrated_engine, pass_state, render_table

#: the actor of every audit_log row written from the command line.
ACTOR = "cli"
ROLE_CHOICES = ("agent", "analyst", "admin")


def _accounts(state: CliState):
    from ..staff.accounts import Accounts

    return Accounts(migrated_engine(state))


@click.group("staff")
def staff() -> None:
    """Staff accounts of the console and their API tokens."""


@staff.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(ROLE_CHOICES),
    required=True,
    help="agent: answers customers; analyst: reads the dashboard; admin: everything.",
)
@click.option("--name", default="", help="Name shown to colleagues (default: the email).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (one line) instead of prompting.")
@pass_state
@friendly_errors
def staff_add(state: CliState, email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account that can sign in to the console."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    member = _accounts(state).add(email, role, password=password, name=name, actor=ACTOR)
    console.print(f"added {member.email} ({member.role}), id {member.id}", highlight=False)


@staff.command("list")
@pass_state
@friendly_errors
def staff_list(state: CliState) -> None:
    """Show every account, its role, status and active API tokens."""
    accounts = _accounts(state)
    members = accounts.list()
    table = Table(title=f"staff: {len(members)}")
    for col in ("id", "email", "name", "role", "status", "tokens"):
        table.add_column(col, overflow="fold")
    for m in members:
        active = [t.prefix + "…" for t in accounts.tokens(m.email) if t.active]
        table.add_row(
            str(m.id),
            escape(m.email),
            escape(m.name),
            m.role,
            "disabled" if m.disabled else "active",
            ", ".join(active) or "-",
        )
    click.echo(render_table(table))


@staff.command("disable")
@click.argument("email")
@pass_state
@friendly_errors
def staff_disable(state: CliState, email: str) -> None:
    """Stop an account: it is signed out and its tokens refused at once."""
    member = _accounts(state).disable(email, actor=ACTOR)
    console.print(f"disabled {member.email}", highlight=False)


@staff.command("enable")
@click.argument("email")
@pass_state
@friendly_errors
def staff_enable(state: CliState, email: str) -> None:
    """Let a disabled account sign in again."""
    member = _accounts(state).enable(email, actor=ACTOR)
    console.print(f"enabled {member.email}", highlight=False)


@staff.command("token")
@click.argument("email")
@pass_state
@friendly_errors
def staff_token(state: CliState, email: str) -> None:
    """Issue an API token for the account and print it (shown this once only)."""
    from ..staff.accounts import SHOWN_PREFIX_LENGTH

    token = _accounts(state).issue_token(email, actor=ACTOR)
    click.echo(token)
    console.print(
        "Keep it now: only its hash is stored. Use it as 'Authorization: Bearer <token>'. "
        f"Revoke with: brandbot staff revoke {token[:SHOWN_PREFIX_LENGTH]}",
        highlight=False,
    )


@staff.command("revoke")
@click.argument("token_or_prefix")
@pass_state
@friendly_errors
def staff_revoke(state: CliState, token_or_prefix: str) -> None:
    """Revoke an API token, given whole or by the prefix `staff list` shows."""
    count = _accounts(state).revoke_token(token_or_prefix.rstrip("…"), actor=ACTOR)
    if not count:
        console.print(f"no active token matches {token_or_prefix!r} (see `brandbot staff list`)", highlight=False)
        raise SystemExit(1)
    console.print(f"revoked {count} token{'s' if count > 1 else ''}", highlight=False)


COMMANDS = [staff]
