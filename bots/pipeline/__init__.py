"""The delivery pipeline: webhook -> dedupe -> sharded inbound streams -> workers -> idempotent sends.

Public API:

- :class:`Ingest` ``(redis, settings).accept(inbounds) -> int``
- :class:`Worker` ``(redis, engine, settings, handler, connectors).run()`` / ``.stop()``
- :func:`start_embedded_workers` ``(services, handler, connectors, count) -> handle`` (``handle.stop()``)
- :class:`DeadLetters` (list / retry), :class:`Deliverer`, :class:`RetryPolicy`, :class:`Keys`
"""

from .deliverer import Deliverer
from .dlq import DeadLetter, DeadLetters
from .handlers import TurnRunner
from .ingest import Ingest, QueueFull, keys_for
from .keys import GROUP, Keys
from .retry import RetryPolicy
from .worker import EmbeddedWorkers, Worker, start_embedded_workers

__all__ = [
    "Ingest",
    "QueueFull",
    "Worker",
    "EmbeddedWorkers",
    "start_embedded_workers",
    "DeadLetters",
    "DeadLetter",
    "Deliverer",
    "TurnRunner",
    "RetryPolicy",
    "Keys",
    "GROUP",
    "keys_for",
]
