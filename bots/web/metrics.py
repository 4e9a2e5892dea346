"""``/metrics``: Prometheus text format (prometheus-client).

Process metrics come from the default registry, or, when ``PROMETHEUS_MULTIPROC_DIR``
is set (several gunicorn workers / worker processes), from the per-process files
aggregated by ``MultiProcessCollector``. Queue depth, pending and lag are read
from Redis at scrape time (:class:`bots.pipeline.metrics.QueueCollector`).
"""

from __future__ import annotations

import os

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from ..pipeline import metrics as pipeline_metrics  # noqa: F401 - registers the pipeline's metrics
from ..pipeline.ingest import keys_for
from ..pipeline.metrics import QueueCollector
from ..services import Services

__all__ = ["register", "render"]

bp = Blueprint("metrics", __name__)


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def render(services: Services) -> bytes:
    """The exposition text: process metrics, then the queue gauges read from Redis."""
    queue = CollectorRegistry(auto_describe=False)
    queue.register(QueueCollector(services.redis, keys_for(services.settings)))
    return generate_latest(_process_registry()) + generate_latest(queue)


@bp.get("/metrics")
def metrics() -> Response:
    return Response(render(current_app.extensions["brandbot"]), mimetype=CONTENT_TYPE_LATEST)


def register(app: Flask, services: Services) -> None:
    app.register_blueprint(bp)
