"""Evaluation of intents (incl. out-of-scope) and sentiment: metrics as plain dicts.

The metrics and the folds are scikit-learn's (``precision_recall_fscore_support``,
``StratifiedKFold``); what is ours is the out-of-scope view (in-scope accuracy, out-of-scope
recall/precision), which scikit-learn has no notion of.

Used by ``brandbot nlu evaluate`` / ``evaluate-sentiment`` and by the benchmarks.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from .data import SENTIMENT_LABELS, Example, load_jsonl, read_sentiment_file
from .intent_model import IntentConfig, IntentModel
from .result import OUT_OF_SCOPE
from .sentiment_model import SentimentModel

__all__ = [
    "intent_metrics",
    "predict_rate",
    "sentiment_metrics",
    "evaluate_intent_files",
    "cross_validate",
    "cross_validate_sentiment",
    "evaluate_sentiment_files",
]

Note = Callable[[str, int, int], None]


def _per_label(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per label (scikit-learn's ``precision_recall_fscore_support``)."""
    if not y_true:
        return {lab: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0} for lab in labels}
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(labels), zero_division=0)
    return {
        lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, lab in enumerate(labels)
    }


def _macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> float:
    """Mean F1 over ``labels`` (those present in ``y_true``); 0.0 when there are none."""
    if not labels:
        return 0.0
    return float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))


