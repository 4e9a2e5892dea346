"""How the parts are put together: services -> NLU, dialogue, connectors, workers.

This is the composition root. ``serve``, ``worker`` and ``shell`` call it; nothing
else builds these objects, so every process wires them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from connectors.base import Connector, Inbound

from .live_events import live_channel
from .services import Services

__all__ = ["Pipeline", "build_pipeline", "get_pipeline", "build_connectors_for", "start_embedded"]


@dataclass
class Pipeline:
    """What a worker needs: a turn handler and the connectors to send its replies."""

    services: Services
    #: Inbound -> the dialogue's TurnResult (its ``.outbounds`` are sent, its ``.events`` counted).
    handler: Callable[[Inbound], Any]
    connectors: dict[str, Connector]
    conversation: Any  # bots.dialogue.runtime.ConversationRuntime

    def close(self) -> None:
        for connector in self.connectors.values():
            close = getattr(connector, "close", None)
            if close is not None:
                close()


def build_connectors_for(services: Services) -> dict[str, Connector]:
    """The enabled channels' connectors, sharing the process's Redis client (cached)."""
    cached = services.extras.get("connectors")
    if cached is not None:
        return cached
    from .channel_registry import build_connectors

    connectors: dict[str, Connector] = dict(build_connectors(services.settings, services.redis))
    if services.settings.channels.webchat.enabled and "webchat" not in connectors:
        from connectors.webchat import WebchatConnector

        prefix = services.settings.stores.key_prefix
        connectors["webchat"] = WebchatConnector(services.redis, prefix, live_channel=live_channel(prefix))
    services.extras["connectors"] = connectors
    return connectors


def build_pipeline(services: Services, nlu: Any = None) -> Pipeline:
    """Compose the dialogue runtime (NLU loaded from the settings unless given) and connectors."""
    from .dialogue.runtime import build_runtime

    conversation = build_runtime(services, nlu=nlu)
    connectors = build_connectors_for(services)

    return Pipeline(services=services, handler=conversation.handle, connectors=connectors, conversation=conversation)


def get_pipeline(services: Services) -> Pipeline:
    """The process's pipeline, built on first use and kept in ``services.extras``."""
    pipeline = services.extras.get("pipeline")
    if pipeline is None:
        pipeline = services.extras["pipeline"] = build_pipeline(services)
    return pipeline


def start_embedded(services: Services, count: int):  # noqa: ANN201 - worker handle
    """Start ``count`` queue worker threads inside this process (the embedded default)."""
    from .pipeline.worker import start_embedded_workers

    pipeline = get_pipeline(services)
    return start_embedded_workers(services, pipeline.handler, pipeline.connectors, count, sweep=True)
