"""Sentiment benchmark: cross-validation of the shipped data, then every held-out evaluation file.

    python benchmarks/nlu_sentiment.py [--data-dir nlu/data/sentiment] [--folds 5] [--dev] \
        [--test FILE.jsonl --lang en] [--out benchmarks/results/nlu_sentiment.json]

For each language: stratified k-fold cross-validation of ``<lang>.jsonl``; then the model trained
on all of ``<lang>.jsonl`` scores each evaluation file of that language (never trained on, no
near-duplicate of a training message: tests/nlu/test_no_eval_leak.py):

- ``eval_tweets_en.jsonl``: airline-tweet-style messages written apart from the training data;
- ``eval_public_en.jsonl`` / ``eval_public_fr.jsonl``: public review data (out of the service domain);
- ``tests/nlu/data/sentiment_heldout_<lang>.jsonl``: tweet-style held-out messages.

Prints accuracy, macro F1, per-class recall (with a 95% Wilson interval) and F1, next to the
always-negative baseline, and the trained model's ``predict`` time per message (median of 5 passes).

``--dev`` also compares training settings on a dev split carved from the TRAINING data (20%,
stratified, seed 42): class weights none/balanced x C 1/4/10, scored by balanced recall (the mean
of the per-class recalls). The shipped ``SentimentConfig`` was chosen this way, never on an
evaluation file.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from common import ROOT, default_out, write_result
from nlu.data import SHIPPED_SENTIMENT_DIR, Example, read_sentiment_file
from nlu.evaluation import cross_validate_sentiment, sentiment_metrics
from nlu.sentiment_model import SentimentConfig, SentimentModel

LABELS = ("negative", "neutral", "positive")


def wilson(k: int, n: int, z: float = 1.96) -> list[float] | None:
    """95% Wilson score interval of a proportion k/n (None when n == 0)."""
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(c - h, 4), round(c + h, 4)]


def evaluation_files(data_dir: Path) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    held = ROOT / "tests" / "nlu" / "data"
    for p in [*sorted(data_dir.glob("eval_*.jsonl")), *sorted(held.glob("sentiment_heldout_*.jsonl"))]:
        out.setdefault(p.stem.rsplit("_", 1)[-1], []).append(p)
    return out


def score(model: SentimentModel, test: list[Example]) -> dict[str, Any]:
    texts = [e.text for e in test]
    m = sentiment_metrics([e.label for e in test], [lab for _s, lab in model.predict_many(texts)])
    m["recall_ci95"] = {
        lab: wilson(round(c["recall"] * c["support"]), c["support"]) for lab, c in m["per_class"].items()
    }
    passes = []
    for _ in range(5):
        t0 = time.perf_counter()
        for t in texts:
            model.predict(t)
        passes.append((time.perf_counter() - t0) / max(len(texts), 1) * 1e6)
    m["predict_us_per_message"] = round(statistics.median(passes), 1)
    return m


def dev_settings(examples: list[Example], seed: int) -> list[dict[str, Any]]:
    """Each setting trained on 80% of the training data and scored on the other 20% (stratified)."""
    from sklearn.model_selection import train_test_split

    idx = list(range(len(examples)))
    tr, dv = train_test_split(idx, test_size=0.2, random_state=seed, stratify=[e.label for e in examples])
    rows = []
    for cw, c in itertools.product((None, "balanced"), (1.0, 4.0, 10.0)):
        cfg = SentimentConfig(C=c, class_weight=cw)
        model = SentimentModel.fit([examples[i].text for i in tr], [examples[i].label for i in tr], cfg, seed=seed)
        pred = [lab for _s, lab in model.predict_many([examples[i].text for i in dv])]
        m = sentiment_metrics([examples[i].label for i in dv], pred)
        present = [lab for lab in LABELS if m["per_class"][lab]["support"]]
        rows.append(
            {
                "class_weight": cw,
                "C": c,
                "dev_examples": len(dv),
                "balanced_recall": sum(m["per_class"][lab]["recall"] for lab in present) / len(present),
                "accuracy": m["accuracy"],
                "macro_f1": m["macro_f1"],
                "recall": m["recall"],
            }
        )
    return rows


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=SHIPPED_SENTIMENT_DIR)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dev", action="store_true", help="compare training settings on a dev split of the training data")
    ap.add_argument("--test", type=Path, help="one more evaluation file (JSONL), scored by the --lang model")
    ap.add_argument("--lang", default="en")
    ap.add_argument("--out", type=Path, default=default_out("nlu_sentiment"))
    args = ap.parse_args()
    results: dict[str, dict[str, Any]] = {}
    dev: dict[str, list[dict[str, Any]]] = {}
    evals = evaluation_files(args.data_dir)
    if args.test:
        evals.setdefault(args.lang, []).append(args.test)
    for path in sorted(args.data_dir.glob("*.jsonl")):
        if len(path.stem) > 3:  # <lang>.jsonl only: the eval_* files are never trained on
            continue
        lang = path.stem
        examples = read_sentiment_file(path)
        results[f"{lang} ({args.folds}-fold CV)"] = cross_validate_sentiment(examples, folds=args.folds, seed=args.seed)
        if args.dev:
            dev[lang] = dev_settings(examples, args.seed)
        t0 = time.perf_counter()
        model = SentimentModel.fit([e.text for e in examples], [e.label for e in examples], seed=args.seed)
        train_seconds = round(time.perf_counter() - t0, 3)
        for test in evals.get(lang, []):
            m = score(model, read_sentiment_file(test))
            m["train_seconds"] = train_seconds
            results[f"{lang} on {test.name}"] = m
    table = Table(title=f"sentiment ({SentimentConfig()})")
    cols = ("data", "n", "acc.", "macro F1", "recall neg", "recall neu", "recall pos", "F1 neg", "F1 neu", "F1 pos")
    for col in (*cols, "always-neg acc.", "us/msg"):
        table.add_column(col)
    for name, m in results.items():
        rec = m["recall"]
        table.add_row(
            name,
            str(m["examples"]),
            _pct(m["accuracy"]),
            _pct(m["macro_f1"]),
            *(_pct(rec[lab]) for lab in LABELS),
            *(_pct(m["f1"][lab] if rec[lab] is not None else None) for lab in LABELS),
            _pct(m["always_negative_accuracy"]),
            str(m.get("predict_us_per_message", "")),
        )
    Console(width=200).print(table)
    for lang, rows in dev.items():
        t = Table(title=f"{lang}: settings on a 20% dev split of the training data (seed {args.seed})")
        for col in ("class_weight", "C", "balanced recall", "accuracy", "macro F1"):
            t.add_column(col)
        for r in rows:
            t.add_row(
                str(r["class_weight"]),
                str(r["C"]),
                _pct(r["balanced_recall"]),
                _pct(r["accuracy"]),
                _pct(r["macro_f1"]),
            )
        Console(width=160).print(t)
    slim = {k: {kk: vv for kk, vv in v.items() if kk != "per_class"} for k, v in results.items()}
    payload: dict[str, Any] = {"results": slim, "config": SentimentConfig().as_dict()}
    if dev:
        payload["dev_split_settings"] = dev
    write_result(args.out, payload, folds=args.folds, seed=args.seed, data_dir=str(args.data_dir))


if __name__ == "__main__":
    main()
