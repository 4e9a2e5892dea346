"""The one place a :class:`~bots.notifications.service.Notifier` is composed from a process's services.

``/api/v1/notifications`` (:mod:`bots.web.app`) and ``brandbot notify`` (:mod:`bots.cli.notify`)
both call :func:`build_notifier`, so they route with the same connectors and enqueue through the
same ``Ingest``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..services import Services
    from .service import Notifier

__all__ = ["build_notifier"]


def build_notifier(services: Services) -> Notifier:
    """The notifications' service, on the process's queue, connectors and SQL.

    Args:
        services: the process's Redis, SQL and settings; its connectors and ``Ingest`` are built
            on first use and shared (``services.connectors``, ``services.ingest``).
    """
    from ..pipeline.ingest import ingest_for
    from ..privacy import ConsentBook
    from ..runtime import build_connectors_for
    from .links import CustomerLinks
    from .service import Notifier
    from .store import Notifications

    return Notifier(
        services.settings,
        ingest_for(services),
        build_connectors_for(services),
        Notifications(services.engine),
        CustomerLinks(services.engine),
        ConsentBook(services.engine),
    )
