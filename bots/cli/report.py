"""``brandbot report``: the insights of a period, as terminal tables, JSON, CSV files, HTML or PNG.

Every figure is an SQL aggregate (:mod:`bots.insights.summary`); the period before (same
length) is computed too, for the comparison. ``--weekly`` is the last whole Monday-to-Sunday week.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..errors import BrandbotError
from ..insights.filters import Filters
from ..insights.report_tables import ReportTable, fmt, report_tables
from ..insights.summary import Summary, summarize_with_previous
from ._state import CliState, console, friendly_errors, pass_state

__all__ = ["COMMANDS", "csv_safe", "write_csvs"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (customer texts end up in CSVs)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_csvs(tables: list[ReportTable], folder: Path) -> list[Path]:
    """One CSV per table (``<name>.csv``, UTF-8, header row), returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for t in tables:
        path = folder / f"{t.name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(t.columns)
            for row in t.rows:
                w.writerow([v if isinstance(v, int | float) else csv_safe(fmt(v)) for v in row])
        written.append(path)
    return written


def _rich(t: ReportTable) -> Table:
    table = Table(title=t.title, title_justify="left", min_width=min(len(t.title) + 4, 120))
    for i, col in enumerate(t.columns):
        numeric = any(isinstance(r[i], int | float) for r in t.rows)
        table.add_column(col, justify="right" if numeric else "left", overflow="fold")
    for row in t.rows:
        table.add_row(*(fmt(v) for v in row))
    return table


def _filters(
    start: str | None,
    end: str | None,
    weekly: bool,
    channel: str | None,
    language: str | None,
    intent: str | None,
    flow: str | None,
    agent: int | None,
) -> Filters:
    if weekly:
        if start or end:
            raise click.UsageError("--weekly is the last whole week: give it without --from / --to")
        week = Filters.last_full_week()
        start, end = week.start.isoformat(), week.end.isoformat()
    query = {"from": start, "to": end, "channel": channel, "language": language, "intent": intent, "flow": flow}
    query["agent"] = None if agent is None else str(agent)
    try:
        return Filters.from_query({k: v for k, v in query.items() if v is not None})
    except ValueError as exc:
        name = str(exc).split(":", 1)[0]
        raise click.BadParameter(str(exc).split(":", 1)[-1].strip(), param_hint=f"--{name}") from exc


def _summaries(state: CliState, f: Filters) -> tuple[Summary, Summary]:
    from ..stores.sql import check_sql, current_revision, head_revision, make_engine

    engine = make_engine(state.settings().database_url)
    try:
        check_sql(engine)
        applied, latest = current_revision(engine), head_revision()
        if applied != latest:
            raise BrandbotError(
                f"the database schema is at {applied or 'nothing'}, this version needs {latest}: "
                "run `brandbot db upgrade` first"
            )
        return summarize_with_previous(engine, f)
    finally:
        engine.dispose()


@click.command("report")
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day (UTC; default: the 30 days ending --to).")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day, included (default: today).")
@click.option(
    "--channel", help="Only this channel (telegram, whatsapp, sms, webchat, messenger, instagram, whatsapp_cloud)."
)
@click.option("--language", help="Only this language (en, fr...).")
@click.option("--intent", help="Only messages of this intent (message figures).")
@click.option("--flow", help="Only messages of this flow (message figures).")
@click.option("--agent", type=click.IntRange(min=1), help="Only conversations assigned to this staff id.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON, with the previous period.")
@click.option(
    "--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path), help="Write one CSV per table here."
)
@click.option(
    "--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), help="Write a one-page HTML report."
)
@click.option(
    "--png", "png_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the main charts as PNG."
)
@click.option("--weekly", is_flag=True, help="The last whole Monday-Sunday week, compared with the week before.")
@pass_state
@friendly_errors
def report(
    state: CliState,
    start: str | None,
    end: str | None,
    channel: str | None,
    language: str | None,
    intent: str | None,
    flow: str | None,
    agent: int | None,
    as_json: bool,
    csv_dir: Path | None,
    html_file: Path | None,
    png_file: Path | None,
    weekly: bool,
) -> None:
    """Brand insights of a period: conversations, sentiment, CSAT/NPS, handoffs, drivers, links.

    Sentiment, drivers and examples come only from customers who opted in to feedback analytics
    (texts redacted); the period before, of the same length, is shown for comparison.
    """
    f = _filters(start, end, weekly, channel, language, intent, flow, agent)
    now, before = _summaries(state, f)
    change = now.compare(before)
    if as_json:
        out = now.to_json()
        out.update(change)
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    tables = report_tables(now, change)
    if csv_dir is not None:
        files = write_csvs(tables, csv_dir)
        console.print(f"wrote {len(files)} CSV files to {csv_dir}", highlight=False)
    if html_file is not None:
        from ..insights.html_report import render_html

        html_file.parent.mkdir(parents=True, exist_ok=True)
        html_file.write_text(render_html(now, change), encoding="utf-8")
        console.print(f"wrote {html_file}", highlight=False)
    if png_file is not None:
        from ..insights.png_report import render_png

        png_file.parent.mkdir(parents=True, exist_ok=True)
        png_file.write_bytes(render_png(now))
        console.print(f"wrote {png_file}", highlight=False)
    if not (as_json or csv_dir or html_file or png_file):
        out_console = Console(file=sys.stdout, width=120, highlight=False)
        out_console.print(f"brandbot report {f.start.isoformat()} to {f.end.isoformat()}", style="bold")
        for t in tables:
            out_console.print(_rich(t))


COMMANDS = [report]
