"""How the parts are put together: services -> NLU, dialogue, connectors, workers.

This is the composition root. ``serve``, ``worker`` and ``shell`` call it; nothing
else builds these objects, so every process wires them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectors.base import Closable, Connector

from .live_events import live_channel
from .pipeline.turn import Apology, Handler
from .services import Services

if TYPE_CHECKING:
    from .dialogue.runtime import ConversationRuntime, NLUParser
    from .pipeline.worker import EmbeddedWorkers

__all__ = ["Pipeline", "build_pipeline", "get_pipeline", "build_connectors_for", "close_connectors", "start_embedded"]


@dataclass
class Pipeline:
    """What a worker needs: a turn handler and the connectors to send its replies."""

    services: Services
    #: Inbound -> the dialogue's TurnResult (its ``.outbounds`` are sent, its ``.events`` counted).
    handler: Handler
    connectors: dict[str, Connector]
    conversation: ConversationRuntime
    #: what a customer whose message is dead-lettered is told (the domain's ``turn_failed``).
    apology: Apology | None = None

    def close(self) -> None:
        close_connectors(self.connectors)


def close_connectors(connectors: Mapping[str, Connector]) -> None:
    """Release what the connectors hold (the Telegram connector's event loop, HTTP sessions)."""
    for connector in connectors.values():
        if isinstance(connector, Closable):
            connector.close()


def build_connectors_for(services: Services) -> dict[str, Connector]:
    """The enabled channels' connectors, sharing the process's Redis client (cached)."""
    if services.connectors is not None:
        return services.connectors
    from .channel_registry import build_connectors

    connectors: dict[str, Connector] = dict(build_connectors(services.settings, services.redis))
    if services.settings.channels.webchat.enabled and "webchat" not in connectors:
        from connectors.webchat import WebchatConnector

        prefix = services.settings.stores.key_prefix
        connectors["webchat"] = WebchatConnector(services.redis, prefix, live_channel=live_channel(prefix))
    services.connectors = connectors
    return connectors


def build_pipeline(services: Services, nlu: NLUParser | None = None) -> Pipeline:
    """Compose the dialogue runtime (NLU loaded from the settings unless given) and connectors."""
    from .dialogue.apology import TurnFailedApology
    from .dialogue.runtime import build_runtime

    # an erasure the customer confirms runs after its confirmation is delivered (TurnResult.after_delivery)
    conversation = build_runtime(services, nlu=nlu, defer_erasure=True)
    connectors = build_connectors_for(services)
    apology = TurnFailedApology(services.settings.brand.default_language, conversation.domain, conversation.store)
    return Pipeline(
        services=services,
        handler=conversation.handle,
        connectors=connectors,
        conversation=conversation,
        apology=apology,
    )


def get_pipeline(services: Services) -> Pipeline:
    """The process's pipeline, built on first use and kept in ``services.pipeline``."""
    if services.pipeline is None:
        services.pipeline = build_pipeline(services)
    return services.pipeline


def start_embedded(services: Services, count: int) -> EmbeddedWorkers:
    """Start ``count`` queue worker threads inside this process (the embedded default)."""
    from .pipeline.worker import start_embedded_workers

    pipeline = get_pipeline(services)
    return start_embedded_workers(
        services, pipeline.handler, pipeline.connectors, count, sweep=True, apology=pipeline.apology
    )
