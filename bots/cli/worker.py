"""``brandbot worker``: process the inbound queue (as many processes and machines as needed)."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

import click

from ..logging_setup import configure_logging
from ._state import CliState, console, friendly_errors, pass_state

log = logging.getLogger(__name__)

DEFAULT_PIPELINE = "bots.runtime:build_pipeline"


def load_factory(spec: str) -> Callable[[Any], Any]:
    """``"package.module:function"`` -> the function (raises click.BadParameter naming what is wrong)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise click.BadParameter(f"{spec!r} is not MODULE:FUNCTION (e.g. {DEFAULT_PIPELINE})", param_hint="--pipeline")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot load {spec!r}: {exc}", param_hint="--pipeline") from exc


@click.command("worker")
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Worker threads in this process (each reads its own share of the queue's shards).",
)
@click.option(
    "--pipeline",
    "pipeline_spec",
    default=DEFAULT_PIPELINE,
    show_default=True,
    help="MODULE:FUNCTION(services) returning an object with .handler and .connectors.",
)
@click.option("--migrate/--no-migrate", default=False, show_default=True, help="Apply schema migrations first.")
@pass_state
@friendly_errors
def worker(state: CliState, concurrency: int, pipeline_spec: str, migrate: bool) -> None:
    """Handle inbound messages from the queue and send the replies.

    Messages of one conversation are handled in order, one at a time, across all
    workers. SIGTERM or Ctrl-C finishes the turn in progress, acknowledges it and exits.
    """
    from ..pipeline.worker import EmbeddedWorkers, Worker, attach_sweeper, consumer_name
    from ..runtime import Pipeline, close_connectors
    from ..services import build_services
    from ..stores.redis_client import ping
    from ..stores.sql import check_sql, upgrade

    settings = state.settings()
    configure_logging(settings.server.environment, settings.server.log_level)
    if not settings.stores.redis_url:
        console.print(
            "[yellow]note:[/] stores.redis_url is empty, so this worker uses the embedded Redis under "
            f"{settings.path(settings.stores.embedded_redis_dir)} (started if none runs; shared with `brandbot serve` "
            "and other workers on this machine only; this worker never stops it, `brandbot serve` does on exit)."
        )
    services = build_services(settings)
    try:
        ping(services.redis)
        if migrate:
            upgrade(services.engine)
        check_sql(services.engine)
        pipeline = load_factory(pipeline_spec)(services)
        # the dialogue's pipeline apologises in the brand's words; a custom one gets the built-in text
        apology = pipeline.apology if isinstance(pipeline, Pipeline) else None
        workers = [
            Worker(
                services.redis,
                services.engine,
                settings,
                pipeline.handler,
                pipeline.connectors,
                name=consumer_name(f"w{i}"),
                apology=apology,
            )
            for i in range(concurrency)
        ]
        if isinstance(pipeline, Pipeline):  # the dialogue's pipeline (not a custom --pipeline)
            for w in workers:  # each may sweep long waits: a Redis lock lets one process do it at a time
                attach_sweeper(w, settings, services.redis, services.engine)
        handle = EmbeddedWorkers(workers)
        stopping = threading.Event()

        def on_signal(signum: int, _frame: Any) -> None:
            if not stopping.is_set():
                log.info("signal %s: finishing the current turns, then exiting", signal.Signals(signum).name)
                stopping.set()
                for w in workers:
                    w.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        handle.start()
        console.print(
            f"[bold]brandbot worker[/]: {concurrency} thread(s) on {settings.pipeline.shards} shards; Ctrl-C to stop"
        )
        while handle.alive:
            for t in handle.threads:
                t.join(0.2)
        close_connectors(pipeline.connectors)
    finally:
        services.close()


COMMANDS = [worker]
