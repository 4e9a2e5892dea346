"""The ``brandbot`` command line: one group, one small module per command family."""

from __future__ import annotations

from collections.abc import Iterator

import click

from .. import __version__
from ._state import CliState

__all__ = ["main"]

CONFIG_HELP = "Config file (default: $BRANDBOT_CONFIG or ./config.yaml)."


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120, "terminal_width": 120})
@click.version_option(__version__, "--version", prog_name="brandbot")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="BRANDBOT_CONFIG",
    help=CONFIG_HELP,
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """brandbot: a brand's one-to-one service bot on Telegram, WhatsApp, SMS and web chat."""
    ctx.obj = CliState(config_path)


def _late_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """``--config`` given after the subcommand: it wins over one given before it."""
    state = ctx.find_object(CliState)
    if value is not None and state is not None:
        state.use_config(value)


def _config_option() -> click.Option:
    """The global ``--config``, accepted again by every subcommand (``brandbot doctor --config F``)."""
    return click.Option(
        ["--config"],
        type=click.Path(dir_okay=False),
        default=None,
        expose_value=False,
        callback=_late_config,
        help=CONFIG_HELP,
    )


def _walk(command: click.Command) -> Iterator[click.Command]:
    yield command
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _walk(sub)


def _register() -> None:
    from . import (
        apikey,
        db,
        demo,
        dlq,
        doctor,
        nlu_cmd,
        notify,
        privacy,
        report,
        serve,
        shell_cmd,
        staff,
        telegram_cmd,
        worker,
    )

    for module in (
        serve,
        worker,
        doctor,
        db,
        nlu_cmd,
        shell_cmd,
        telegram_cmd,
        dlq,
        staff,
        apikey,
        demo,
        privacy,
        report,
        notify,
    ):
        for command in module.COMMANDS:
            main.add_command(command)
            for each in _walk(command):
                each.params.append(_config_option())


_register()
