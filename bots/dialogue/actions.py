"""Brand actions: Python functions registered by name, run with a time limit.

A brand writes, in the module named by ``dialogue.actions_module``::

    from bots.dialogue.actions import action, ActionContext, ActionResult

    def make_api(settings, options):          # optional: the brand's systems
        return MyBookingsClient(options["base_url"])

    @action("change_seat")
    def change_seat(ctx: ActionContext) -> ActionResult:
        ctx.api.move(ctx.slots["booking_ref"], ctx.slots["seat"])
        return ActionResult(values={"seat": ctx.slots["seat"]})

An action that raises or overruns ``dialogue.action_timeout_seconds`` becomes
``ActionResult(ok=False, error=...)``: the customer gets a polite message and
an offer of a human, the failure is logged with the conversation id, and the
worker carries on.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import ConfigError
from .errors import ActionNotFound

__all__ = ["action", "ActionContext", "ActionResult", "ActionRegistry", "load_actions"]

log = logging.getLogger(__name__)

_MARK = "__brandbot_action__"


def action(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function as the action ``name`` (found when its module is loaded)."""
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"action name {name!r} must be letters, digits and underscores")

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, _MARK, name)
        return fn

    return mark


@dataclass(frozen=True)
class ActionContext:
    """What an action sees."""

    conversation_id: str
    language: str
    #: the flow's slots (a copy: change them through ``ActionResult.slots``).
    slots: Mapping[str, Any]
    #: "check" (before confirmation) or "run".
    phase: str
    flow: str
    now: datetime
    #: the brand's systems, built by the module's ``make_api``.
    api: Any = None
    #: values the conversation remembers (a checked booking reference...).
    memory: Mapping[str, Any] = field(default_factory=dict)
    #: a copy of the whole dialogue state as JSON-able data (mode, language, history...).
    state: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class ActionResult:
    """What an action returns.

    Args:
        ok: the task succeeded (the flow's ``success`` response) or not (``failure``).
        response: a response key to say instead of the flow's default.
        values: variables for the response template.
        slots: slot values to set (e.g. normalised).
        reask: a slot to clear and ask again (e.g. a taken seat).
        remember: values kept in the conversation's memory for later flows.
        events: plain dicts recorded with the turn (analytics, handoff hints).
        texts: extra replies sent as they are, after the response (already in the
            conversation's language: ``ctx.language``).
        handoff: ask for a person, with a short reason ("flight_cancelled"): after the
            response, the flows close and the customer is handed over (staff told the
            reason as ``action:<reason>``); honoured when ``handoff.triggers.from_actions``.
        error: set by the runner when the action raised or timed out.
    """

    ok: bool = True
    response: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    slots: dict[str, Any] = field(default_factory=dict)
    reask: str | None = None
    remember: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    handoff: str | None = None
    error: str | None = None


class ActionRegistry:
    """Actions by name, plus the API object they share; runs them safely."""

    def __init__(
        self, actions: Mapping[str, Callable[[ActionContext], Any]], api: Any = None, timeout: float = 5.0
    ) -> None:
        self.actions = dict(actions)
        self.api = api
        self.timeout = timeout

    def names(self) -> list[str]:
        return sorted(self.actions)

    def require(self, names: list[str]) -> None:
        """Raise :class:`ActionNotFound` naming each missing action and the defined ones."""
        missing = sorted({n for n in names if n and n not in self.actions})
        if missing:
            raise ActionNotFound(f"flows use undefined actions {missing}; defined: {self.names()}")

    def run(self, name: str, ctx: ActionContext) -> ActionResult:
        """Run action ``name``; never raises (failures become ``error`` results)."""
        fn = self.actions.get(name)
        if fn is None:
            log.error("conversation %s: action %r is not defined (have %s)", ctx.conversation_id, name, self.names())
            return ActionResult(ok=False, error=f"undefined action {name!r}")
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = fn(ctx)
            except BaseException as exc:  # noqa: BLE001 - brand code: report, never crash the worker
                box["exc"] = exc

        thread = threading.Thread(target=target, name=f"action-{name}", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            log.error("conversation %s: action %r timed out after %.1fs", ctx.conversation_id, name, self.timeout)
            return ActionResult(ok=False, error=f"timeout after {self.timeout}s")
        if "exc" in box:
            exc = box["exc"]
            log.error(
                "conversation %s: action %r raised %s: %s",
                ctx.conversation_id,
                name,
                type(exc).__name__,
                exc,
                exc_info=(type(exc), exc, exc.__traceback__),
            )
            return ActionResult(ok=False, error=f"{type(exc).__name__}: {exc}")
        res = box.get("result")
        if res is None:
            return ActionResult()
        if isinstance(res, ActionResult):
            return res
        if isinstance(res, dict):
            return ActionResult(values=res)
        log.error("conversation %s: action %r returned %r, not an ActionResult", ctx.conversation_id, name, type(res))
        return ActionResult(ok=False, error=f"bad return type {type(res).__name__}")


def load_actions(
    module_name: str, settings: Any = None, options: Mapping[str, Any] | None = None, timeout: float = 5.0
) -> ActionRegistry:
    """Import ``module_name``, collect its ``@action`` functions and build its API.

    Raises:
        ConfigError: the module cannot be imported (names the module and the cause).
    """
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError([f"dialogue.actions_module: cannot import {module_name!r} ({exc})"]) from exc
    found: dict[str, Callable[[ActionContext], Any]] = {}
    for obj in vars(module).values():
        name = getattr(obj, _MARK, None)
        if name and callable(obj):
            found[name] = obj
    make_api = getattr(module, "make_api", None)
    api = make_api(settings, dict(options or {})) if callable(make_api) else None
    return ActionRegistry(found, api=api, timeout=timeout)
