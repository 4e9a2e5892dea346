"""``brandbot telegram set-webhook|delete-webhook|poll``: register the webhook, or poll locally."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from connectors.base import Inbound
from connectors.errors import MalformedRequest, SendError
from connectors.telegram import TelegramConnector

from ..errors import BrandbotError
from ..settings import Settings
from ..settings.checks import TELEGRAM_SECRET
from ._state import CliState, console, friendly_errors, pass_state

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # at run time the commands import bots.services when they run (see _run)
    from ..services import Services

__all__ = ["COMMANDS", "telegram_group", "poll_updates", "print_inbound", "webhook_url_for"]

WEBHOOK_PATH = "/webhooks/telegram"
OnInbound = Callable[[Inbound], None]


def _connector(settings: Settings, services: Services) -> TelegramConnector:
    from ..channel_registry import build_telegram

    if not settings.channels.telegram.token:
        raise BrandbotError(
            "channels.telegram.token is empty: export TELEGRAM_BOT_TOKEN (the token BotFather gave you)"
        )
    return build_telegram(settings, services.redis)


def _run(state: CliState, action: Callable[[Settings, TelegramConnector, Services], None]) -> None:
    from ..services import build_services

    settings = state.settings()
    services = build_services(settings)
    connector = _connector(settings, services)
    try:
        action(settings, connector, services)
    except SendError as exc:
        raise BrandbotError(f"Telegram refused: {exc}") from exc
    finally:
        connector.close()
        services.close()


def webhook_url_for(url: str) -> str:
    """``https://bot.example.com`` -> ``https://bot.example.com/webhooks/telegram``; a URL with a path is kept."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise BrandbotError(
            f"{url!r} is not a URL; give the public https URL of this server, e.g. https://bot.example.com"
        )
    return url.rstrip("/") + WEBHOOK_PATH if parts.path in ("", "/") else url


def print_inbound(inbound: Inbound) -> None:
    """The default of ``poll``: one JSON line per Inbound on stdout."""
    data = inbound.to_dict()
    data.pop("raw", None)
    click.echo(json.dumps(data, ensure_ascii=False))


def refuse_if_webhook(connector: TelegramConnector) -> None:
    """Raise BrandbotError when a webhook is set: Telegram then refuses getUpdates."""
    hook = connector.webhook_url()
    if hook:
        raise BrandbotError(
            f"a webhook is set for this bot ({hook}): Telegram sends updates there, polling would get none. "
            "Run `brandbot telegram delete-webhook` first, or use the webhook."
        )


def poll_updates(
    connector: TelegramConnector,
    on_inbound: OnInbound,
    timeout: int = 25,
    stop: threading.Event | None = None,
    max_rounds: int | None = None,
) -> int:
    """Long-poll getUpdates and hand every parsed Inbound to ``on_inbound``.

    Refuses when a webhook is set (Telegram does not allow both). An update is
    confirmed (offset moved past it) only after ``on_inbound`` returned; one the door
    refuses (a lone surrogate, oversize) is logged and skipped, so polling goes on.

    Args:
        connector: the Telegram connector.
        on_inbound: called with each Inbound (the runtime passes its enqueue).
        timeout: seconds one getUpdates call may wait for updates.
        stop: set it to end the loop after the current call.
        max_rounds: end after this many getUpdates calls (tests).

    Returns:
        The number of Inbounds handed over.

    Raises:
        BrandbotError: a webhook is set.
    """
    refuse_if_webhook(connector)
    offset: int | None = None
    handed = rounds = 0
    while not (stop is not None and stop.is_set()) and (max_rounds is None or rounds < max_rounds):
        rounds += 1
        for update in connector.get_updates(offset, timeout=timeout):
            try:
                inbounds = connector.parse_update(update)
            except MalformedRequest as exc:  # the webhook would answer 400: skip it, never stall on it
                log.warning("telegram poll: skipping update %s: %s", update.get("update_id"), exc)
                inbounds = []
            for inbound in inbounds:
                on_inbound(inbound)
                handed += 1
            offset = int(update["update_id"]) + 1
    if offset is not None:  # confirm the last batch so a restart does not get it again
        connector.get_updates(offset, timeout=0)
    return handed


@click.group("telegram")
def telegram_group() -> None:
    """Telegram: register the webhook, remove it, or poll for local development."""


