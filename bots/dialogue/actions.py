"""Brand actions: Python functions registered by name, run with a time limit.

A brand writes, in the module named by ``dialogue.actions_module``::

    from bots.dialogue.actions import action, ActionContext, ActionResult

    def make_api(settings, options):          # optional: the brand's systems
        return MyBookingsClient(options["base_url"])

    @action("change_seat")
    def change_seat(ctx: ActionContext) -> ActionResult:
        ctx.api.move(ctx.slots["booking_ref"], ctx.slots["seat"],
                     idempotency_key=ctx.idempotency_key, timeout=ctx.remaining())
        return ActionResult(values={"seat": ctx.slots["seat"]})

An action that raises or overruns ``dialogue.action_timeout_seconds`` becomes
``ActionResult(ok=False, error=...)``: the customer gets a polite message and
an offer of a human, the failure is logged with the conversation id, and the
worker carries on.

Python cannot stop a thread, so an action past its timeout keeps running, and a
turn can be redone after a worker died (the same inbound, the same step). Two
things keep a write truthful and single:

- ``ctx.deadline``: when the runner stops waiting. Pass ``ctx.deadline.remaining()``
  as the timeout of a call to the brand's systems, and make the change final only
  inside ``with ctx.deadline.commit():``, which refuses (``DeadlineExceeded``) once the
  runner has given up; while a commit is under way the runner waits for it (a short
  grace) instead of telling the customer it failed.
- ``ctx.idempotency_key``: the same for a redone step (``channel:message_id:flow:action``).
  Send it with the write; a system that has seen it returns the first outcome and
  changes nothing.
"""

from __future__ import annotations

import importlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..errors import BrandbotError, ConfigError
from .errors import ActionNotFound

__all__ = [
    "action",
    "ActionContext",
    "ActionResult",
    "ActionRegistry",
    "Deadline",
    "DeadlineExceeded",
    "action_key",
    "load_actions",
]

log = logging.getLogger(__name__)

_MARK = "__brandbot_action__"
#: after its timeout, the runner waits this share of it more for a commit already under way.
COMMIT_GRACE = 0.25


class DeadlineExceeded(BrandbotError, TimeoutError):
    """Raised when an action's work would end after its deadline (nothing was made final)."""


class Deadline:
    """When an action must be done by, shared by the runner and the action's writes.

    ``at`` is a :func:`time.monotonic` time. A write makes its change final inside
    :meth:`commit`; the runner, when it stops waiting, calls :meth:`expire`. The two are
    decided under one lock, so either the commit starts first (the runner then waits for
    the action's real result) or the runner gives up first (the commit is refused): the
    customer is never told "failed" about a change that is made.

    Args:
        at: the monotonic deadline (``math.inf``: none).
        clock: the monotonic clock (tests may pass their own).
    """

    def __init__(self, at: float = math.inf, clock: Callable[[], float] = time.monotonic) -> None:
        self.at = at
        self._clock = clock
        self._lock = threading.Lock()
        self._expired = False
        self._commits = 0  # under way or done

    @classmethod
    def within(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        """Seconds left (0 once passed or given up; ``inf`` without a deadline)."""
        if self._expired:
            return 0.0
        return max(0.0, self.at - self._clock())

    @property
    def expired(self) -> bool:
        """The deadline passed or the runner gave up."""
        return self._expired or self._clock() >= self.at

    @property
    def committed(self) -> bool:
        """A change was made final (or is being) inside :meth:`commit`."""
        return self._commits > 0

    def check(self) -> None:
        """Raise :class:`DeadlineExceeded` when the deadline has passed."""
        if self._expired:
            raise DeadlineExceeded("the action's deadline passed: its runner stopped waiting")
        late = self._clock() - self.at
        if late >= 0:
            raise DeadlineExceeded(f"the action's deadline passed {late:.3f}s ago")

    @contextmanager
    def commit(self) -> Iterator[None]:
        """Make a change final inside this block (e.g. around ``COMMIT``).

        Raises:
            DeadlineExceeded: on entry, when the deadline passed or the runner gave up; roll back.
        """
        with self._lock:
            self.check()
            self._commits += 1
        yield

    def expire(self) -> bool:
        """The runner stops waiting: True if no commit started (none can start now)."""
        with self._lock:
            if self._commits:
                return False
            self._expired = True
            return True


def action_key(channel: str, message_id: str, step: str, occurrence: int = 1) -> str:
    """The idempotency key of an action step: ``channel:message_id:flow:action``.

    The same when a turn is redone for the same inbound (after a crash, a redelivery, a
    stale save): the engine is deterministic, so the redo reaches the same steps. The
    ``occurrence``-th run of one step within a turn (rare) gets ``:<occurrence>`` added.
    """
    key = f"{channel}:{message_id}:{step}"
    return key if occurrence == 1 else f"{key}:{occurrence}"


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
    #: when the runner stops waiting (set by :meth:`ActionRegistry.run`; none until then).
    deadline: Deadline = field(default_factory=Deadline)
    #: the same when this step is redone (``channel:message_id:flow:action``); send it with
    #: every write so a redone or late step never applies twice ("" when there is no inbound).
    idempotency_key: str = ""

    def remaining(self) -> float:
        """Seconds left before the deadline (the timeout to give a call to the brand's systems)."""
        return self.deadline.remaining()


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
        """Run action ``name`` with a deadline ``timeout`` s away; never raises (failures become
        ``error`` results).

        The wait is ``timeout``, plus :data:`COMMIT_GRACE` of it only when the action has
        started a commit (``ctx.deadline.commit()``): its result is then the truth to tell.
        """
        fn = self.actions.get(name)
        if fn is None:
            log.error("conversation %s: action %r is not defined (have %s)", ctx.conversation_id, name, self.names())
            return ActionResult(ok=False, error=f"undefined action {name!r}")
        deadline = Deadline.within(self.timeout)
        ctx = replace(ctx, deadline=deadline)
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = fn(ctx)
            except BaseException as exc:  # noqa: BLE001 - brand code: report, never crash the worker
                box["exc"] = exc

        thread = threading.Thread(target=target, name=f"action-{name}", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive() and not deadline.expire():
            thread.join(self.timeout * COMMIT_GRACE)  # a change is being made final: wait for the outcome
        if thread.is_alive():
            late = " after making a change final" if deadline.committed else ""
            log.error(
                "conversation %s: action %r timed out after %.1fs%s", ctx.conversation_id, name, self.timeout, late
            )
            return ActionResult(ok=False, error=f"timeout after {self.timeout}s{late}")
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
