"""Parse speed, one message at a time on one core, beside the bare intent classifier.

    python benchmarks/nlu_speed.py --data bots/airline/nlu [--clinc /work/shared/datasets/clinc150] \
        [--messages 3000] [--out benchmarks/results/nlu_speed.json]

Trains the demo airline NLU (en, fr) into a temp folder, then times, in the same run:
- ``NLU.parse`` (language + intent + entities + sentiment) over a mix of messages
  (CLINC150 val texts if given, plus the bot's own examples in both languages);
- the bare intent classifier (``IntentModel.predict``) of the same pipeline;
- with --clinc: the same two numbers with the English intent component trained on
  CLINC150 (151 classes, a much bigger model than the demo's).
Dates are resolved against a fixed clock; caches are warmed by one pass first.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import nlu
from common import default_out, nlu_data_state, write_result
from nlu.components import INTENTS, IntentComponent
from nlu.data import load_examples, load_jsonl
from nlu.intent_model import IntentModel


def rate(fn, texts) -> float:
    for t in texts:  # warm caches
        fn(t)
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        best = max(best, len(texts) / (time.perf_counter() - t0))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("bots/airline/nlu"))
    ap.add_argument("--clinc", type=Path)
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--out", type=Path, default=default_out("nlu_speed"))
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    texts = [e.text for lang in ("en", "fr") for e in load_examples(args.data, lang)]
    if args.clinc:
        texts = [e.text for e in load_jsonl(args.clinc / "val.jsonl", "intent")][: args.messages] + texts
    texts = (texts * (args.messages // max(1, len(texts)) + 1))[: args.messages]
    ctx = nlu.ParseContext(datetime(2026, 11, 28, 10, tzinfo=UTC), "Europe/Paris", "en")
    rows: list[dict[str, Any]] = []
    data = nlu_data_state(args.data)  # read before training: another process may edit the data meanwhile
    with tempfile.TemporaryDirectory() as tmp:
        nlu.train(args.data, tmp, ["en", "fr"])
        engine = nlu.NLU.load(tmp, ["en", "fr"], "en")
        component = engine.pipelines["en"].get_pipe(INTENTS)
        assert isinstance(component, IntentComponent)
        intents = component.model
        assert intents is not None, "a trained pipeline has its intent model"
        rows.append(
            {
                "model": "demo airline (en+fr)",
                "parse_per_second": rate(lambda t: engine.parse(t, context=ctx), texts),
                "intent_per_second": rate(intents.predict, texts),
            }
        )
        if args.clinc:
            tr = load_jsonl(args.clinc / "train.jsonl", "intent")
            big = IntentModel.fit([e.text for e in tr], [e.label for e in tr])
            component.model = big
            rows.append(
                {
                    "model": "English intents = CLINC150 (151 classes)",
                    "parse_per_second": rate(lambda t: engine.parse(t, context=ctx), texts),
                    "intent_per_second": rate(big.predict, texts),
                }
            )
    table = Table(title=f"messages per second, one at a time, one core ({len(texts)} messages)")
    for col in ("model", "full parse", "bare intent classifier"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["model"], f"{r['parse_per_second']:.0f}", f"{r['intent_per_second']:.0f}")
    Console(width=160).print(table)
    write_result(
        args.out,
        {"messages": len(texts), "results": rows, **data},
        one_core=True,
        data_dir=str(args.data),
        clinc=str(args.clinc) if args.clinc else None,
    )


if __name__ == "__main__":
    main()
