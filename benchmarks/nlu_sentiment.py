"""Sentiment benchmark: stratified k-fold cross-validation of the shipped data, per language.

    python benchmarks/nlu_sentiment.py [--data-dir nlu/data/sentiment] [--folds 5] \
        [--test FILE.jsonl --lang en] [--out benchmarks/results/nlu_sentiment.json]

Prints accuracy, macro F1, per-class F1, next to the always-negative and the
majority-class baselines. With --test, also scores the model trained on all the
shipped data of --lang on that file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from common import default_out, write_result
from nlu.data import SHIPPED_SENTIMENT_DIR, read_sentiment_file
from nlu.evaluation import cross_validate_sentiment, evaluate_sentiment_files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=SHIPPED_SENTIMENT_DIR)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--test", type=Path)
    ap.add_argument("--lang", default="en")
    ap.add_argument("--out", type=Path, default=default_out("nlu_sentiment"))
    args = ap.parse_args()
    results = {}
    for path in sorted(args.data_dir.glob("*.jsonl")):
        if len(path.stem) > 3:  # <lang>.jsonl only (not eval_tweets_en.jsonl, which is never trained on)
            continue
        examples = read_sentiment_file(path)
        results[f"{path.stem} ({args.folds}-fold CV)"] = cross_validate_sentiment(
            examples, folds=args.folds, seed=args.seed
        )
    if args.test:
        results[f"{args.lang} on {args.test.name}"] = evaluate_sentiment_files(
            args.test, train_path=args.data_dir / f"{args.lang}.jsonl", seed=args.seed
        )
    table = Table(title="sentiment")
    for col in ("data", "n", "accuracy", "macro F1", "F1 neg", "F1 neu", "F1 pos", "always-neg acc.", "majority acc."):
        table.add_column(col)
    for name, m in results.items():
        f = m["f1"]
        table.add_row(
            name,
            str(m["examples"]),
            f"{100 * m['accuracy']:.1f}",
            f"{100 * m['macro_f1']:.1f}",
            f"{100 * f['negative']:.1f}",
            f"{100 * f['neutral']:.1f}",
            f"{100 * f['positive']:.1f}",
            f"{100 * m['always_negative_accuracy']:.1f}",
            f"{100 * m['majority_class_accuracy']:.1f}",
        )
    Console(width=160).print(table)
    slim = {k: {kk: vv for kk, vv in v.items() if kk != "per_class"} for k, v in results.items()}
    write_result(args.out, {"results": slim}, folds=args.folds, seed=args.seed, data_dir=str(args.data_dir))


if __name__ == "__main__":
    main()
