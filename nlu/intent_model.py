"""Intent classifier with out-of-scope detection.

Recipe (each step measured on CLINC150 and BANKING77, see benchmarks/README.md):
word uni+bigrams and char_wb 2-5 grams, sublinear TF-IDF, a linear SVM (one vs
rest); its scores become probabilities through a softmax whose temperature is
fitted (lowest log-loss) on a held-out split of the training data. The same
held-out split picks the out-of-scope threshold: the confidence below which only
``max_in_scope_rejection`` of the correctly classified in-scope held-out messages
fall. A message is out of scope when the trained ``out_of_scope`` class wins or
the top confidence is below that threshold. Data without any ``out_of_scope``
example declares a closed world: no threshold (unless one is given).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .features import Vectorizer
from .linear import LinearTextModel, softmax
from .result import OUT_OF_SCOPE

__all__ = ["IntentConfig", "IntentModel", "stratified_split"]


@dataclass(frozen=True)
class IntentConfig:
    C: float = 1.0
    word_ngrams: int = 2
    char_ngrams: tuple[int, int] = (2, 5)
    #: 0 = automatic: 2 for large data sets (>= 5,000 examples), else 1.
    min_df: int = 0
    holdout_fraction: float = 0.2
    #: share of correct held-out in-scope predictions the threshold may reject.
    max_in_scope_rejection: float = 0.005
    #: "auto" (chosen on held-out data), "off", or a number in [0, 1].
    oos_threshold: Any = "auto"
    ranking_size: int = 10
    #: weight of the trained out_of_scope class (below 1: unknown in-scope wording is
    #: less often pulled into it; the threshold still catches what fits no intent).
    oos_class_weight: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "C": self.C,
            "word_ngrams": self.word_ngrams,
            "char_ngrams": list(self.char_ngrams),
            "min_df": self.min_df,
            "holdout_fraction": self.holdout_fraction,
            "max_in_scope_rejection": self.max_in_scope_rejection,
            "oos_threshold": self.oos_threshold,
            "ranking_size": self.ranking_size,
            "oos_class_weight": self.oos_class_weight,
        }


def stratified_split(labels: Sequence[str], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (train, held_out): about ``fraction`` of each class with >= 3 examples held out.

    scikit-learn's ``train_test_split(stratify=...)`` with ``random_state=seed`` over the classes
    with >= 3 examples (smaller ones stay whole in training); at least one example per such
    class is asked for, as scikit-learn refuses a test split smaller than the number of classes.
    """
    from sklearn.model_selection import train_test_split  # training only: kept off the parse path

    counts = Counter(labels)
    eligible = [i for i, y in enumerate(labels) if counts[y] >= 3]
    kept = [i for i, y in enumerate(labels) if counts[y] < 3]
    if not eligible:
        return kept, []
    strata = [labels[i] for i in eligible]
    n_classes = len(set(strata))
    n_held = min(max(math.ceil(fraction * len(eligible)), n_classes), len(eligible) - n_classes)
    train, held = train_test_split(eligible, test_size=n_held, stratify=strata, random_state=seed)
    return sorted(train + kept), sorted(held)


def _fit_temperature(scores: np.ndarray, y_idx: np.ndarray) -> float:
    best_t, best_nll = 1.0, float("inf")
    rows = np.arange(len(y_idx))
    for t in np.concatenate([np.arange(1.0, 10.0, 0.5), np.arange(10.0, 41.0, 2.0)]):
        p = softmax(scores, t)[rows, y_idx]
        nll = float(-np.log(p + 1e-12).mean())
        if nll < best_nll - 1e-9:
            best_t, best_nll = float(t), nll
    return best_t


