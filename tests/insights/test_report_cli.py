"""``brandbot report``: JSON with the previous period, terminal tables, CSV, HTML and PNG files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert

from bots.cli import main
from bots.cli.report import csv_safe
from bots.privacy.tables import feedback_signals

from .seed import at, seed
from .test_summary import EXPECTED

pytestmark = pytest.mark.integration

SECRET = "test-analytics-secret-0123456789"
PERIOD = ["--from", "2026-11-01", "--to", "2026-11-07"]


@pytest.fixture
def report(write_config, redis_url, sqlite_url, sql_engine, monkeypatch):
    """``brandbot --config FILE report ...`` on the seeded SQLite database."""
    monkeypatch.setenv("BRANDBOT_ANALYTICS_SECRET", SECRET)
    cfg = write_config({"stores": {"redis_url": redis_url, "database_url": sqlite_url}})
    seed(sql_engine)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["--config", str(cfg), "report", *args])

    return invoke


def test_json_has_every_figure_and_the_previous_period(report) -> None:
    r = report(*PERIOD, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    out.pop("links")
    previous, change = out.pop("previous"), out.pop("change")
    assert out == json.loads(json.dumps(EXPECTED))
    assert previous["period"] == {"from": "2026-10-25", "to": "2026-10-31"}
    assert (previous["conversations"], previous["signals"], previous["net_sentiment"]) == (1, 3, 0.3333)
    assert (change["conversations"], change["signals"], change["net_sentiment"]) == (3, 10, -0.4444)


def test_filters_reach_the_summary_and_bad_ones_name_the_option(report) -> None:
    out = json.loads(report(*PERIOD, "--channel", "telegram", "--json").stdout)
    assert out["filters"] == {"channel": "telegram"} and out["conversations"] == 2
    out = json.loads(report(*PERIOD, "--agent", "7", "--language", "fr", "--json").stdout)
    assert out["filters"] == {"language": "fr", "agent": "7"} and out["messages"] == 2
    bad = report("--from", "2026-02-30", "--json")
    assert bad.exit_code == 2 and "--from" in bad.output and "not a date" in bad.output
    both = report(*PERIOD, "--weekly")
    assert both.exit_code == 2 and "--weekly" in both.output


def test_terminal_tables(report) -> None:
    r = report(*PERIOD)
    assert r.exit_code == 0, r.output
    for title in ("Overview", "Sentiment by day", "Top intents", "Drivers of negative sentiment", "Fallbacks"):
        assert title in r.stdout
    overview = next(line for line in r.stdout.splitlines() if "containment_rate" in line)
    assert [c.strip() for c in overview.strip("│ ").split("│")] == ["containment_rate", "0.5", "1", "-0.5"]
    assert "remboursement refusé" in r.stdout


def test_csv_one_file_per_table_with_formula_cells_defused(report, sql_engine, tmp_path: Path) -> None:
    with sql_engine.begin() as conn:  # a customer's text that a spreadsheet would run
        for i in range(2):
            row = dict(subject="s", channel="webchat", kind="message", at=at(11, 5, i), language="en")
            conn.execute(insert(feedback_signals).values(**row, intent="out_of_scope", text="=HYPERLINK(1)"))
    r = report(*PERIOD, "--csv", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(
        f"{n}.csv"
        for n in ("overview sentiment sentiment_trend csat handoffs times top_intents drivers fallbacks links".split())
    )
    with (tmp_path / "out" / "fallbacks.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["text", "count"], ["'=HYPERLINK(1)", "2"], ["what is the weather", "2"], ["tell me a joke", "1"]]
    with (tmp_path / "out" / "sentiment_trend.csv").open(encoding="utf-8") as fh:
        trend = list(csv.reader(fh))
    assert trend[1] == ["2026-11-01", "1", "1", "2", "-0.3333"] and len(trend) == 8
    assert csv_safe("-1") == "'-1" and csv_safe("fine") == "fine"


def test_html_is_self_contained_and_escaped(report, sql_engine, tmp_path: Path) -> None:
    with sql_engine.begin() as conn:
        for i in range(2):
            row = dict(subject="s", channel="webchat", kind="message", at=at(11, 5, i), language="en")
            conn.execute(
                insert(feedback_signals).values(**row, intent="out_of_scope", text="<script>alert(1)</script>")
            )
    page = tmp_path / "r" / "report.html"
    r = report(*PERIOD, "--html", str(page))
    assert r.exit_code == 0, r.output
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert html.count("<svg") == 4 and "Drivers of negative sentiment" in html and "remboursement refusé" in html
    assert "Content-Security-Policy" in html


def test_png_holds_the_charts(report, tmp_path: Path) -> None:
    png = tmp_path / "charts.png"
    r = report(*PERIOD, "--png", str(png))
    assert r.exit_code == 0, r.output
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 800)


def test_weekly_is_the_last_whole_week(report) -> None:
    from bots.insights.filters import Filters

    out = json.loads(report("--weekly", "--json").stdout)
    week = Filters.last_full_week()
    assert out["period"] == {"from": week.start.isoformat(), "to": week.end.isoformat()}
    assert out["previous"]["period"]["to"] == (week.start.fromordinal(week.start.toordinal() - 1)).isoformat()
