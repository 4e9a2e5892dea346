"""Rewrite the tables of benchmarks/README.md from the JSON the benchmarks wrote.

    .venv/bin/python benchmarks/report.py           # rewrite the tables in place
    .venv/bin/python benchmarks/report.py --check   # exit 1 if the README is not up to date

A table sits between ``<!-- table:NAME -->`` and ``<!-- /table -->``; it is made from
``benchmarks/results/NAME.json`` (what ``benchmarks/NAME.py`` writes by default), followed by
the run's conditions. A table whose JSON does not exist yet keeps its text, under a note.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
RESULTS = HERE / "results"
MARKED = re.compile(r"(?P<open><!-- table:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(?P<close><!-- /table -->)", re.S)
NO_JSON = "*(No `benchmarks/results/{name}.json` yet: this table was copied by hand from an earlier run.)*\n"


def _n(v: float | None, digits: int = 0) -> str:
    """1234.5 -> '1,234' (digits=0) or '1,234.5'; None -> ''."""
    return "" if v is None else f"{v:,.{digits}f}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _pm(s: dict[str, Any] | None, scale: float = 100.0, digits: int = 1) -> str:
    """{"mean", "std"} -> '92.4 ± 0.1' (x ``scale``); None -> '-'."""
    return "-" if s is None else f"{scale * s['mean']:,.{digits}f} ± {scale * s['std']:,.{digits}f}"


def _nlu_intents_one_seed(d: dict[str, Any]) -> str:
    """The table of a single-seed JSON (before ``--seeds``)."""
    rows = []
    for m in d["results"]:
        sizes = f" (train {m['train_examples']:,} / test {m['examples']:,})" if "train_examples" in m else ""
        rows.append(
            [
                f"{m['dataset']}{sizes}",
                f"**{_pct(m['in_scope_accuracy'])}**",
                _pct(m.get("out_of_scope_recall")),
                _pct(m.get("out_of_scope_precision")),
                _pct(m["accuracy"]),
                _pct(m["macro_f1"]),
                f"{m['train_seconds']:.1f} s",
                _n(m["messages_per_second"]),
            ]
        )
    head = ["data set", "in-scope acc.", "oos recall", "oos precision", "accuracy", "macro F1", "train"]
    return _table([*head, "classifier msgs/s"], rows)


def nlu_intents(d: dict[str, Any]) -> str:
    if not d["results"] or "summary" not in d["results"][0]:
        return _nlu_intents_one_seed(d)
    rows = []
    seeds: list[int] = []
    for m in d["results"]:
        s = m["summary"]
        seeds = m["seeds"]
        rows.append(
            [
                f"{m['dataset']} (train {m['train_examples']:,} / test {m['examples']:,}); seed varies the "
                f"{m['varies']}",
                f"**{_pm(s['in_scope_accuracy'])}**",
                _pm(s["out_of_scope_recall"]),
                _pm(s["out_of_scope_precision"]),
                _pm(s["accuracy"]),
                _pm(s["macro_f1"]),
                f"{_pm(s['train_seconds'], 1.0)} s",
                _pm(s["messages_per_second"], 1.0, 0),
            ]
        )
        nt = s.get("no_threshold") or {}
        if nt.get("out_of_scope_recall") is not None:
            rows.append(
                [
                    "same models, no threshold",
                    _pm(nt["in_scope_accuracy"]),
                    _pm(nt["out_of_scope_recall"]),
                    *[""] * 5,
                ]
            )
    per_seed = "; ".join(
        f"{m['dataset']}: "
        + ", ".join(
            f"{r['seed']}: {_pct(r['in_scope_accuracy'])}"
            + (f" / {_pct(r['out_of_scope_recall'])}" if r.get("out_of_scope_recall") is not None else "")
            for r in m["runs"]
        )
        for m in d["results"]
    )
    head = ["data set", "in-scope acc.", "oos recall", "oos precision", "accuracy", "macro F1", "train"]
    return (
        _table([*head, "classifier msgs/s"], rows)
        + f"\n(Mean ± sample standard deviation (n - 1) over {len(seeds)} seeds ({', '.join(map(str, seeds))}); "
        f"per seed, in-scope accuracy / oos recall: {per_seed}.)\n"
    )


def nlu_speed(d: dict[str, Any]) -> str:
    rows = [
        [r["model"], f"{_n(r['parse_per_second'])} msgs/s", f"{_n(r['intent_per_second'])} msgs/s"]
        for r in d["results"]
    ]
    return (
        _table(["model", "full `NLU.parse` (language + intent + entities + sentiment)", "bare intent classifier"], rows)
        + f"\n({d['messages']:,} messages, one at a time, pinned to one core, best of 3 passes"
        + (
            f"; demo NLU data `{d['nlu_data_sha256']}`, intents "
            + ", ".join(f"{lang} {n}" for lang, n in d.get("intents", {}).items())
            if "nlu_data_sha256" in d
            else ""
        )
        + ".)\n"
    )


def nlu_sentiment(d: dict[str, Any]) -> str:
    """Per evaluation: accuracy, macro F1 over the classes present, per-class recall ("-": the
    file has no message of that class)."""

    def recall(m: dict[str, Any], label: str) -> str:
        r = (m.get("recall") or {}).get(label)
        return "-" if r is None else _pct(r)

    rows = []
    for name, m in d["results"].items():
        rows.append(
            [
                name,
                _n(m["examples"]),
                _pct(m["accuracy"]),
                _pct(m["macro_f1"]),
                " / ".join(recall(m, c) for c in ("negative", "neutral", "positive")),
                _pct(m["always_negative_accuracy"]),
            ]
        )
    return _table(["data", "n", "accuracy", "macro F1", "recall neg / neu / pos", "always-negative accuracy"], rows)


def dialogue_turns(d: dict[str, Any]) -> str:
    rows = [["engine decision logic only (pure)", _n(d["engine_only_turns_per_second"]), "0", "", ""]]
    labels = {
        "runtime_1_thread": "full turn, 1 thread (fixed NLU results, no model)",
        "runtime_with_trained_nlu_1_thread": "full turn with the trained NLU, 1 thread",
    }
    for key, r in d.items():
        if not key.startswith("runtime_"):
            continue
        label = labels.get(key, f"full turn, {r['threads']} threads (fixed NLU results)")
        rows.append(
            [
                label,
                _n(r["turns_per_second"]),
                f"{r['redis_round_trips_per_turn']:g}",
                f"{r['p50_ms']:.1f} ms",
                f"{r['p95_ms']:.1f} ms",
            ]
        )
    order = {"engine": 0, "full turn, 1": 1, "full turn with": 3}
    rows.sort(key=lambda r: next((v for k, v in order.items() if r[0].startswith(k)), 2))
    return (
        _table(["run", "turns/s", "Redis round trips per turn", "p50", "p95"], rows)
        + f"\n(Redis: {d.get('redis', '?')}; SQL: {d.get('sql', '?')}; NLU: fixed, precomputed results looked up by "
        "text (no model) except in the trained-NLU row; no channel send.)\n"
    )


def pipeline_ingest(d: dict[str, Any]) -> str:
    apps = list(d["best_rps"])
    rounds = sorted({r["round"] for r in d["rounds"]})
    rows = []
    for app in apps:
        per = [_n(next((r["rps"] for r in d["rounds"] if r["app"] == app and r["round"] == n), None)) for n in rounds]
        ratio = d["ratio_to_noop"].get(app)
        rows.append([f"`{app}`", *per, f"**{_n(d['best_rps'][app])}**", "" if ratio is None else f"{ratio:.2f}"])
    return _table(["app", *[f"round {n + 1} req/s" for n in rounds], "best req/s", "ratio to no-op (best)"], rows)


def pipeline_e2e(d: dict[str, Any]) -> str:
    rows = [
        [
            str(r["workers"]),
            _n(r["drain_replies_per_second"]),
            _n(r["paced_p50_ms"], 1),
            _n(r["paced_p99_ms"], 1),
            f"{r['replies']:,}/{r['inbound']:,}",
            str(r["duplicates"]),
        ]
        for r in d["runs"]
    ]
    c = d["conditions"]
    return (
        _table(["workers", "drain replies/s", "paced p50 ms", "paced p99 ms", "replies/inbound", "duplicates"], rows)
        + "\n(Echo turn: the reply is the message's text, no NLU, no dialogue. "
        f"Deliveries in {d['sql']}; turn delay {c.get('turn_delay', 0)} s; burst {c.get('burst')}, "
        f"paced {c.get('paced')} at {c.get('rate')}/s.)\n"
    )


def airline_turn(d: dict[str, Any]) -> str:
    s, c = d["summary"], d["conditions"]
    labels = {
        "drain_replies_per_second": "drain: messages answered/s",
        "paced_p50_ms": f"paced {c.get('rate', '?'):g}/s: p50 ms, webhook -> first reply",
        "paced_p99_ms": f"paced {c.get('rate', '?'):g}/s: p99 ms",
    }
    rows = []
    for k, label in labels.items():
        e, a, r = s["echo"][k], s["airline"][k], s["ratio_airline_to_echo"][k]
        digits = 0 if k.startswith("drain") else 1
        rows.append(
            [
                label,
                f"{_pm(e, 1.0, digits)} ({_n(e['min'], digits)}-{_n(e['max'], digits)})",
                f"{_pm(a, 1.0, digits)} ({_n(a['min'], digits)}-{_n(a['max'], digits)})",
                f"**{r['mean']:.2f}** ± {r['std']:.2f} ({r['min']:.2f}-{r['max']:.2f})",
            ]
        )
    answered = {k: sum(r[k]["answered"] for r in d["runs"]) for k in ("echo", "airline")}
    inbound = {k: sum(r[k]["inbound"] for r in d["runs"]) for k in ("echo", "airline")}
    outbound = sum(r["airline"]["outbound_messages"] for r in d["runs"])
    dups = sum(r[k]["duplicates"] for r in d["runs"] for k in ("echo", "airline"))
    intents = ", ".join(f"{lang} {n}" for lang, n in d.get("intents", {}).items())
    return (
        _table(["per run", "echo turn", "airline turn", "airline / echo"], rows)
        + f"\n(Mean ± sample standard deviation (n - 1) over {len(d['runs'])} runs (min-max in brackets), "
        f"{c.get('workers', 1)} `brandbot worker` process, burst {c.get('burst')}, paced {c.get('paced')} "
        f"at {c.get('rate')}/s per turn and run; deliveries in SQLite synchronous={c.get('sqlite_sync', 'FULL')}. "
        f"Answered: echo {answered['echo']:,}/{inbound['echo']:,}, airline {answered['airline']:,}/"
        f"{inbound['airline']:,} ({outbound:,} airline replies sent); duplicates {dups}. "
        f"Demo NLU data `{d.get('nlu_data_sha256', '?')}` ({intents} intents), trained in "
        f"{d.get('nlu_train_seconds', '?')} s before the runs.)\n"
    )


def live_streams(d: dict[str, Any]) -> str:
    c, lat = d["conditions"], d["latency_ms"]
    received = d["events_received"]
    row = [
        f"{d['streams_requested']:,} streams, {c.get('requests', '?'):,} webhooks x 2, "
        f"{c.get('webhook_connections')} webhook connections, {c.get('events_per_second')} events/s",
        f"{d['streams_connected']:,} / {len(d['stream_errors'])}",
        f"{d['events_published']:,} / {received:,}",
        f"{_n(lat['p50'], 1)} / {_n(lat['p99'])} / {_n(lat['max'])} ms",
        f"{_n(d['ingest_rps_without_streams'])} / {_n(d['ingest_rps_with_streams'])} /s",
        f"{d['ingest_ratio']:.2f}",
    ]
    return _table(
        [
            "run",
            "streams open / errors",
            "events published / received",
            "publish -> received p50 / p99 / max",
            "ingest without / with streams",
            "ratio",
        ],
        [row],
    )


RENDER: dict[str, Callable[[dict[str, Any]], str]] = {
    f.__name__: f
    for f in (
        nlu_intents,
        nlu_speed,
        nlu_sentiment,
        dialogue_turns,
        pipeline_ingest,
        pipeline_e2e,
        airline_turn,
        live_streams,
    )
}


def conditions_line(name: str, d: dict[str, Any]) -> str:
    c = d.get("conditions", {})
    when = str(c.get("when", "?")).replace("T", " ").rstrip("Z")[:16]
    load = c.get("load_average_at_end")
    argv = " ".join(c.get("argv") or [])
    bits = [f"{when} UTC", f"{c.get('cpus', '?')} CPUs"]
    if load:
        bits.append(f"load average {load[0]} / {load[1]} / {load[2]} at the end")
    if c.get("cpu_probe_us"):
        bits.append(f"`sum(range(10000))` in {c['cpu_probe_us']} us")
    bits.append(f"Python {c.get('python', '?')}")
    cmd = f"`python benchmarks/{name}.py{' ' + argv if argv else ''}`"
    return f"*Generated by `benchmarks/report.py` from `benchmarks/results/{name}.json` ({cmd}; {', '.join(bits)}).*\n"


def render(text: str) -> tuple[str, list[str]]:
    """The README with every marked table rewritten; and one line per table saying what happened."""
    said: list[str] = []

    def one(m: re.Match[str]) -> str:
        name, body = m["name"], m["body"]
        path = RESULTS / f"{name}.json"
        if name not in RENDER:
            raise SystemExit(f"README.md: no renderer for <!-- table:{name} --> (known: {', '.join(RENDER)})")
        if not path.exists():
            note = NO_JSON.format(name=name)
            said.append(f"{name}: no {path.relative_to(HERE.parent)}, kept the text")
            return m["open"] + (body if body.startswith(note) else note + "\n" + body) + m["close"]
        data = json.loads(path.read_text(encoding="utf-8"))
        said.append(f"{name}: from {path.relative_to(HERE.parent)}")
        return m["open"] + RENDER[name](data) + "\n" + conditions_line(name, data) + m["close"]

    return MARKED.sub(one, text), said


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 when the README is out of date")
    args = ap.parse_args()
    before = README.read_text(encoding="utf-8")
    after, said = render(before)
    for line in said:
        print(line)
    if args.check:
        if after != before:
            print("benchmarks/README.md is out of date: run python benchmarks/report.py", file=sys.stderr)
            return 1
        return 0
    if after != before:
        README.write_text(after, encoding="utf-8")
        print(f"rewrote {README.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
