"""Building a :class:`~bots.dialogue.runtime.ConversationRuntime` from the settings and services.

:func:`build_runtime` composes the NLU, the brand's actions, the domain and the privacy step
(consent, feedback signals, erasure: :func:`build_privacy_step`); :func:`load_nlu` loads (or
first trains) the NLU named by the settings. Re-exported by :mod:`bots.dialogue.runtime`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis
from sqlalchemy import Engine

from ..errors import ModelNotTrained
from ..handoff.presence import Presence
from ..settings import Settings
from ..settings.dialogue import DomainSpec
from ..settings.feedback import FeedbackSettings
from ..settings.privacy import PrivacySettings
from .actions import load_actions
from .domain import load_domain
from .feedback import FeedbackPolicy
from .phrases import load_privacy_file
from .privacy_step import PrivacyStep

if TYPE_CHECKING:
    from ..notifications.turn import NotificationTurns
    from ..privacy.customer import Customer
    from .runtime import ConversationRuntime, NLUParser

__all__ = ["build_runtime", "build_privacy_step", "feedback_policy", "load_nlu"]

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def feedback_policy(
    settings: Settings, domain: DomainSpec, privacy: PrivacySettings, feedback: FeedbackSettings
) -> FeedbackPolicy:
    """The consent / feedback policy: phrases and default responses from ``feedback.phrases_file``
    (else the shipped ``bots/dialogue/privacy.yml``), the domain's responses over them.

    Raises:
        ConfigError: the phrases file is missing or invalid.
    """
    path = settings.path(feedback.phrases_file) if feedback.phrases_file else None
    return FeedbackPolicy(feedback, privacy, load_privacy_file(path), domain.responses, settings.brand.default_language)


def build_privacy_step(
    settings: Settings,
    client: redis.Redis,
    engine: Engine,
    domain: DomainSpec,
    *,
    privacy: PrivacySettings,
    feedback: FeedbackSettings,
    clock: Callable[[], datetime] | None = None,
    defer_erasure: bool = False,
) -> PrivacyStep:
    """The privacy step of a runtime, on the same Redis and SQL (see :mod:`.privacy_step`)."""
    from ..pipeline.ingest import keys_for
    from ..privacy import ConsentBook, Pseudonyms, Signals, erase
    from ..privacy.erasure import erased_at

    now = clock or _utcnow
    pseudonyms = Pseudonyms(privacy.analytics_secret)
    keys = keys_for(settings)

    def erase_customer(who: Customer) -> Any:
        return erase(who, engine=engine, client=client, keys=keys, pseudonyms=pseudonyms, actor="customer", clock=now)

    return PrivacyStep(
        feedback_policy(settings, domain, privacy, feedback),
        ConsentBook(engine, now),
        Signals(engine, pseudonyms, now),
        erase_customer,
        tuple(settings.brand.languages),
        settings.brand.default_language,
        defer_erasure=defer_erasure,
        erased_at=lambda who: erased_at(client, settings.stores.key_prefix, pseudonyms, who),
    )


def build_runtime(
    services: Any,
    nlu: NLUParser | None = None,
    clock: Callable[[], datetime] | None = None,
    train_if_needed: bool = False,
    presence: Presence | None = None,
    privacy: PrivacySettings | None = None,
    feedback: FeedbackSettings | None = None,
    defer_erasure: bool = False,
) -> ConversationRuntime:
    """A runtime from :class:`~bots.services.Services`: NLU loaded from ``nlu.model_dir``,
    actions from ``dialogue.actions_module``, the privacy step; the SQL schema is migrated if needed.
    ``presence`` defaults to one on ``services.redis`` (the same ZSET the console beats).

    Args:
        privacy, feedback: the ``privacy:`` and ``feedback:`` settings (default: the privacy
            defaults, and feedback defaults without the consent question, which changes what a
            turn answers: a deployment asks for it through ``feedback.ask_consent``).
        defer_erasure: the caller runs ``TurnResult.after_delivery`` after delivering the replies.

    Raises:
        ModelNotTrained: no trained NLU at ``nlu.model_dir`` (run ``brandbot nlu train``).
        ConfigError / DomainError / ActionNotFound: the dialogue config is wrong.
    """
    from ..stores.sql import upgrade
    from .runtime import ConversationRuntime

    settings: Settings = services.settings
    if nlu is None:
        nlu = load_nlu(settings, train_if_needed)
    d = settings.dialogue
    actions = load_actions(d.actions_module, settings, d.actions_options, d.action_timeout_seconds)
    upgrade(services.engine)
    domain = load_domain(settings)
    step = build_privacy_step(
        settings,
        services.redis,
        services.engine,
        domain,
        privacy=privacy or settings.privacy,
        feedback=feedback or settings.feedback,
        clock=clock,
        defer_erasure=defer_erasure,
    )
    return ConversationRuntime(
        settings=settings,
        redis=services.redis,
        engine=services.engine,
        nlu=nlu,
        actions=actions,
        clock=clock,
        domain=domain,
        presence=presence,
        privacy=step,
        notices=notification_turns(settings, services.engine, clock),
    )


def notification_turns(
    settings: Settings, engine: Engine, clock: Callable[[], datetime] | None = None
) -> NotificationTurns:
    """The notifications' side of a turn (:class:`bots.notifications.turn.NotificationTurns`)."""
    from ..notifications import CustomerLinks, Notifications
    from ..notifications.turn import NotificationTurns

    kwargs: dict[str, Any] = {} if clock is None else {"clock": clock}
    return NotificationTurns(
        settings.notifications,
        settings.brand.default_language,
        Notifications(engine, **kwargs),
        CustomerLinks(engine, **kwargs),
    )


def load_nlu(settings: Settings, train_if_needed: bool = False) -> NLUParser:
    """Load the trained NLU named by the settings (training it first if asked and needed).

    Raises:
        ModelNotTrained: no usable model at ``nlu.model_dir`` (run ``brandbot nlu train``).
    """
    import nlu
    from nlu.errors import NLUError

    model_dir = settings.path(settings.nlu.model_dir)
    languages = list(settings.brand.languages)
    try:
        if train_if_needed and nlu.needs_training(
            settings.path(settings.nlu.data_dir), model_dir, languages, seed=settings.nlu.seed
        ):
            log.warning("training the NLU into %s (first run or data changed)", model_dir)
            nlu.train(settings.path(settings.nlu.data_dir), model_dir, languages, seed=settings.nlu.seed)
        return nlu.NLU.load(model_dir, languages, settings.brand.default_language)
    except NLUError as exc:
        raise ModelNotTrained(f"{exc} (model_dir {model_dir}; run `brandbot nlu train`)") from exc
