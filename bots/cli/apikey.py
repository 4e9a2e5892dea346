"""``brandbot apikey create|list|revoke``: API keys of the brand's own systems (machines, not staff)."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from ..apikeys.store import SCOPES, ApiKeys
from ._state import CliState, console, friendly_errors, migrated_engine, pass_state, render_table, when

#: the actor of every audit_log row written from the command line.
ACTOR = "cli"


def _apikeys(state: CliState) -> ApiKeys:
    return ApiKeys(migrated_engine(state))


@click.group("apikey")
def apikey() -> None:
    """API keys that let the brand's systems call brandbot (e.g. to send notifications)."""


@apikey.command("create")
@click.option("--name", required=True, help="What the key is for, e.g. 'booking system: delay notices' (<= 100).")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(SCOPES),
    multiple=True,
    required=True,
    help="What the key may do (repeat for several). notify: POST /api/v1/notifications.",
)
@pass_state
@friendly_errors
def apikey_create(state: CliState, name: str, scopes: tuple[str, ...]) -> None:
    """Make a key and print it: it is shown this once only."""
    created = _apikeys(state).create(name, scopes, created_by=ACTOR)
    click.echo(created.key)
    shown = ", ".join(created.scopes)
    console.print(
        f"API key id {created.id}, prefix bbk_{created.prefix} ({created.name!r}; scopes: {shown})\n"
        "This key is shown once; store it now (only its hash is kept).\n"
        "Send it as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.\n"
        f"Revoke it with: brandbot apikey revoke bbk_{created.prefix}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@apikey.command("list")
@pass_state
@friendly_errors
def apikey_list(state: CliState) -> None:
    """Show every key (never the key itself): what it is for, its scopes and its use."""
    keys = _apikeys(state).list()
    table = Table(title=f"api keys: {len(keys)} ({sum(k.active for k in keys)} active)")
    for col in ("id", "name", "prefix", "scopes", "created", "last used", "revoked"):
        table.add_column(col, overflow="fold")
    for k in keys:
        table.add_row(
            str(k.id),
            escape(k.name),
            k.shown_prefix,
            ", ".join(k.scopes),
            when(k.created_at),
            when(k.last_used_at),
            when(k.revoked_at),
        )
    click.echo(render_table(table))


@apikey.command("revoke")
@click.argument("id_or_prefix")
@pass_state
@friendly_errors
def apikey_revoke(state: CliState, id_or_prefix: str) -> None:
    """Revoke a key, by the id or prefix `brandbot apikey list` shows: refused at once."""
    if not _apikeys(state).revoke(id_or_prefix, actor=ACTOR):
        console.print(
            f"no active API key matches {id_or_prefix!r} (see `brandbot apikey list`)", highlight=False, markup=False
        )
        raise SystemExit(1)
    console.print(f"revoked API key {id_or_prefix}", highlight=False, markup=False)


COMMANDS = [apikey]
