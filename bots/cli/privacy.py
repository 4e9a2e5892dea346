"""``brandbot forget``, ``brandbot export`` and ``brandbot retention run``: the privacy duties.

``--channel`` takes the channel names the project uses (telegram, whatsapp, sms, webchat, messenger, instagram,
whatsapp_cloud);
``--id`` the customer's id on it (SMS and WhatsApp: a phone number, normalised to E.164).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table

from ..settings import Settings
from ..settings.privacy import PrivacySettings
from ._state import CliState, console, friendly_errors, live_services, pass_state, render_table

if TYPE_CHECKING:
    from ..privacy import Customer

__all__ = ["COMMANDS"]


def privacy_settings(settings: Settings) -> PrivacySettings:
    """The ``privacy:`` section (its production checks ran when the settings were loaded)."""
    return settings.privacy


def _customer(channel: str, raw_id: str) -> Customer:
    from ..privacy import PrivacyError, customer

    try:
        return customer(channel, raw_id)
    except PrivacyError as exc:
        raise click.BadParameter(str(exc), param_hint="--channel/--id") from exc


def _counts_table(title: str, counts: dict[str, int], what: str = "removed") -> Table:
    table = Table(title=title)
    table.add_column("where")
    table.add_column(what, justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    table.add_row("total", str(sum(counts.values())))
    return table


channel_option = click.option("--channel", required=True, metavar="CHANNEL", help="telegram, whatsapp, sms or webchat.")
id_option = click.option(
    "--id",
    "customer_id",
    required=True,
    metavar="ID",
    help="The customer's id on the channel (E.164 for SMS/WhatsApp).",
)


@click.command("forget")
@channel_option
@id_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
@friendly_errors
def forget(state: CliState, channel: str, customer_id: str, yes: bool) -> None:
    """Erase every trace of a customer from Redis and SQL (a minimal erasure record stays)."""
    from ..pipeline import keys_for
    from ..privacy import Pseudonyms
    from ..privacy.erasure import erase

    who = _customer(channel, customer_id)
    if not yes:
        click.confirm(
            f"Erase everything about {who.channel} customer {who.id} (conversation {who.conversation_id})? "
            "This cannot be undone",
            abort=True,
        )
    with live_services(state) as (settings, services):
        privacy = privacy_settings(settings)
        report = erase(
            who,
            engine=services.engine,
            client=services.redis,
            keys=keys_for(settings),
            pseudonyms=Pseudonyms(privacy.analytics_secret),
            actor="cli",
            lock_wait=settings.dialogue.lock_wait_seconds,
        )
    click.echo(
        render_table(
            _counts_table(f"erased {who.channel} customer (erasure record {report.erasure_id})", report.removed),
            width=120,
        )
    )


@click.command("export")
@channel_option
@id_option
@click.option("--json", "as_json", is_flag=True, help="Print the whole JSON document (else a summary).")
@pass_state
@friendly_errors
def export_cmd(state: CliState, channel: str, customer_id: str, as_json: bool) -> None:
    """Print everything stored about a customer (a subject-access request)."""
    from ..pipeline import keys_for
    from ..privacy import Pseudonyms
    from ..privacy.export import export, to_json

    who = _customer(channel, customer_id)
    with live_services(state) as (settings, services):
        document = export(
            who,
            engine=services.engine,
            client=services.redis,
            keys=keys_for(settings),
            pseudonyms=Pseudonyms(privacy_settings(settings).analytics_secret),
        )
    if as_json:
        click.echo(to_json(document))
        return
    counts = {
        "conversations": len(document["profile"]["conversations"]),
        "consent history": len(document["consents"]["history"]),
        "signals": len(document["signals"]),
        **{k: len(v) for k, v in document.items() if k in ("messages", "deliveries", "delivery_parts", "notes")},
        "redis keys": len(document["redis"]),
    }
    click.echo(
        render_table(_counts_table(f"stored about {who.channel} customer {who.id}", counts, "records"), width=120)
    )
    click.echo("add --json for the whole document")


@click.group("retention")
def retention() -> None:
    """Purge transcripts, deliveries and signals past their retention period (privacy.retention)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
@pass_state
@friendly_errors
def retention_run(state: CliState, dry_run: bool) -> None:
    """Remove what is older than its period; prints a table of what was removed. Safe from cron."""
    from ..privacy.retention import run_retention

    with live_services(state) as (settings, services):
        periods = privacy_settings(settings).retention
        now = datetime.now(UTC)
        engine = services.engine
        if dry_run:
            report = run_retention(engine, periods, now=now, dry_run=True)
        else:
            with Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} rows"), console=console
            ) as bar:
                tasks: dict[str, TaskID] = {}

                def progress(table: str, rows: int) -> None:
                    if table not in tasks:
                        tasks[table] = bar.add_task(f"purging {table}", total=None)
                    bar.advance(tasks[table], rows)

                report = run_retention(engine, periods, now=now, progress=progress)
    title = "retention dry run: would remove" if dry_run else "retention: removed"
    click.echo(render_table(_counts_table(title, report.removed, "would remove" if dry_run else "removed"), width=120))
    for kind, cutoff in report.cutoffs.items():
        click.echo(
            f"{kind}: {'kept for ever' if cutoff is None else 'older than ' + cutoff.isoformat(timespec='seconds')}"
        )


COMMANDS = [forget, export_cmd, retention]
