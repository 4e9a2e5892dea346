"""What every benchmark shares: the repository on ``sys.path``, where results go, the run's conditions.

Each benchmark writes one JSON file, by default ``benchmarks/results/<name>.json``;
``python benchmarks/report.py`` turns those files into the tables of benchmarks/README.md.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"

__all__ = ["RESULTS", "ROOT", "conditions", "default_out", "nlu_data_state", "write_result"]


def default_out(name: str) -> Path:
    """``benchmarks/results/<name>.json``: the file report.py reads for the table ``name``."""
    return RESULTS / f"{name}.json"


def cpu_calibration_us() -> float:
    """Best of 5 x 200 ``sum(range(10000))`` in microseconds: how fast this CPU ran (shared machines vary by days)."""
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(200):
            sum(range(10000))
        best = min(best, (time.perf_counter() - t) / 200)
    return round(best * 1e6, 1)


def conditions(**extra: Any) -> dict[str, Any]:
    """When and on what a run happened (CPUs, load average, a CPU probe, Python), plus the benchmark's settings."""
    load = [round(x, 1) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average_at_end": load,
        "cpu_probe_us": cpu_calibration_us(),
        "python": platform.python_version(),
        "argv": sys.argv[1:],
        **extra,
    }


def nlu_data_state(folder: Path | None = None) -> dict[str, Any]:
    """What NLU data was measured: a hash of ``folder/*.yml`` (default the demo's) and intents per language."""
    import hashlib

    import yaml

    h = hashlib.sha256()
    intents = {}
    for f in sorted((folder or ROOT / "bots" / "airline" / "nlu").glob("*.yml")):
        raw = f.read_bytes()
        h.update(f.name.encode() + raw)
        intents[f.stem] = len((yaml.safe_load(raw) or {}).get("intents") or {})
    return {"nlu_data_sha256": h.hexdigest()[:16], "intents": intents}


def write_result(path: Path, result: dict[str, Any], /, **settings: Any) -> Path:
    """Write ``result`` plus ``"conditions"`` (``settings`` included) as JSON to ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**result, "conditions": {**conditions(**settings), **result.get("conditions", {})}}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return path


def mean_std(values: Sequence[float | None]) -> dict[str, Any] | None:
    """Mean and sample standard deviation (n - 1; 0.0 for one value) of ``values``, with min, max
    and n; None when there is none or any is None (a metric a data set does not have)."""
    if not values or any(v is None for v in values):
        return None
    vals = [float(v) for v in values if v is not None]
    n = len(vals)
    mean = sum(vals) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "min": min(vals), "max": max(vals), "n": n}
