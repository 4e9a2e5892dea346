"""Intent benchmark: CLINC150 (train -> val) and BANKING77 (seeded 80/20 split).

    python benchmarks/nlu_intents.py --clinc /work/shared/datasets/clinc150 \
        --banking /work/shared/datasets/banking77 [--out benchmarks/results/nlu_intents.json] [--seed 42]

Trains with the default settings any brand gets (nlu.intent_model.IntentConfig())
and prints in-scope accuracy, out-of-scope recall/precision, macro F1, train time
and the classifier's rate one message at a time. Also prints the same model with
no out-of-scope threshold (the "oos-train" column of Larson et al. 2019).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from common import default_out, write_result
from nlu.data import load_jsonl
from nlu.evaluation import evaluate_intent_files, intent_metrics
from nlu.intent_model import IntentModel, stratified_split


def run(name: str, train: Path, test: Path, seed: int) -> dict:
    m = evaluate_intent_files(train, test, seed=seed)
    # the same recipe without a threshold, for comparison
    tr, te = load_jsonl(train, "intent"), load_jsonl(test, "intent")
    model = IntentModel.fit([e.text for e in tr], [e.label for e in tr], seed=seed)
    model.threshold = 0.0
    no_thr = intent_metrics([e.label for e in te], [p[0] for p in model.predict_many([e.text for e in te])])
    m["no_threshold"] = {k: no_thr[k] for k in ("in_scope_accuracy", "out_of_scope_recall", "accuracy")}
    m["dataset"] = name
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clinc", type=Path, help="folder with train.jsonl and val.jsonl")
    ap.add_argument("--banking", type=Path, help="folder with train.jsonl (split 80/20 with --seed)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=default_out("nlu_intents"))
    args = ap.parse_args()
    results = []
    if args.clinc:
        results.append(run("CLINC150 (val)", args.clinc / "train.jsonl", args.clinc / "val.jsonl", args.seed))
    if args.banking:
        ex = load_jsonl(args.banking / "train.jsonl", "intent")
        tr, te = stratified_split([e.label for e in ex], 0.2, args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for part, idx in (("train", tr), ("test", te)):
                p = Path(tmp) / f"{part}.jsonl"
                p.write_text(
                    "".join(json.dumps({"text": ex[i].text, "intent": ex[i].label}) + "\n" for i in idx),
                    encoding="utf-8",
                )
                paths.append(p)
            results.append(run(f"BANKING77 (seed {args.seed} 80/20)", paths[0], paths[1], args.seed))
    table = Table(title="intent classification, default settings")
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

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}"

    for m in results:
        nt = m["no_threshold"]
        table.add_row(
            m["dataset"],
            pct(m["in_scope_accuracy"]),
            pct(m["out_of_scope_recall"]),
            pct(m["out_of_scope_precision"]),
            pct(m["accuracy"]),
            pct(m["macro_f1"]),
            f"{pct(nt['in_scope_accuracy'])} / {pct(nt['out_of_scope_recall'])}",
            f"{m['train_seconds']:.1f}",
            f"{m['messages_per_second']:.0f}",
        )
    Console(width=160).print(table)
    slim = [{k: v for k, v in m.items() if k not in ("per_intent",)} for m in results]
    write_result(
        args.out,
        {"results": slim},
        seed=args.seed,
        clinc=str(args.clinc) if args.clinc else None,
        banking=str(args.banking) if args.banking else None,
    )


if __name__ == "__main__":
    main()
