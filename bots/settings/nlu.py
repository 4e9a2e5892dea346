"""Settings of the NLU: where training data and trained models live, and thresholds."""

from __future__ import annotations

from pydantic import Field

from ._base import Section


class NLUSettings(Section):
    #: folder of training data, one file per language (``en.yml``, ``fr.yml``).
    data_dir: str = "bots/airline/nlu"
    #: where trained pipelines are written (one sub-folder per language).
    model_dir: str = "var/models/nlu"
    seed: int = 42
    #: below this confidence the dialogue asks the customer to rephrase.
    fallback_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
