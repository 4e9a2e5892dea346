"""``brandbot dlq list|show|retry``: see and retry what could not be delivered."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from ._state import CliState, console, friendly_errors, pass_state, render_table


def _open(state: CliState):
    from ..pipeline import DeadLetters, keys_for
    from ..services import build_services

    settings = state.settings()
    services = build_services(settings)
    return services, DeadLetters(services.redis, keys_for(settings), settings.pipeline.dlq_maxlen)


@click.group("dlq")
def dlq() -> None:
    """Dead letters: replies that could not be sent, turns that failed."""


@dlq.command("list")
@click.option("--limit", "-n", type=click.IntRange(1, 10_000), default=50, show_default=True)
@pass_state
@friendly_errors
def dlq_list(state: CliState, limit: int) -> None:
    """Show the oldest dead letters."""
    services, letters = _open(state)
    try:
        rows = letters.list(limit)
        total = letters.count()
    finally:
        services.close()
    table = Table(title=f"dead letters: {total}", show_lines=False)
    for col in ("id", "when (UTC)", "kind", "channel", "conversation", "tries", "error"):
        table.add_column(col, overflow="fold")
    for d in rows:
        table.add_row(
            d.id, d.when, d.kind, d.channel, escape(d.conversation_id), str(d.attempts), escape(d.error[:200])
        )
    click.echo(render_table(table))


@dlq.command("show")
@click.argument("entry_id")
@pass_state
@friendly_errors
def dlq_show(state: CliState, entry_id: str) -> None:
    """Show one dead letter whole: the error, the message and the traceback."""
    import json

    services, letters = _open(state)
    try:
        letter = letters.get(entry_id)
    finally:
        services.close()
    if letter is None:
        raise click.ClickException(f"no dead letter with id {entry_id!r} (see `brandbot dlq list`)")
    click.echo(f"id:           {letter.id}")
    click.echo(f"when (UTC):   {letter.when}")
    click.echo(f"kind:         {letter.kind} ({letter.attempts} tries)")
    click.echo(f"conversation: {letter.conversation_id} on {letter.channel}")
    click.echo(f"error:        {letter.error}")
    click.echo("payload:")
    click.echo(json.dumps(letter.payload, ensure_ascii=False, indent=2))
    if letter.traceback:
        click.echo("traceback:")
        click.echo(letter.traceback.rstrip())


@dlq.command("retry")
@click.argument("entry_id", required=False)
@click.option("--all", "retry_all", is_flag=True, help="Retry every dead letter, oldest first.")
@pass_state
@friendly_errors
def dlq_retry(state: CliState, entry_id: str | None, retry_all: bool) -> None:
    """Retry one dead letter by ID, or --all: resend a reply, or requeue a failed turn."""
    if bool(entry_id) == retry_all:
        raise click.UsageError("give one dead-letter ID or --all (see `brandbot dlq list`)")
    from ..pipeline import Deliverer
    from ..pipeline.ingest import ingest_for
    from ..runtime import build_connectors_for

    services, letters = _open(state)
    try:
        settings = services.settings
        connectors = build_connectors_for(services)
        deliverer = Deliverer.from_settings(services.redis, services.engine, settings, connectors, letters)
        ingest = ingest_for(services)
        ids = [d.id for d in letters.list(100_000)] if retry_all else [entry_id]
        ok = failed = 0
        for i in ids:
            res = letters.retry(i, lambda ob: deliverer.deliver(ob, force=True), ingest.requeue)
            ok += res.ok
            failed += not res.ok
            click.echo(f"{i}: {'ok' if res.ok else 'failed'} ({res.detail})")
        console.print(f"retried {len(ids)}: {ok} ok, {failed} failed")
    finally:
        services.close()
    if failed:
        raise SystemExit(1)


COMMANDS = [dlq]
