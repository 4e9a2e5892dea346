"""The pure parts of the benchmarks: mean ± std over seeds/runs, the airline workload, the README tables."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import airline_turn  # noqa: E402
import nlu_intents  # noqa: E402
import report  # noqa: E402


def test_mean_std_is_the_sample_standard_deviation() -> None:
    s = nlu_intents.mean_std([0.9, 0.92, 0.94])
    assert s is not None
    assert s["mean"] == pytest.approx(0.92)
    assert s["std"] == pytest.approx(0.02)  # n - 1 in the denominator
    assert (s["min"], s["max"], s["n"]) == (0.9, 0.94, 3)
    one = nlu_intents.mean_std([0.5])
    assert one is not None and one["std"] == 0.0
    assert nlu_intents.mean_std([0.5, None]) is None  # BANKING77 has no out-of-scope recall
    assert nlu_intents.mean_std([]) is None


def _run(seed: int, acc: float, oos: float | None) -> dict:
    return {
        "seed": seed,
        "in_scope_accuracy": acc,
        "out_of_scope_recall": oos,
        "out_of_scope_precision": None if oos is None else 0.5,
        "accuracy": acc,
        "macro_f1": acc,
        "train_seconds": 10.0 + seed,
        "messages_per_second": 1000.0,
        "temperature": 5.0,
        "oos_threshold": 0.3,
        "no_threshold": {"in_scope_accuracy": acc, "out_of_scope_recall": oos, "accuracy": acc},
    }


def test_summary_and_table_show_mean_std_and_the_per_seed_rows() -> None:
    runs = [_run(1, 0.90, 0.6), _run(2, 0.92, 0.7)]
    s = nlu_intents.summarise(runs)
    assert s["in_scope_accuracy"]["mean"] == pytest.approx(0.91)
    assert s["in_scope_accuracy"]["std"] == pytest.approx(math.sqrt(2) * 0.01)
    assert s["no_threshold"]["out_of_scope_recall"]["mean"] == pytest.approx(0.65)
    data = {
        "results": [
            {"dataset": "X (val)", "varies": "held-out split", "train_examples": 100, "examples": 20,
             "seeds": [1, 2], "summary": s, "runs": runs},
            {"dataset": "Y", "varies": "split", "train_examples": 80, "examples": 20, "seeds": [1, 2],
             "summary": nlu_intents.summarise([_run(1, 0.8, None), _run(2, 0.8, None)]),
             "runs": [_run(1, 0.8, None), _run(2, 0.8, None)]},
        ]
    }  # fmt: skip
    table = report.nlu_intents(data)
    assert "**91.0 ± 1.4**" in table
    assert "65.0 ± 7.1" in table and "seed varies the held-out split" in table
    assert "sample standard deviation (n - 1) over 2 seeds (1, 2)" in table
    assert "X (val): 1: 90.0 / 60.0, 2: 92.0 / 70.0" in table and "Y: 1: 80.0, 2: 80.0" in table
    assert "| - | - |" in table  # no out-of-scope figures for a closed-world data set


def test_the_single_seed_json_still_renders() -> None:
    one = _run(42, 0.925, 0.64) | {"dataset": "CLINC150 (val)", "train_examples": 15100, "examples": 3100}
    assert "**92.5**" in report.nlu_intents({"results": [one]})


def test_airline_workload_keeps_each_customer_in_order() -> None:
    wl = airline_turn.workload(200)
    assert len(wl) == 200
    scripts = [[s] for s in airline_turn.SINGLES] + airline_turn.CONVERSATIONS
    by_customer: dict[int, list[str]] = {}
    for customer, text in wl:
        by_customer.setdefault(customer, []).append(text)
    for customer, texts in by_customer.items():
        script = scripts[customer % len(scripts)]
        assert texts == script[: len(texts)]
    assert airline_turn.workload(200) == wl  # fixed, not random


def test_spread_percentile_and_the_airline_table() -> None:
    assert airline_turn.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    s = airline_turn.spread([10.0, 20.0, 30.0])
    assert (s["mean"], s["std"], s["min"], s["max"]) == (20.0, 10.0, 10.0, 30.0)
    runs = []
    for r, (e, a) in enumerate(((200.0, 40.0), (100.0, 40.0))):
        one = {"drain_replies_per_second": e, "paced_p50_ms": 8.0, "paced_p99_ms": 16.0}
        two = {"drain_replies_per_second": a, "paced_p50_ms": 24.0, "paced_p99_ms": 80.0}
        row: dict[str, Any] = {"run": r + 1}
        for kind, m in (("echo", one), ("airline", two)):
            row[kind] = {**m, "answered": 10, "inbound": 10, "outbound_messages": 12, "duplicates": 0}
        runs.append(row)
    s = airline_turn.summary(runs)
    assert s["ratio_airline_to_echo"]["drain_replies_per_second"]["mean"] == pytest.approx(0.3)  # (0.2 + 0.4) / 2
    assert s["ratio_airline_to_echo"]["paced_p99_ms"]["mean"] == pytest.approx(5.0)
    table = report.airline_turn(
        {"runs": runs, "summary": s, "conditions": {"rate": 10.0, "burst": 5, "paced": 5}, "intents": {"en": 3}}
    )
    assert "| drain: messages answered/s | 150 ± 71 (100-200) | 40 ± 0 (40-40) | **0.30** ± 0.14 (0.20-0.40) |" in table
    assert "airline 20/20 (24 airline replies sent)" in table


def test_the_speed_table_names_the_data_it_measured() -> None:
    d = {"messages": 10, "results": [{"model": "m", "parse_per_second": 1.0, "intent_per_second": 2.0}]}
    assert "best of 3 passes.)" in report.nlu_speed(d)
    d |= {"nlu_data_sha256": "abc", "intents": {"en": 3, "fr": 2}}
    assert "best of 3 passes; demo NLU data `abc`, intents en 3, fr 2.)" in report.nlu_speed(d)