def _accuracy(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    return float(accuracy_score(y_true, y_pred)) if y_true else 0.0


def intent_metrics(y_true: Sequence[str], y_pred: Sequence[str], top_confusions: int = 10) -> dict[str, Any]:
    """accuracy, in-scope accuracy, out-of-scope recall/precision, macro F1, per intent, confusions."""
    n = len(y_true)
    labels = sorted(set(y_true) | set(y_pred))
    per = _per_label(y_true, y_pred, labels)
    in_idx = [i for i, t in enumerate(y_true) if t != OUT_OF_SCOPE]
    oos_idx = [i for i, t in enumerate(y_true) if t == OUT_OF_SCOPE]
    pred_oos = [i for i, p in enumerate(y_pred) if p == OUT_OF_SCOPE]
    true_labels = [lab for lab in labels if per[lab]["support"] > 0]
    conf = Counter((t, p) for t, p in zip(y_true, y_pred, strict=True) if t != p)
    return {
        "examples": n,
        "accuracy": _accuracy(y_true, y_pred),
        "in_scope_accuracy": sum(y_true[i] == y_pred[i] for i in in_idx) / len(in_idx) if in_idx else 0.0,
        "out_of_scope_recall": sum(y_pred[i] == OUT_OF_SCOPE for i in oos_idx) / len(oos_idx) if oos_idx else None,
        "out_of_scope_precision": (
            sum(y_true[i] == OUT_OF_SCOPE for i in pred_oos) / len(pred_oos) if pred_oos else None
        ),
        "macro_f1": _macro_f1(y_true, y_pred, true_labels),
        "per_intent": per,
        "confused": [{"true": t, "predicted": p, "count": c} for (t, p), c in conf.most_common(top_confusions)],
    }


def sentiment_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    per = _per_label(y_true, y_pred, SENTIMENT_LABELS)
    present = [lab for lab in SENTIMENT_LABELS if per[lab]["support"] > 0]
    n = len(y_true)
    majority = Counter(y_true).most_common(1)[0][1] / n if n else 0.0
    return {
        "examples": n,
        "accuracy": _accuracy(y_true, y_pred),
        "macro_f1": _macro_f1(y_true, y_pred, present),
        "f1": {lab: per[lab]["f1"] for lab in SENTIMENT_LABELS},
        # recall per class: None for a class the file does not have (its recall is undefined)
        "recall": {lab: per[lab]["recall"] if per[lab]["support"] else None for lab in SENTIMENT_LABELS},
        "min_recall": min((per[lab]["recall"] for lab in present), default=0.0),
        "per_class": per,
        "always_negative_accuracy": sum(t == "negative" for t in y_true) / n if n else 0.0,
        "majority_class_accuracy": majority,
    }


def predict_rate(model: IntentModel, texts: Sequence[str], limit: int = 3000) -> float:
    """Messages per second, one ``predict`` at a time (the first ``limit`` texts)."""
    sample = list(texts[:limit])
    t0 = time.perf_counter()
    for t in sample:
        model.predict(t)
    dt = time.perf_counter() - t0
    return len(sample) / dt if dt > 0 else 0.0


def evaluate_intent_files(
    train_path: str | Path,
    test_path: str | Path,
    *,
    seed: int = 42,
    config: IntentConfig | None = None,
    note: Note | None = None,
) -> dict[str, Any]:
    """Train with the default settings on TRAIN (JSONL) and report on TEST (JSONL).

    ``messages_per_second`` is the trained intent classifier's rate, one message at a time.
    """
    say = note or (lambda *_a: None)
    say("reading data", 0, 3)
    train = load_jsonl(train_path, "intent")
    test = load_jsonl(test_path, "intent")
    say("training", 1, 3)
    t0 = time.perf_counter()
    model = IntentModel.fit([e.text for e in train], [e.label for e in train], config, seed=seed)
    train_seconds = time.perf_counter() - t0
    say("predicting", 2, 3)
    texts = [e.text for e in test]
    y_pred = [p[0] for p in model.predict_many(texts)]
    metrics = intent_metrics([e.label for e in test], y_pred)
    metrics.update(
        {
            "train_seconds": round(train_seconds, 3),
            "messages_per_second": round(predict_rate(model, texts), 1),
            "train_examples": len(train),
            "oos_threshold": model.threshold,
            "temperature": model.linear.temperature,
        }
    )
    say("done", 3, 3)
    return metrics


def _stratified_folds(labels: Sequence[str], folds: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """(train indices, test indices) per fold: scikit-learn's ``StratifiedKFold``, shuffled with ``seed``.

    A label with fewer examples than ``folds`` is simply missing from some test folds (scikit-learn's
    warning about it is silenced: the bot's own data often has such intents).
    """
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return [(tr.tolist(), te.tolist()) for tr, te in splitter.split(np.zeros((len(labels), 1)), list(labels))]


def cross_validate(
    examples: Sequence[Example],
    *,
    folds: int = 5,
    seed: int = 42,
    config: IntentConfig | None = None,
    note: Note | None = None,
) -> dict[str, Any]:
    """Stratified k-fold cross-validation on the bot's own examples (predictions pooled)."""
    say = note or (lambda *_a: None)
    t0 = time.perf_counter()
    splits = _stratified_folds([e.label for e in examples], folds, seed)
    y_true: list[str] = []
    y_pred: list[str] = []
    for k, (tr_idx, te_idx) in enumerate(splits):
        say(f"fold {k + 1}/{folds}", k, folds)
        tr = [examples[i] for i in tr_idx]
        te = [examples[i] for i in te_idx]
        model = IntentModel.fit([e.text for e in tr], [e.label for e in tr], config, seed=seed)
        y_true += [e.label for e in te]
        y_pred += [p[0] for p in model.predict_many([e.text for e in te])]
    say("done", folds, folds)
    metrics = intent_metrics(y_true, y_pred)
    metrics.update({"folds": folds, "train_seconds": round(time.perf_counter() - t0, 3)})
    return metrics


def evaluate_sentiment_files(
    test_path: str | Path, *, model: SentimentModel | None = None, train_path: str | Path | None = None, seed: int = 42
) -> dict[str, Any]:
    """Sentiment metrics on TEST for ``model``, or for a model trained on TRAIN."""
    test = read_sentiment_file(test_path)
    train_seconds = None
    if train_path is not None:
        train = read_sentiment_file(train_path)
        t0 = time.perf_counter()
        model = SentimentModel.fit([e.text for e in train], [e.label for e in train], seed=seed)
        train_seconds = round(time.perf_counter() - t0, 3)
    if model is None:
        raise ValueError("give a model or a train_path")
    y_pred = [lab for _s, lab in model.predict_many([e.text for e in test])]
    metrics = sentiment_metrics([e.label for e in test], y_pred)
    metrics["train_seconds"] = train_seconds
    return metrics


def cross_validate_sentiment(examples: Sequence[Example], *, folds: int = 5, seed: int = 42) -> dict[str, Any]:
    """Stratified k-fold cross-validation of the sentiment model (predictions pooled)."""
    y_true: list[str] = []
    y_pred: list[str] = []
    for tr_idx, te_idx in _stratified_folds([e.label for e in examples], folds, seed):
        tr = [examples[i] for i in tr_idx]
        te = [examples[i] for i in te_idx]
        model = SentimentModel.fit([e.text for e in tr], [e.label for e in tr], seed=seed)
        y_true += [e.label for e in te]
        y_pred += [lab for _s, lab in model.predict_many([e.text for e in te])]
    return sentiment_metrics(y_true, y_pred)
