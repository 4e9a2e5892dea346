"""Intent benchmark: CLINC150 (train -> val) and BANKING77 (seeded 80/20 split), over several seeds.

    python benchmarks/nlu_intents.py --clinc /work/shared/datasets/clinc150 \
        --banking /work/shared/datasets/banking77 [--out benchmarks/results/nlu_intents.json] \
        [--seed 42] [--seeds 5]

Trains with the default settings any brand gets (nlu.intent_model.IntentConfig()) once per
seed (``--seed``, ``--seed + 1``, ... ``--seeds`` of them) and prints, per data set, the mean and
the sample standard deviation (n - 1) over the seeds of in-scope accuracy, out-of-scope
recall/precision, accuracy and macro F1, plus train time and the classifier's rate one message
at a time. What the seed changes: the model's internal 20% held-out split of the training data
(the development split the softmax temperature and the out-of-scope threshold are chosen on) and
the linear SVM's random state; for BANKING77 also the 80/20 train/test split. The reported
CLINC150 val set never takes part in choosing anything. Also prints the same model with no
out-of-scope threshold (the "oos-train" column of Larson et al. 2019). Per-seed rows are kept in
the JSON.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from common import default_out, mean_std, write_result
from nlu.data import load_jsonl
from nlu.evaluation import intent_metrics, predict_rate
from nlu.intent_model import IntentModel, stratified_split

#: the metrics summarised as mean / std over the seeds
METRICS = ("in_scope_accuracy", "out_of_scope_recall", "out_of_scope_precision", "accuracy", "macro_f1")
NO_THRESHOLD = ("in_scope_accuracy", "out_of_scope_recall", "accuracy")
OTHER = ("train_seconds", "messages_per_second", "temperature", "oos_threshold")


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """``{metric: mean_std(...)}`` over the per-seed rows (``no_threshold.*`` for the unthresholded model)."""
    out: dict[str, Any] = {k: mean_std([r[k] for r in runs]) for k in METRICS + OTHER}
    out["no_threshold"] = {k: mean_std([r["no_threshold"][k] for r in runs]) for k in NO_THRESHOLD}
    return out


def run_once(train: list, test: list, seed: int) -> dict[str, Any]:
    """Train on ``train`` with ``seed`` and score ``test``; the same model with no threshold as ``no_threshold``.

    The same steps as ``nlu.evaluation.evaluate_intent_files``, trained once for both rows.
    """
    t0 = time.perf_counter()
    model = IntentModel.fit([e.text for e in train], [e.label for e in train], seed=seed)
    train_seconds = time.perf_counter() - t0
    texts, gold = [e.text for e in test], [e.label for e in test]
    m = intent_metrics(gold, [p[0] for p in model.predict_many(texts)])
    m.pop("per_intent", None)
    m.update(
        {
            "seed": seed,
            "train_seconds": round(train_seconds, 3),
            "messages_per_second": round(predict_rate(model, texts), 1),
            "train_examples": len(train),
            "held_out": (model.info or {}).get("held_out"),
            "oos_threshold": model.threshold,
            "temperature": model.linear.temperature,
        }
    )
    model.threshold = 0.0
    no_thr = intent_metrics(gold, [p[0] for p in model.predict_many(texts)])
    m["no_threshold"] = {k: no_thr[k] for k in NO_THRESHOLD}
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clinc", type=Path, help="folder with train.jsonl and val.jsonl")
    ap.add_argument("--banking", type=Path, help="folder with train.jsonl (split 80/20 with each seed)")
    ap.add_argument("--seed", type=int, default=42, help="first seed (default 42)")
    ap.add_argument("--seeds", type=int, default=5, help="how many seeds: seed, seed+1, ... (default 5)")
    ap.add_argument("--out", type=Path, default=default_out("nlu_intents"))
    args = ap.parse_args()
    seeds = [args.seed + i for i in range(args.seeds)]
    results: list[dict[str, Any]] = []
    if args.clinc:
        tr, te = load_jsonl(args.clinc / "train.jsonl", "intent"), load_jsonl(args.clinc / "val.jsonl", "intent")
        runs = []
        for s in seeds:
            runs.append(run_once(tr, te, s))
            print(
                f"CLINC150 seed {s}: in-scope {runs[-1]['in_scope_accuracy']:.4f} oos recall "
                f"{runs[-1]['out_of_scope_recall']:.4f} ({runs[-1]['train_seconds']:.0f} s)",
                flush=True,
            )
        results.append(
            {
                "dataset": "CLINC150 (val)",
                "varies": "held-out split + SVM seed",
                "train_examples": len(tr),
                "examples": len(te),
                "seeds": seeds,
                "summary": summarise(runs),
                "runs": runs,
            }
        )
    if args.banking:
        ex = load_jsonl(args.banking / "train.jsonl", "intent")
        runs = []
        for s in seeds:
            tr_idx, te_idx = stratified_split([e.label for e in ex], 0.2, s)
            runs.append(run_once([ex[i] for i in tr_idx], [ex[i] for i in te_idx], s))
            print(
                f"BANKING77 seed {s}: accuracy {runs[-1]['accuracy']:.4f} ({runs[-1]['train_seconds']:.0f} s)",
                flush=True,
            )
        results.append(
            {
                "dataset": "BANKING77 (80/20)",
                "varies": "80/20 split + held-out split + SVM seed",
                "train_examples": runs[0]["train_examples"],
                "examples": runs[0]["examples"],
                "seeds": seeds,
                "summary": summarise(runs),
                "runs": runs,
            }
        )
    table = Table(title=f"intent classification, default settings, mean ± sample std over {len(seeds)} seeds")
    for col in (
        "data set",
        "in-scope acc.",
        "oos recall",
        "oos precision",
        "accuracy",
        "macro F1",
        "no-threshold in-scope / oos",
        "train s",
        "msgs/s",
    ):
        table.add_column(col)

    def pm(s: dict[str, Any] | None, scale: float = 100.0, digits: int = 1) -> str:
        return "-" if s is None else f"{scale * s['mean']:.{digits}f} ± {scale * s['std']:.{digits}f}"

    for r in results:
        s = r["summary"]
        nt = s["no_threshold"]
        table.add_row(
            r["dataset"],
            pm(s["in_scope_accuracy"]),
            pm(s["out_of_scope_recall"]),
            pm(s["out_of_scope_precision"]),
            pm(s["accuracy"]),
            pm(s["macro_f1"]),
            f"{pm(nt['in_scope_accuracy'])} / {pm(nt['out_of_scope_recall'])}",
            pm(s["train_seconds"], 1.0),
            pm(s["messages_per_second"], 1.0, 0),
        )
    Console(width=200).print(table)
    write_result(
        args.out,
        {"results": results},
        seed=args.seed,
        seeds=seeds,
        std="sample (n - 1)",
        clinc=str(args.clinc) if args.clinc else None,
        banking=str(args.banking) if args.banking else None,
    )


if __name__ == "__main__":
    main()
