"""Evaluation of intents (incl. out-of-scope) and sentiment: metrics as plain dicts.

Used by ``brandbot nlu evaluate`` / ``evaluate-sentiment`` and by the benchmarks.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Sequence

from .data import Example, SENTIMENT_LABELS, load_jsonl, read_sentiment_file
from .intent_model import IntentConfig, IntentModel
from .result import OUT_OF_SCOPE
from .sentiment_model import SentimentModel

__all__ = ["intent_metrics", "sentiment_metrics", "evaluate_intent_files", "cross_validate",
           "cross_validate_sentiment", "evaluate_sentiment_files"]

Note = Callable[[str, int, int], None]


def _prf(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    support: Counter[str] = Counter(y_true)
    for t, p in zip(y_true, y_pred):
        if t == p:
            tp[t] += 1
        else:
            fp[p] += 1
            fn[t] += 1
    out = {}
    for lab in labels:
        p = tp[lab] / (tp[lab] + fp[lab]) if tp[lab] + fp[lab] else 0.0
        r = tp[lab] / (tp[lab] + fn[lab]) if tp[lab] + fn[lab] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        out[lab] = {"precision": p, "recall": r, "f1": f, "support": support[lab]}
    return out


def intent_metrics(y_true: Sequence[str], y_pred: Sequence[str], top_confusions: int = 10) -> dict[str, Any]:
    """accuracy, in-scope accuracy, out-of-scope recall/precision, macro F1, per intent, confusions."""
    n = len(y_true)
    labels = sorted(set(y_true) | set(y_pred))
    per = _prf(y_true, y_pred, labels)
    in_idx = [i for i, t in enumerate(y_true) if t != OUT_OF_SCOPE]
    oos_idx = [i for i, t in enumerate(y_true) if t == OUT_OF_SCOPE]
    pred_oos = [i for i, p in enumerate(y_pred) if p == OUT_OF_SCOPE]
    true_labels = [lab for lab in labels if per[lab]["support"] > 0]
    conf = Counter((t, p) for t, p in zip(y_true, y_pred) if t != p)
    return {
        "examples": n,
        "accuracy": sum(t == p for t, p in zip(y_true, y_pred)) / n if n else 0.0,
        "in_scope_accuracy": sum(y_true[i] == y_pred[i] for i in in_idx) / len(in_idx) if in_idx else 0.0,
        "out_of_scope_recall": sum(y_pred[i] == OUT_OF_SCOPE for i in oos_idx) / len(oos_idx) if oos_idx else None,
        "out_of_scope_precision": (sum(y_true[i] == OUT_OF_SCOPE for i in pred_oos) / len(pred_oos)
                                   if pred_oos else None),
        "macro_f1": sum(per[lab]["f1"] for lab in true_labels) / len(true_labels) if true_labels else 0.0,
        "per_intent": per,
        "confused": [{"true": t, "predicted": p, "count": c} for (t, p), c in conf.most_common(top_confusions)],
    }


def sentiment_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    per = _prf(y_true, y_pred, SENTIMENT_LABELS)
    present = [lab for lab in SENTIMENT_LABELS if per[lab]["support"] > 0]
    n = len(y_true)
    majority = Counter(y_true).most_common(1)[0][1] / n if n else 0.0
    return {
        "examples": n,
        "accuracy": sum(t == p for t, p in zip(y_true, y_pred)) / n if n else 0.0,
        "macro_f1": sum(per[lab]["f1"] for lab in present) / len(present) if present else 0.0,
        "f1": {lab: per[lab]["f1"] for lab in SENTIMENT_LABELS},
        "per_class": per,
        "always_negative_accuracy": sum(t == "negative" for t in y_true) / n if n else 0.0,
        "majority_class_accuracy": majority,
    }


def _rate(model: IntentModel, texts: Sequence[str], limit: int = 3000) -> float:
    sample = list(texts[:limit])
    t0 = time.perf_counter()
    for t in sample:
        model.predict(t)
    dt = time.perf_counter() - t0
    return len(sample) / dt if dt > 0 else 0.0


def evaluate_intent_files(train_path: str | Path, test_path: str | Path, *, seed: int = 42,
                          config: IntentConfig | None = None, note: Note | None = None) -> dict[str, Any]:
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
    metrics.update({"train_seconds": round(train_seconds, 3), "messages_per_second": round(_rate(model, texts), 1),
                    "train_examples": len(train), "oos_threshold": model.threshold,
                    "temperature": model.linear.temperature})
    say("done", 3, 3)
    return metrics


def _stratified_folds(examples: Sequence[Example], folds: int, seed: int) -> list[int]:
    """The fold (0..folds-1) of each example, each label spread evenly over the folds."""
    by_label: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        by_label.setdefault(e.label, []).append(i)
    fold_of = [0] * len(examples)
    rng = random.Random(seed)
    for lab in sorted(by_label):
        idx = by_label[lab][:]
        rng.shuffle(idx)
        for k, i in enumerate(idx):
            fold_of[i] = k % folds
    return fold_of


def cross_validate(examples: Sequence[Example], *, folds: int = 5, seed: int = 42,
                   config: IntentConfig | None = None, note: Note | None = None) -> dict[str, Any]:
    """Stratified k-fold cross-validation on the bot's own examples (predictions pooled)."""
    say = note or (lambda *_a: None)
    fold_of = _stratified_folds(examples, folds, seed)
    y_true: list[str] = []
    y_pred: list[str] = []
    t0 = time.perf_counter()
    for k in range(folds):
        say(f"fold {k + 1}/{folds}", k, folds)
        tr = [e for i, e in enumerate(examples) if fold_of[i] != k]
        te = [e for i, e in enumerate(examples) if fold_of[i] == k]
        if not te:
            continue
        model = IntentModel.fit([e.text for e in tr], [e.label for e in tr], config, seed=seed)
        y_true += [e.label for e in te]
        y_pred += [p[0] for p in model.predict_many([e.text for e in te])]
    say("done", folds, folds)
    metrics = intent_metrics(y_true, y_pred)
    metrics.update({"folds": folds, "train_seconds": round(time.perf_counter() - t0, 3)})
    return metrics


def evaluate_sentiment_files(test_path: str | Path, *, model: SentimentModel | None = None,
                             train_path: str | Path | None = None, seed: int = 42) -> dict[str, Any]:
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
    fold_of = _stratified_folds(examples, folds, seed)
    y_true: list[str] = []
    y_pred: list[str] = []
    for k in range(folds):
        tr = [e for i, e in enumerate(examples) if fold_of[i] != k]
        te = [e for i, e in enumerate(examples) if fold_of[i] == k]
        model = SentimentModel.fit([e.text for e in tr], [e.label for e in tr], seed=seed)
        y_true += [e.label for e in te]
        y_pred += [lab for _s, lab in model.predict_many([e.text for e in te])]
    return sentiment_metrics(y_true, y_pred)
