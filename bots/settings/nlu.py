"""Settings of the NLU: where training data and trained models live, and thresholds."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ._base import Section

#: the example airline's training data, shipped inside the package (the default when
#: config.yaml names no ``nlu.data_dir``, wherever the config file lives).
DEMO_DATA_DIR = str(Path(__file__).resolve().parent.parent / "airline" / "nlu")


class NLUSettings(Section):
    #: folder of training data, one file per language (``en.yml``, ``fr.yml``); relative
    #: to the config file. Default: the example airline's data shipped with brandbot.
    data_dir: str = DEMO_DATA_DIR
    #: where trained pipelines are written (one sub-folder per language).
    model_dir: str = "var/models/nlu"
    seed: int = 42
    #: below this confidence the dialogue asks the customer to rephrase.
    fallback_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
