"""The shipped config.yaml running as `make run` runs it, for end-to-end tests: channels switched
on by environment (pointed at the fake APIs), the trained demo NLU, embedded workers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bots.runtime import start_embedded
from bots.services import Services, build_services
from bots.settings import load_settings
from bots.stores.sql import upgrade
from bots.web.app import create_app

__all__ = ["deployment"]

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def deployment(
    env: Mapping[str, str],
    redis_url: str,
    nlu_dir: Path,
    data: Path,
    overrides: Mapping[str, Any] | None = None,
    workers: int = 2,
) -> Iterator[tuple[Any, Services]]:
    """A web test client and the services of the shipped config with ``env`` set, SQLite in
    ``data``, ``workers`` embedded queue workers; everything stopped afterwards."""
    settings = load_settings(
        REPO / "config.yaml",
        env={"REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{data / 'brandbot.db'}", **env},
        overrides={
            "nlu.model_dir": str(nlu_dir),
            "dialogue.actions_options.database": str(data / "airline.db"),
            **(overrides or {}),
        },
    )
    services = build_services(settings)
    upgrade(services.engine)
    app = create_app(settings, services)
    running = start_embedded(services, workers)
    try:
        yield app.test_client(), services
    finally:
        running.stop(timeout=10)
        if services.pipeline is not None:
            services.pipeline.close()
        services.close()
