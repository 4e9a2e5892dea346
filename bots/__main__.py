"""``python -m bots`` is the ``brandbot`` command."""

from .cli import main

main(prog_name="brandbot")
