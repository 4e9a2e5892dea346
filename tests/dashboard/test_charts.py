"""The SVG chart module: bars and lines with titles and axis labels, every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bots.web.dashboard.charts import Bar, Series, bar_chart, line_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & "quotes"'


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # well-formed XML, or this raises


def test_bar_chart_draws_one_bar_per_value_scaled_to_a_round_axis() -> None:
    svg = _parse(bar_chart("Top intents", [Bar("refund", 4), Bar("greet", 1)], x_label="messages", y_label="intent"))
    assert svg.get("data-bars") == "2" and svg.get("role") == "img" and svg.get("aria-label") == "Top intents"
    rects = svg.findall(f".//{SVG}rect")
    assert [r.get("data-value") for r in rects] == ["4", "1"]
    widths = [float(r.get("width") or 0) for r in rects]
    assert widths[0] == pytest.approx(4 * widths[1], rel=0.01)  # axis top is 5 (nice ceiling of 4): 4/5 and 1/5
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Top intents" in texts and "messages" in texts and "intent" in texts and "refund" in texts


def test_every_text_of_a_chart_is_escaped() -> None:
    for markup in (
        bar_chart(EVIL, [Bar(EVIL, 1.0)], x_label=EVIL, y_label=EVIL),
        line_chart(EVIL, [EVIL], [Series(EVIL, [0.5])], x_label=EVIL, y_label=EVIL),
    ):
        assert "<script>" not in markup and "&lt;script&gt;" in markup
        svg = _parse(markup)
        assert svg.find(f"{SVG}title").text == EVIL  # escaped once: the parsed text is the original
        assert svg.find(f".//{SVG}script") is None


def test_long_labels_are_shortened_but_kept_whole_in_the_tooltip() -> None:
    label = "x" * 60
    svg = _parse(bar_chart("t", [Bar(label, 1)], x_label="a", y_label="b"))
    shown = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    assert shown == ["x" * 27 + "\u2026"]
    assert any(label in (t.text or "") for t in svg.iter(f"{SVG}title"))


def test_empty_and_odd_values() -> None:
    svg = _parse(bar_chart("Nothing", [], x_label="a", y_label="b"))
    assert svg.get("data-bars") == "0" and "No data" in str(bar_chart("Nothing", [], x_label="a", y_label="b"))
    odd = _parse(bar_chart("t", [Bar("nan", float("nan")), Bar("neg", -3)], x_label="a", y_label="b"))
    assert [r.get("width") for r in odd.findall(f".//{SVG}rect")] == ["0", "0"]


def test_line_chart_skips_missing_points_and_draws_the_zero_line() -> None:
    markup = line_chart(
        "Net sentiment",
        ["03-01", "03-02", "03-03"],
        [Series("net", [0.5, None, -0.5], "accent")],
        x_label="day",
        y_label="net",
        y_min=-1,
        y_max=1,
    )
    svg = _parse(markup)
    assert svg.get("data-points") == "3"
    dots = svg.findall(f".//{SVG}circle")
    assert len(dots) == 2
    ys = [float(d.get("cy") or 0) for d in dots]
    assert ys[0] < ys[1]  # +0.5 is drawn above -0.5
    assert svg.find(f".//{SVG}line[@class='chart-zero']") is not None
    assert svg.find(f".//{SVG}polyline") is not None


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (4, 5), (5, 5), (7, 10), (0.3, 0.5), (120, 200), (2.2, 2.5)])
def test_nice_ceiling(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)


def test_count_axes_tick_at_whole_numbers() -> None:
    svg = _parse(bar_chart("t", [Bar("a", 3), Bar("b", 1)], x_label="a", y_label="b"))
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-tick"]
    assert ticks == ["0", "1", "2", "3", "4", "5"]
    shares = _parse(bar_chart("t", [Bar("a", 0.3)], x_label="a", y_label="b"))
    assert [t.text for t in shares.iter(f"{SVG}text") if t.get("class") == "chart-tick"] == [
        "0",
        "0.1",
        "0.2",
        "0.3",
        "0.4",
        "0.5",
    ]
