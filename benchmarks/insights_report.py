"""The 30-day insights report over 1,000,000 feedback signal rows, against a plain ``SELECT count(*)``.

Seeds (fast, one ``INSERT ... SELECT`` per table generated in SQL) a fresh database with
``--signals`` feedback signals spread over ~58 days (90 % message, 5 % CSAT, 5 % NPS; 40 redacted
texts, 12 intents), ``--conversations`` conversations (4 messages each, a quarter handed over to a
person, half with feedback consent), then times, in the same run, ``brandbot report --json``'s
work (the period's summary and the previous period's, :func:`bots.insights.summary.summarize`)
and ``SELECT count(*) FROM feedback_signals``; prints both and their ratio (best of ``--repeat``).

    .venv/bin/python benchmarks/insights_report.py                       # SQLite file in a temp folder
    .venv/bin/python benchmarks/insights_report.py postgresql+psycopg://postgres@127.0.0.1:5432/bench

The database (a URL) must be empty or absent: the schema is migrated to head first.
Writes benchmarks/results/insights_report_<sqlite|postgresql>.json (``--out``). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bots.insights.filters import Filters
from bots.insights.rollup import rebuild
from bots.insights.summary import summarize, summarize_with_previous
from bots.stores.sql import make_engine, upgrade
from common import default_out, write_result

BASE = "2026-09-01 00:00:00"
#: the report's 30 days (the seeded signals run from BASE to about 2026-10-28).
PERIOD = Filters(date(2026, 9, 29), date(2026, 10, 28))
STEP_SECONDS = 5

TEXTS = [
    "my bag is lost",
    "lost bag again at the airport",
    "where is my bag",
    "thanks the agent was great",
    "the flight was delayed for hours",
    "delayed flight no information",
    "refund still not received",
    "refund request denied",
    "i want a refund for [BOOKING]",
    "great service thank you",
    "seat change please",
    "can i change my seat",
    "the app crashes at check in",
    "check in does not work",
    "online check in failed",
    "call me at [PHONE]",
    "my email is [EMAIL]",
    "baggage allowance for cabin",
    "how many bags can i take",
    "food was cold",
    "remboursement refusé",
    "remboursement toujours pas reçu",
    "mon bagage est perdu",
    "bagage perdu encore",
    "vol retardé sans information",
    "merci pour votre aide",
    "changer mon siège",
    "enregistrement en ligne impossible",
    "service client injoignable",
    "très bon accueil",
    "what is the weather",
    "tell me a joke",
    "hello",
    "bonjour",
    "the staff was rude",
    "rude staff at the gate",
    "upgrade to business",
    "wifi not working on board",
    "lounge access denied",
    "pet in cabin allowed",
]
INTENTS = [
    "baggage",
    "delay",
    "refund",
    "seat",
    "checkin",
    "complaint",
    "greet",
    "out_of_scope",
    "upgrade",
    "wifi",
    "lounge",
    "pets",
]
CHANNELS = ["telegram", "whatsapp", "sms", "webchat"]


def _case(expr: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expr} % {len(values)} {whens} END"


def _texts_table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_texts (k INTEGER PRIMARY KEY, t VARCHAR(200) NOT NULL)"))
        conn.execute(
            text("INSERT INTO bench_texts (k, t) VALUES (:k, :t)"), [{"k": i, "t": t} for i, t in enumerate(TEXTS)]
        )


def seed(engine: Engine, signals: int, convs: int) -> None:
    """Generate the rows in SQL (no Python loop per row)."""
    pg = engine.dialect.name == "postgresql"
    _texts_table(engine)
    if pg:
        series = "generate_series(0, :n - 1) AS n(i)"
        ts = f"(TIMESTAMPTZ '{BASE}+00' + (i * {STEP_SECONDS}) * INTERVAL '1 second')"
        ts_conv = f"(TIMESTAMPTZ '{BASE}+00' + (i * 250) * INTERVAL '1 second')"
        plus = "(TIMESTAMPTZ '{BASE}+00' + (i * 250 + {s}) * INTERVAL '1 second')"
        true = "true"
        json_nlu = "json_build_object('nlu', json_build_object('intent', {intent}))"
        json_staff = "json_build_object('author', 'staff')"
        detail = "json_build_object('reason', 'human_request')"
        cid = "('telegram:' || i)"
    else:
        series = "(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < :n - 1) SELECT i FROM s)"
        ts = f"(strftime('%Y-%m-%d %H:%M:%S', '{BASE}', '+' || (i * {STEP_SECONDS}) || ' seconds') || '.000000')"
        ts_conv = f"(strftime('%Y-%m-%d %H:%M:%S', '{BASE}', '+' || (i * 250) || ' seconds') || '.000000')"
        plus = "(strftime('%Y-%m-%d %H:%M:%S', '{BASE}', '+' || (i * 250 + {s}) || ' seconds') || '.000000')"
        true = "1"
        json_nlu = "json_object('nlu', json_object('intent', {intent}))"
        json_staff = "json_object('author', 'staff')"
        detail = "json_object('reason', 'human_request')"
        cid = "('telegram:' || i)"
    label = "CASE WHEN (i % 7) IN (0, 1, 2) AND (i % 12) IN (0, 1, 2, 5) THEN 'negative' " + (
        "WHEN (i % 7) = 0 THEN 'negative' WHEN (i % 7) IN (3, 4) THEN 'neutral' ELSE 'positive' END"
    )
    kind = "CASE WHEN i % 20 = 0 THEN 'csat' WHEN i % 20 = 1 THEN 'nps' ELSE 'message' END"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO feedback_signals "
                "(subject, channel, kind, at, language, intent, sentiment, sentiment_label, score, text) "
                f"SELECT 'subject' || (i % 5000), {_case('i', CHANNELS)}, {kind}, {ts}, "
                "CASE WHEN (i % 40) >= 20 AND (i % 40) < 30 THEN 'fr' ELSE 'en' END, "
                f"CASE WHEN i % 20 > 1 THEN {_case('i', INTENTS)} END, NULL, "
                f"CASE WHEN i % 20 > 1 THEN {label} END, "
                "CASE WHEN i % 20 = 0 THEN 1 + i % 5 WHEN i % 20 = 1 THEN i % 11 END, "
                "CASE WHEN i % 20 > 1 THEN (SELECT t FROM bench_texts WHERE k = i % 40) END "
                f"FROM {series}"
            ),
            {"n": signals},
        )
        conn.execute(
            text(
                "INSERT INTO conversations (id, channel, customer_id, language, mode, created_at, updated_at, "
                "assigned_to, handoff_reason, resolved_at) "
                f"SELECT {cid}, 'telegram', CAST(i AS VARCHAR(20)), 'en', 'bot', {ts_conv}, {ts_conv}, "
                "CASE WHEN i % 4 = 0 THEN 1 + i % 5 END, CASE WHEN i % 4 = 0 THEN 'human_request' END, "
                f"CASE WHEN i % 3 = 0 THEN {plus.format(BASE=BASE, s=200)} END "
                f"FROM {series}"
            ),
            {"n": convs},
        )
        for k, (direction, when, data) in enumerate(
            [
                ("in", plus.format(BASE=BASE, s=0), json_nlu.format(intent=_case("i", INTENTS))),
                ("out", plus.format(BASE=BASE, s=1), "NULL"),
                ("in", plus.format(BASE=BASE, s=60), json_nlu.format(intent=_case("i + 3", INTENTS))),
                ("out", plus.format(BASE=BASE, s=130), f"CASE WHEN i % 4 = 0 THEN {json_staff} END"),
            ]
        ):
            conn.execute(
                text(
                    "INSERT INTO messages (conversation_id, direction, channel, message_id, text, data, created_at) "
                    f"SELECT {cid}, '{direction}', 'telegram', 'm{k}', 'x', {data}, {when} FROM {series}"
                ),
                {"n": convs},
            )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, subject, detail) "
                f"SELECT {plus.format(BASE=BASE, s=100)}, 'bot', 'mode:waiting', {cid}, {detail} "
                f"FROM {series} WHERE i % 4 = 0"
            ),
            {"n": convs},
        )
        conn.execute(
            text(
                "INSERT INTO consent_events (channel, customer_id, purpose, granted, how, wording_version, wording, "
                "actor, at) "
                f"SELECT 'telegram', CAST(i AS VARCHAR(20)), 'feedback_analytics', {true}, 'button', 'v1', 'w', "
                f"'customer', {ts_conv} FROM {series} WHERE i % 2 = 0"
            ),
            {"n": convs},
        )
        conn.execute(text("DROP TABLE bench_texts"))
        rebuild(conn)  # the daily counts Signals keeps on every write
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url", nargs="?", help="database URL (default: a SQLite file in a temp folder)")
    ap.add_argument("--signals", type=int, default=1_000_000)
    ap.add_argument("--conversations", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="bb-insights-")
    url = args.url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    seed(engine, args.signals, args.conversations)
    seeded = time.perf_counter() - t0

    def count() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM feedback_signals")).scalar_one()

    def report() -> None:
        summarize_with_previous(engine, PERIOD)

    count()  # warm the cache for both
    report()
    t_count, t_report = best(count, args.repeat), best(report, args.repeat)
    s = summarize(engine, PERIOD).to_json()
    result = {
        "dialect": engine.dialect.name,
        "signals": args.signals,
        "conversations": args.conversations,
        "seed_seconds": round(seeded, 2),
        "count_seconds": round(t_count, 4),
        "report_seconds": round(t_report, 4),
        "ratio": round(t_report / t_count, 1),
        "period_signals": s["signals"],
        "period_conversations": s["conversations"],
    }
    print(
        f"{engine.dialect.name}: {args.signals:,} signal rows (seeded in {seeded:.1f} s); "
        f"report (period + previous) {t_report * 1000:.0f} ms, count(*) {t_count * 1000:.1f} ms, "
        f"ratio {t_report / t_count:.1f}x; period: {s['signals']:,} message signals, "
        f"{s['conversations']:,} conversations"
    )
    write_result(
        args.out or default_out(f"insights_report_{engine.dialect.name}"),
        result,
        **{k: str(v) for k, v in vars(args).items()},
    )
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
