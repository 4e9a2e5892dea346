"""The ``brandbot`` command line: one group, one small module per command family."""

from __future__ import annotations

import click

from .. import __version__
from ._state import CliState

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120, "terminal_width": 120})
@click.version_option(__version__, "--version", prog_name="brandbot")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="BRANDBOT_CONFIG",
    help="Config file (default: $BRANDBOT_CONFIG or ./config.yaml).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """brandbot: a brand's one-to-one service bot on Telegram, WhatsApp, SMS and web chat."""
    ctx.obj = CliState(config_path)


def _register() -> None:
    from . import db, dlq, doctor, nlu_cmd, serve, shell_cmd, staff, telegram_cmd, worker

    for module in (serve, worker, doctor, db, nlu_cmd, shell_cmd, telegram_cmd, dlq, staff):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
