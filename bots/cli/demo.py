"""``brandbot demo reset``: put the example airline's bookings back as they were seeded.

The demo backend (:class:`bots.airline.backend.SQLiteAirline`) keeps seat changes and
cancellations in a SQLite file (``dialogue.actions_options.database``); trying the demo
twice would otherwise find seat 14C already given up. Reset deletes that file and seeds it
again. Conversations (Redis state, SQL transcripts) are left alone: they hold no booking
data, and deleting them is what "delete my data" and retention are for.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import BrandbotError
from ..settings import Settings
from ._state import CliState, console, friendly_errors, pass_state

__all__ = ["COMMANDS", "demo_database", "reset_demo_database"]

DEMO_ACTIONS = "bots.airline.actions"
DEFAULT_DATABASE = "var/airline.db"
#: SQLite's companions of a database file (rollback journal, write-ahead log).
_COMPANIONS = ("-journal", "-wal", "-shm")


def demo_database(settings: Settings) -> Path:
    """The demo airline's SQLite file, as the actions module resolves it.

    Raises:
        BrandbotError: the configured actions are not the demo airline's (nothing to reset).
    """
    if settings.dialogue.actions_module != DEMO_ACTIONS:
        raise BrandbotError(
            f"dialogue.actions_module is {settings.dialogue.actions_module!r}, not the demo's {DEMO_ACTIONS!r}: "
            "there is no demo database to reset"
        )
    return settings.path(str(settings.dialogue.actions_options.get("database", DEFAULT_DATABASE)))


def reset_demo_database(path: Path) -> None:
    """Delete the demo database (and its journal files), then seed a fresh one at ``path``."""
    from ..airline.backend import SQLiteAirline

    for suffix in ("", *_COMPANIONS):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    SQLiteAirline(path)


@click.group("demo")
def demo_group() -> None:
    """The example airline (Nimbus Air): put its demo data back."""


@demo_group.command("reset")
@pass_state
@friendly_errors
def reset(state: CliState) -> None:
    """Reseed the demo bookings and flights (seat changes and cancellations are undone)."""
    path = demo_database(state.settings())
    reset_demo_database(path)
    console.print(f"demo airline database reseeded: {path} (booking X7K9QZ is in seat 14C again)", highlight=False)


COMMANDS = [demo_group]
