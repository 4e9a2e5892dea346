"""Shared base for settings sections: frozen, strict, unknown keys refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A frozen settings section; an unknown key is an error, not a silent default."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)
