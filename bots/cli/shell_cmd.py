"""``brandbot shell``: talk to the bot in the terminal, or run a scripted conversation.

Interactive: type as a customer; a dim debug line shows what the NLU understood
and the dialogue state; buttons are listed as ``[1] Yes  [2] No`` and typing the
number presses one. ``/intent`` sends a button payload. ``:quit`` (or Ctrl-D) ends.

Scripted: ``brandbot shell --script FILE --json`` reads one customer line per
line (``#`` lines and blank lines are skipped) and prints one JSON object per
customer line on stdout::

    {"user", "language", "intent", "confidence", "entities", "sentiment",
     "replies", "buttons", "mode", "flow", "slots"}

The shell runs the same :class:`~bots.dialogue.runtime.ConversationRuntime` as
the workers, in this process, on the configured Redis (an embedded one if none).
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from connectors.base import Inbound
from connectors.input_text import BadInput, clean_text

from ..errors import BrandbotError
from ._state import friendly_errors, pass_state

#: the longest line the shell sends (the web chat's own cap is of the same order).
SHELL_MAX_CHARS = 4096

__all__ = ["COMMANDS", "shell", "turn_record"]


def turn_record(user: str, result: Any) -> dict[str, Any]:
    """The JSON object of one customer line (what ``--json`` prints)."""
    n = result.nlu
    st = result.state
    return {
        "user": user,
        "language": st.language if n is None else n.language,
        "intent": None if n is None else n.intent,
        "confidence": None if n is None else round(n.confidence, 4),
        "entities": [] if n is None else [{"type": e.type, "value": e.value, "text": e.text} for e in n.entities],
        "sentiment": None if n is None else n.sentiment.to_dict(),
        "replies": [o.text for o in result.outbounds],
        "buttons": [[q.title for q in o.quick_replies] for o in result.outbounds],
        "mode": st.mode,
        "flow": st.flow.name if st.flow else None,
        "slots": dict(st.flow.slots) if st.flow else {},
    }


def _debug_line(rec: dict[str, Any], conv_language: str | None) -> str:
    ents = ", ".join(f"{e['type']}={e['value']}" for e in rec["entities"]) or "-"
    senti = rec["sentiment"] or {"label": "-", "score": 0.0}
    slots = ", ".join(f"{k}={v}" for k, v in rec["slots"].items()) or "-"
    conf = "-" if rec["confidence"] is None else f"{rec['confidence']:.2f}"
    return (
        f"nlu: lang={rec['language']} intent={rec['intent']} ({conf}) entities: {ents} | "
        f"sentiment {senti['label']} {senti['score']:+.2f} | conversation: lang={conv_language} "
        f"mode={rec['mode']} flow={rec['flow'] or '-'} slots: {slots}"
    )


class _Session:
    def __init__(self, runtime: Any, conversation_id: str) -> None:
        self.runtime = runtime
        self.conversation_id = conversation_id
        self.counter = 0
        self.run_id = uuid.uuid4().hex[:8]
        self.last_buttons: list[tuple[str, str]] = []

    def send(self, line: str, allow_numbers: bool) -> tuple[str, Any]:
        """One customer line through the bot (checked at the door like a channel's text).

        Raises:
            BadInput: the line holds what no channel would accept (a lone surrogate, too long).
        """
        line = clean_text(line, field="the line", max_chars=SHELL_MAX_CHARS)
        self.counter += 1
        text, payload = line, None
        if allow_numbers and line.isdigit() and 1 <= int(line) <= len(self.last_buttons):
            text, payload = self.last_buttons[int(line) - 1]
        elif line.startswith("/") and " " not in line:
            payload = line
        inbound = Inbound(
            channel="shell",
            sender_id="shell-user",
            conversation_id=self.conversation_id,
            message_id=f"{self.run_id}-{self.counter}",
            text=text,
            payload=payload,
            kind="callback" if payload else "message",
        )
        result = self.runtime.handle(inbound)
        self.last_buttons = [(q.title, q.payload) for o in result.outbounds for q in o.quick_replies]
        return text, result


def _script_lines(path: str) -> list[str]:
    with sys.stdin if path == "-" else Path(path).open(encoding="utf-8") as src:
        return [ln.strip() for ln in src if ln.strip() and not ln.lstrip().startswith("#")]


@click.command("shell")
@click.option(
    "--script",
    "script",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="Run the customer lines of FILE ('-' for stdin) instead of reading the keyboard.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per customer line (for tests).")
@click.option(
    "--conversation",
    "conversation",
    default=None,
    help="Conversation id to use (default: a new one each run, shell:<random>).",
)
@click.option("--no-train", is_flag=True, help="Fail instead of training the NLU when it is missing or stale.")
@pass_state
@friendly_errors
def shell(state: Any, script: str | None, as_json: bool, conversation: str | None, no_train: bool) -> None:
    """Chat with the bot in the terminal (NLU debug line per message)."""
    from ..dialogue.runtime import build_runtime
    from ..services import build_services

    settings = state.settings()
    if as_json or script:
        logging.getLogger().setLevel(logging.WARNING)
    services = build_services(settings)
    try:
        runtime = build_runtime(services, train_if_needed=not no_train)
        session = _Session(runtime, conversation or f"shell:{uuid.uuid4().hex[:10]}")
        if script is not None:
            out = Console(soft_wrap=True, highlight=False)
            for number, line in enumerate(_script_lines(script), start=1):
                try:
                    text, result = session.send(line, allow_numbers=False)
                except BadInput as exc:
                    raise BrandbotError(f"{script}, message {number} of the script: {exc}") from exc
                rec = turn_record(text, result)
                if as_json:
                    click.echo(json.dumps(rec, ensure_ascii=False))
                else:
                    _show(out, rec, result)
            return
        _interactive(session, settings, as_json)
    finally:
        services.close()


def _show(out: Console, rec: dict[str, Any], result: Any, echo_user: bool = True, idle: str = "no reply: mode") -> None:
    """Print one turn: the customer's line (unless typed just above), the debug line, the
    bot's replies with buttons numbered across the turn, or ``(idle <mode>)`` when silent."""
    if echo_user:
        out.print(f"[bold cyan]you[/] {escape(rec['user'])}")
    out.print(f"[dim]{escape(_debug_line(rec, result.state.language))}[/]")
    n = 0
    for o in result.outbounds:
        out.print(f"[bold green]bot[/] {escape(o.text)}")
        if o.quick_replies:
            buttons = []
            for q in o.quick_replies:
                n += 1
                buttons.append(f"[reverse] {n} [/] {escape(q.title)}")
            out.print("    " + "   ".join(buttons))
    if not result.outbounds:
        out.print(f"[dim]({idle} {rec['mode']})[/]")


def _interactive(session: _Session, settings: Any, as_json: bool) -> None:
    out = Console(highlight=False)
    out.print(
        f"[bold]{escape(settings.brand.name)}[/] shell - conversation [cyan]{escape(session.conversation_id)}[/]. "
        "Type as a customer; a number presses a button; :quit to leave.\n"
        "[dim]Try: 'Bonjour, je voudrais changer de siège sur ma réservation X7K9QZ'[/]"
    )
    while True:
        try:
            line = out.input("[bold cyan]> [/]").strip()
        except (EOFError, KeyboardInterrupt):
            out.print()
            return
        except UnicodeDecodeError as exc:  # the terminal sent bytes that are not UTF-8
            out.print(f"[red]not sent: the line is not valid UTF-8 ({escape(exc.reason)} at byte {exc.start})[/]")
            continue
        if not line:
            continue
        if line in (":quit", ":q", ":exit"):
            return
        try:
            text, result = session.send(line, allow_numbers=True)
        except BadInput as exc:
            out.print(f"[red]not sent: {escape(str(exc))}[/]")
            continue
        rec = turn_record(text, result)
        if as_json:
            click.echo(json.dumps(rec, ensure_ascii=False))
            continue
        _show(out, rec, result, echo_user=False, idle="no reply: a person is handling this conversation, mode")


COMMANDS = [shell]
