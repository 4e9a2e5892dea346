"""The dialogue runtime: state in Redis, a pure policy over flows, brand actions.

Public faces: :class:`ConversationRuntime` / :func:`build_runtime` (I/O edge),
:class:`Engine` (pure policy), :func:`action` / :class:`ActionResult` (brand code),
:class:`StateStore` (Redis state and locks).
"""

from .actions import (
    ActionContext,
    ActionRegistry,
    ActionResult,
    Deadline,
    DeadlineExceeded,
    action,
    action_key,
    load_actions,
)
from .domain import load_domain
from .engine import ActionRequest, Engine, EngineOutput
from .errors import ActionNotFound, ConversationBusy, DomainError, StaleState
from .responses import Reply
from .state import SCHEMA_VERSION, DialogueState, FlowState
from .store import StateStore

_RUNTIME = ("ConversationRuntime", "TurnResult", "build_runtime")


def __getattr__(name: str) -> object:
    """The runtime's names, imported on first use: the runtime imports ``bots.handoff``, which
    imports this package's state and store, so importing it here would be a cycle."""
    if name in _RUNTIME:
        from . import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ActionContext",
    "ActionRegistry",
    "ActionResult",
    "Deadline",
    "DeadlineExceeded",
    "action",
    "action_key",
    "load_actions",
    "load_domain",
    "ActionRequest",
    "Engine",
    "EngineOutput",
    "ActionNotFound",
    "ConversationBusy",
    "DomainError",
    "StaleState",
    "Reply",
    "ConversationRuntime",
    "TurnResult",
    "build_runtime",
    "SCHEMA_VERSION",
    "DialogueState",
    "FlowState",
    "StateStore",
]
