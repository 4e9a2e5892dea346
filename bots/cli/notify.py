"""``brandbot notify``: send one notification, or a CSV of them at a steady pace, and follow them.

One::

    brandbot notify --kind flight_update --booking X7K9QZ --var flight=NB1234 --var status="delayed to 18:40"

Many (one row per notification; rerunning the same ``--batch`` never sends a row twice)::

    brandbot notify --kind flight_update --csv delays.csv --batch delays-0412 --wait 600

Both build :class:`~bots.notifications.service.NotifyRequest` s (scope ``cli``) and call the same
``Notifier.notify`` as ``POST /api/v1/notifications``: the channel is chosen, the row written and the
message queued for a worker, which sends it like any reply. A bulk row's idempotency key is
``<batch>:<row>``: a run stopped halfway (Redis or SQL down) resumes by running it again.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from ..notifications.bulk import MAX_BATCH, BulkReport, new_batch_name, read_csv, run_bulk
from ..notifications.service import InvalidNotification, NotifyRequest
from ..notifications.store import STATES
from ._state import CliState, console, friendly_errors, live_services, pass_state, render_table

if TYPE_CHECKING:
    from ..notifications.store import NotificationView

__all__ = ["COMMANDS"]

_FIELD_OPTIONS = {
    "kind": "--kind",
    "booking": "--booking",
    "customer": "--customer",
    "recipient": "--booking / --customer / --channel + --id",
    "language": "--language",
    "channel": "--prefer-channel",
}


# -- running a batch -------------------------------------------------------------------------------
class _RateColumn(ProgressColumn):
    """Items per second (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-/s" if speed is None else f"{speed:,.0f}/s")


@contextmanager
def _bars(to: Console | None) -> Iterator[Progress]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=to or console, disable=to is None) as bars:
        yield bars


# -- output ----------------------------------------------------------------------------------------
def _summary_tables(report: BulkReport) -> list[Table]:
    title = f"batch {report.batch} ({report.kind})"
    states = Table(title=title, title_justify="left", min_width=len(title) + 4)
    states.add_column("state")
    states.add_column("notifications", justify="right")
    for state in STATES:
        states.add_row(state, f"{report.counts.get(state, 0):,}")
    states.add_row("invalid rows", f"{len(report.invalid):,}")
    states.add_row("rows", f"{report.rows:,}")
    tables = [states]
    if report.reasons:
        reasons = Table(title="most common refusal / failure reasons", title_justify="left")
        reasons.add_column("reason", overflow="fold")
        reasons.add_column("notifications", justify="right")
        for reason, count in report.reasons:
            reasons.add_row(escape(reason), f"{count:,}")
        tables.append(reasons)
    if report.invalid:
        invalid = Table(title=f"invalid rows ({len(report.invalid)}; rows counted from 1 after the header)")
        invalid.add_column("row", justify="right")
        invalid.add_column("reason", overflow="fold")
        for number, why in report.invalid[:20]:
            invalid.add_row(str(number), escape(why))
        if len(report.invalid) > 20:
            invalid.add_row("…", f"and {len(report.invalid) - 20} more (--json lists them all)")
        tables.append(invalid)
    return tables


