"""Settings of the dialogue: state lifetime, actions module, flows, FAQ, responses."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import Section


class DialogueSettings(Section):
    state_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    history_limit: int = Field(default=20, ge=1, le=500)
    lock_ttl_seconds: int = Field(default=30, ge=1)
    actions_module: str = "bots.airline.actions"
    flows: dict[str, Any] = Field(default_factory=dict)
    faq: dict[str, Any] = Field(default_factory=dict)
    responses: dict[str, Any] = Field(default_factory=dict)
