"""brandbot's NLU: per-language spaCy pipelines for intents (with out-of-scope
detection), entities and sentiment, plus language identification.

The runtime calls::

    import nlu
    if nlu.needs_training(data_dir, model_dir, languages):
        nlu.train(data_dir, model_dir, languages, seed=42)
    engine = nlu.NLU.load(model_dir, languages, default_language)
    result = engine.parse(text, language_hint=None, context=ParseContext(now, timezone, language))

``nlu`` never imports ``bots`` nor ``connectors``.
"""

from __future__ import annotations

from .errors import BadTrainingData, NLUError, NotTrained, UnknownLanguage
from .result import OUT_OF_SCOPE, Entity, IntentScore, NLUResult, ParseContext, Sentiment
from .runtime import NLU
from .training import LanguageReport, TrainReport, needs_training, train

__all__ = [
    "NLU",
    "train",
    "needs_training",
    "TrainReport",
    "LanguageReport",
    "NLUResult",
    "ParseContext",
    "Entity",
    "IntentScore",
    "Sentiment",
    "OUT_OF_SCOPE",
    "NLUError",
    "NotTrained",
    "BadTrainingData",
    "UnknownLanguage",
]