def _view_table(view: NotificationView) -> Table:
    table = Table(title=f"notification {view.id}", title_justify="left", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for name, value in view.to_json().items():
        if value is not None and name != "id":
            table.add_row(name, escape(str(value)))
    return table


def _option_for(field_name: str) -> str:
    if field_name.startswith("variables."):
        return "--var " + field_name.split(".", 1)[1]
    return _FIELD_OPTIONS.get(field_name, field_name)


def _invalid(exc: InvalidNotification) -> None:
    console.print(f"[bold red]error:[/] {escape(_option_for(exc.field))}: {escape(exc.reason)}", highlight=False)
    sys.exit(2)


def _parse_vars(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE (e.g. --var flight=NB1234)", param_hint="--var")
        out[name.strip()] = value
    return out


def _check_batch(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not (0 < len(value) <= MAX_BATCH and value.isprintable()):
        raise click.BadParameter(f"1 to {MAX_BATCH} printable characters", param_hint="--batch")
    return value


@click.command("notify")
@click.option("--kind", required=True, help="The notification kind (notifications.kinds in the config).")
@click.option("--booking", help="The customer who confirmed this booking reference in a chat.")
@click.option("--customer", "customer_ref", help="The customer who confirmed this customer reference in a chat.")
@click.option("--channel", help="With --id: an explicit recipient (sms, whatsapp, telegram...).")
@click.option("--id", "recipient_id", metavar="ID", help="With --channel: the customer's id on it (E.164 for SMS).")
@click.option("--prefer-channel", help="The channel to try first (else the customer's most recent one).")
@click.option("--language", help="The language to write in (else the conversation's, else the brand's default).")
@click.option("--var", "variables", multiple=True, callback=_parse_vars, metavar="NAME=VALUE", help="A variable.")
@click.option("--idempotency-key", help="The same key again gives the first answer back and sends nothing twice.")
@click.option(
    "--csv", "csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Bulk: one row each."
)
@click.option("--batch", callback=_check_batch, help="Bulk: the run's name (the same name again resumes it).")
@click.option("--wait", type=click.FloatRange(min=0), help="Bulk: follow the sends for up to this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@pass_state
@friendly_errors
def notify(
    state: CliState,
    kind: str,
    booking: str | None,
    customer_ref: str | None,
    channel: str | None,
    recipient_id: str | None,
    prefer_channel: str | None,
    language: str | None,
    variables: dict[str, str],
    idempotency_key: str | None,
    csv_file: Path | None,
    batch: str | None,
    wait: float | None,
    as_json: bool,
) -> None:
    """Send a notification of KIND to one customer, or one per row of a CSV (--csv).

    One: exit 0 when queued, 1 when refused (the reason printed), 2 when the request is invalid.
    Bulk: CSV columns booking | customer | channel + id, optional language and prefer_channel, the
    kind's variables; paced at notifications.bulk_per_second. Exit 0 when every valid row was queued
    or refused (with --wait: and sent, failed or refused by the end), else 1.
    """
    if (channel is None) != (recipient_id is None):
        raise click.UsageError("--channel and --id go together (an explicit recipient)")
    if csv_file is not None:
        single = {
            "--booking": booking,
            "--customer": customer_ref,
            "--channel/--id": channel,
            "--prefer-channel": prefer_channel,
            "--language": language,
            "--var": variables or None,
            "--idempotency-key": idempotency_key,
        }
        clash = [name for name, value in single.items() if value is not None]
        if clash:
            raise click.UsageError(f"{', '.join(clash)}: give it in the CSV's columns with --csv")
        _bulk(state, kind, csv_file, batch or new_batch_name(), wait, as_json)
        return
    if batch is not None or wait is not None:
        raise click.UsageError("--batch and --wait are for a bulk run (--csv)")
    request = NotifyRequest(
        kind=kind,
        variables=variables,
        booking=booking,
        customer=customer_ref,
        recipient=(channel, recipient_id) if channel is not None and recipient_id is not None else None,
        channel=prefer_channel,
        language=language,
        scope="cli",
        idempotency_key=idempotency_key,
    )
    from ..notifications.build import build_notifier

    with live_services(state) as (_settings, services):
        try:
            view = build_notifier(services).notify(request)
        except InvalidNotification as exc:
            _invalid(exc)
    click.echo(json.dumps(view.to_json(), indent=2) if as_json else render_table(_view_table(view)))
    if view.state == "refused":
        console.print(f"[bold]refused:[/] {escape(view.reason or 'no reason given')}", highlight=False)
        sys.exit(1)


def _bulk(state: CliState, kind: str, csv_file: Path, batch: str, wait: float | None, as_json: bool) -> None:
    from ..notifications.build import build_notifier

    rows = read_csv(csv_file, kind, batch)
    console.print(f"batch [bold]{escape(batch)}[/]: {len(rows):,} rows of {escape(kind)}", highlight=False)
    with live_services(state) as (settings, services):
        notifier = build_notifier(services)
        if kind not in settings.notifications.kinds:
            _invalid(
                InvalidNotification(
                    "kind", f"unknown kind {kind!r}; configured: {sorted(settings.notifications.kinds)}"
                )
            )
        with _bars(console) as bars:
            report = run_bulk(
                notifier,
                rows,
                kind=kind,
                batch=batch,
                per_second=settings.notifications.bulk_per_second,
                wait=wait,
                bars=bars,
            )
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(render_table(t) for t in _summary_tables(report)))
        summary = report.to_json()
        click.echo(
            f"queued {summary['enqueued_per_second']:,} rows/s ({summary['enqueue_seconds']:,} s); "
            f"accounted for {report.accounted:,} at {summary['accounted_per_second']:,}/s "
            f"({summary['accounted_seconds']:,} s from the first row)"
        )
    if report.stopped_at is not None:
        console.print(
            f"[bold red]stopped at row {report.stopped_at}:[/] {escape(report.stop_error or '')}\n"
            f"Run the same command again with --batch {batch} once the store is back: rows already "
            f"taken are recognised by their idempotency keys ({batch}:<row>) and not sent twice.",
            highlight=False,
        )
    elif report.waited and report.pending:
        console.print(f"{report.pending} notification(s) still queued after {wait:g} s", highlight=False)
    sys.exit(0 if report.complete else 1)


COMMANDS = [notify]