class IntentModel:
    """A trained intent classifier; ``predict`` gives (intent, confidence, ranking)."""

    def __init__(
        self, linear: LinearTextModel, threshold: float, config: IntentConfig, info: dict[str, Any] | None = None
    ) -> None:
        self.linear = linear
        self.threshold = float(threshold)
        self.config = config
        self.info = info or {}
        self._oos = linear.classes.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in linear.classes else -1

    # -- training -----------------------------------------------------------------------
    @staticmethod
    def _fit_linear(
        texts: Sequence[str], labels: Sequence[str], cfg: IntentConfig, seed: int, temperature: float = 1.0
    ) -> LinearTextModel:
        from sklearn.svm import LinearSVC

        min_df = cfg.min_df or (2 if len(texts) >= 5000 else 1)
        vec = Vectorizer(word_ngrams=cfg.word_ngrams, char_ngrams=cfg.char_ngrams, min_df=min_df)
        vec.fit(texts)
        X = vec.transform(texts)
        weights = {OUT_OF_SCOPE: cfg.oos_class_weight} if OUT_OF_SCOPE in set(labels) else None
        svm = LinearSVC(C=cfg.C, random_state=seed, max_iter=5000, class_weight=weights)
        svm.fit(X, list(labels))
        return LinearTextModel.from_sklearn(vec, svm, temperature)

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        config: IntentConfig | None = None,
        seed: int = 42,
        progress: Callable[[str], None] | None = None,
    ) -> IntentModel:
        """Train on ``texts``/``labels``; calibrate and pick the threshold on a held-out split."""
        cfg = config or IntentConfig()
        note = progress or (lambda _msg: None)
        labels = [str(y) for y in labels]
        has_oos = OUT_OF_SCOPE in set(labels)
        temperature, threshold = 10.0, 0.0
        info: dict[str, Any] = {"examples": len(texts), "intents": len(set(labels) - {OUT_OF_SCOPE})}
        tr, ho = stratified_split(labels, cfg.holdout_fraction, seed)
        if ho and len({labels[i] for i in tr}) >= 2:
            note("calibrating on held-out data")
            m = cls._fit_linear([texts[i] for i in tr], [labels[i] for i in tr], cfg, seed)
            known = {c: j for j, c in enumerate(m.classes)}
            ho = [i for i in ho if labels[i] in known]
            X = m.vectorizer.transform([texts[i] for i in ho])
            scores = np.asarray(X @ m.weights) + m.bias
            y_idx = np.array([known[labels[i]] for i in ho])
            temperature = _fit_temperature(scores, y_idx)
            probs = softmax(scores, temperature)
            top = probs.argmax(1)
            conf = probs.max(1)
            oos_j = known.get(OUT_OF_SCOPE, -1)
            correct = (top == y_idx) & (y_idx != oos_j)
            info["held_out"] = len(ho)
            info["held_out_accuracy"] = float((top == y_idx).mean())
            if cfg.oos_threshold == "auto" and has_oos and correct.any():
                threshold = float(np.quantile(conf[correct], cfg.max_in_scope_rejection))
        if isinstance(cfg.oos_threshold, (int, float)) and not isinstance(cfg.oos_threshold, bool):
            threshold = float(cfg.oos_threshold)
        note("training on all data")
        linear = cls._fit_linear(texts, labels, cfg, seed, temperature)
        info.update({"temperature": temperature, "threshold": threshold})
        return cls(linear, threshold, cfg, info)

    # -- prediction ---------------------------------------------------------------------
    def _decide(self, probs: np.ndarray) -> tuple[str, float, list[tuple[str, float]]]:
        k = min(self.config.ranking_size, len(probs))
        top = np.argpartition(-probs, k - 1)[:k] if k < len(probs) else np.arange(len(probs))
        top = top[np.argsort(-probs[top], kind="stable")]
        classes = self.linear.classes
        ranking = [(classes[j], float(probs[j])) for j in top]
        best_j = int(top[0])
        confidence = float(probs[best_j])
        if best_j == self._oos or confidence < self.threshold:
            intent = OUT_OF_SCOPE
            if best_j != self._oos:
                confidence = 1.0 - confidence if self._oos < 0 else max(float(probs[self._oos]), 1.0 - confidence)
        else:
            intent = classes[best_j]
        return intent, confidence, ranking

    def predict(self, text: str) -> tuple[str, float, list[tuple[str, float]]]:
        return self._decide(self.linear.proba(text))

    def predict_many(self, texts: Sequence[str]) -> list[tuple[str, float, list[tuple[str, float]]]]:
        if not texts:
            return []
        return [self._decide(p) for p in self.linear.proba_many(texts)]

    # -- serialisation ------------------------------------------------------------------
    def to_disk(self, path: Path) -> None:
        self.linear.to_disk(path)
        (path / "intent.json").write_text(
            json.dumps({"threshold": self.threshold, "config": self.config.as_dict(), "info": self.info}),
            encoding="utf-8",
        )

    @classmethod
    def from_disk(cls, path: Path) -> IntentModel:
        meta = json.loads((path / "intent.json").read_text(encoding="utf-8"))
        c = meta["config"]
        cfg = IntentConfig(**{**c, "char_ngrams": tuple(c["char_ngrams"])})
        return cls(LinearTextModel.from_disk(path), meta["threshold"], cfg, meta.get("info"))