@telegram_group.command("set-webhook")
@click.argument("url")
@click.option("--secret", default=None, help="Use this secret instead of generating one (A-Z, a-z, 0-9, _ and -).")
@click.option("--drop-pending", is_flag=True, help="Drop the updates Telegram holds for the bot.")
@pass_state
@friendly_errors
def set_webhook(state: CliState, url: str, secret: str | None, drop_pending: bool) -> None:
    """Register URL (…/webhooks/telegram) with a newly generated secret token, and print it.

    Telegram sends the secret with every update; brandbot refuses updates without it. A
    fresh one is generated each time (``--secret`` to choose it), so running this again
    rotates the secret: export the printed line wherever ``brandbot serve`` runs.
    """
    target = webhook_url_for(url)
    token = secret or secrets.token_urlsafe(32)
    if not TELEGRAM_SECRET.fullmatch(token):
        raise BrandbotError(f"--secret {token!r}: Telegram allows 1 to 256 characters A-Z, a-z, 0-9, _ and -")
    if not target.startswith("https://"):
        console.print(f"[yellow]warning:[/] {target} is not https; Telegram's servers only call https webhooks")

    def action(settings: Settings, connector: TelegramConnector, services: Services) -> None:
        connector.set_webhook(target, token, drop_pending_updates=drop_pending)

    _run(state, action)
    click.echo(f"Webhook set: {target}")
    click.echo("Telegram now sends this secret in X-Telegram-Bot-Api-Secret-Token. Give it to every brandbot process:")
    click.echo(f"  export TELEGRAM_WEBHOOK_SECRET={token}")
    click.echo(
        "(in the environment of `brandbot serve`: your shell, .env file, systemd unit or docker-compose "
        "`environment:`; config.yaml reads it as channels.telegram.webhook_secret. Then restart `brandbot serve`; "
        "updates with another or no secret are refused with 403)"
    )


@telegram_group.command("delete-webhook")
@click.option("--drop-pending", is_flag=True, help="Drop the updates Telegram holds for the bot.")
@pass_state
@friendly_errors
def delete_webhook(state: CliState, drop_pending: bool) -> None:
    """Remove the webhook (needed before `brandbot telegram poll`)."""
    _run(state, lambda s, c, _: c.delete_webhook(drop_pending_updates=drop_pending))
    click.echo("Webhook deleted: Telegram keeps updates until `brandbot telegram poll` fetches them.")


def default_on_inbound(settings: Settings, services: Services) -> OnInbound:
    """What ``poll`` does with each Inbound: print it and put it on the inbound queue."""
    from ..pipeline.ingest import ingest_for

    ingest = ingest_for(services)

    def enqueue(inbound: Inbound) -> None:
        print_inbound(inbound)
        ingest.accept([inbound])

    return enqueue


@telegram_group.command("poll")
@click.option(
    "--timeout", type=click.IntRange(0, 50), default=25, show_default=True, help="Seconds one long poll waits."
)
@click.option(
    "--rounds", type=click.IntRange(1), default=None, help="Stop after this many polls (default: until Ctrl-C)."
)
@click.option("--print-only", is_flag=True, help="Only print the updates; do not queue them nor answer.")
@click.option(
    "--workers",
    type=click.IntRange(0, 16),
    default=1,
    show_default=True,
    help="Queue workers run in this process to answer (0: rely on `brandbot serve` / `brandbot worker`).",
)
@pass_state
@friendly_errors
def poll(state: CliState, timeout: int, rounds: int | None, print_only: bool, workers: int) -> None:
    """Long polling for local development (no public URL needed); refuses when a webhook is set."""

    def action(settings: Settings, connector: TelegramConnector, services: Services) -> None:
        refuse_if_webhook(connector)
        handle = None
        on_inbound = print_inbound if print_only else default_on_inbound(settings, services)
        if not print_only and workers:
            from ..runtime import start_embedded

            handle = start_embedded(services, workers)
        console.print("polling Telegram for updates (Ctrl-C to stop)")
        try:
            n = poll_updates(connector, on_inbound, timeout=timeout, max_rounds=rounds)
        except KeyboardInterrupt:
            console.print("stopped")
            return
        finally:
            if handle is not None:
                handle.stop()
        console.print(f"{n} inbound message(s) handled")

    _run(state, action)


COMMANDS = [telegram_group]
