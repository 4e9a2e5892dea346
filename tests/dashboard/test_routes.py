"""The dashboard's routes on the real app: who may see them, filters, figures of the seeded data, CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.console.conftest import sign_in

from .seed import EVIL_FALLBACK, EVIL_INTENT, FORMULA_FALLBACK, PERIOD, seed_formula_fallback

pytestmark = pytest.mark.integration

PAGE = f"/dashboard/?{PERIOD}"
EXPORT = f"/dashboard/export/sentiment.csv?{PERIOD}"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, _text(response)[:300]
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(_text(response), newline="")))


@pytest.mark.parametrize("path", [PAGE, EXPORT])
def test_anonymous_goes_to_the_console_sign_in(seeded, path) -> None:
    response = seeded.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=/dashboard/")
    json = seeded.test_client().get(path, headers={"Accept": "application/json"})
    assert json.status_code == 401


@pytest.mark.parametrize("path", [PAGE, EXPORT])
def test_agents_are_refused(seeded, staff, path) -> None:
    client = sign_in(seeded.test_client(), staff.agent)
    response = client.get(path)
    assert response.status_code == 403
    assert "refund" not in _text(response)


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_analysts_and_admins_see_the_page_with_strict_headers(seeded, staff, role) -> None:
    client = sign_in(seeded.test_client(), getattr(staff, role))
    response = client.get(PAGE)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Frame-Options"] == "DENY"
    assert "<script" not in _text(response)  # charts are server-made SVG: no script, no CDN
    assert "http://" not in _text(response).replace("http://localhost/dashboard/", "").replace(
        "http://www.w3.org/2000/svg", ""
    )


def test_dashboard_without_slash_redirects_keeping_the_filters(analyst) -> None:
    response = analyst.get(f"/dashboard?{PERIOD}")
    assert response.status_code in (301, 308)
    assert response.headers["Location"].endswith(f"/dashboard/?{PERIOD}")


def _kpi(html: str, name: str) -> str:
    m = re.search(rf'id="kpi-{name}">([^<]*)<', html)
    assert m, name
    return m.group(1)


def test_the_page_holds_the_formula_and_the_seeded_figures(analyst) -> None:
    html = _text(analyst.get(PAGE))
    assert "Net sentiment = (P&nbsp;&minus;&nbsp;N)&nbsp;/&nbsp;(P&nbsp;+&nbsp;N)" in html
    assert "The shares include the neutral signals" in html
    assert "net sentiment (P-N)/(P+N)" in html
    assert "How each figure is counted" in html and "<dt>containment_rate</dt>" in html
    assert "2026-03-01 to 2026-03-07" in html and "2026-02-22 to 2026-02-28" in html
    assert _kpi(html, "conversations") == "4"
    assert _kpi(html, "messages") == "12"
    assert _kpi(html, "net") == "-0.50"
    assert _kpi(html, "csat") == "4.00"
    assert _kpi(html, "containment") == "75.0%"
    assert _kpi(html, "handoff") == "25.0%"
    # honest counts: where sentiment comes from, and how much it covers
    assert 'id="signals-count">5<' in html and 'id="coverage">50.0%<' in html
    assert "only from customers who opted in" in html
    # service times, never mixed: 5 min to the first human reply, 1 h 5 min to resolve
    assert re.search(r"Time to first human reply: median</th>\s*<td class=\"kind-seconds\">5 min</td>", html)
    assert re.search(r"Resolution time \(first message to resolved\): median</th>\s*<td[^>]*>1 h 5 min</td>", html)
    # sentiment shares including neutrals
    assert '<td class="kind-share">60.0%</td>' in html and '<td class="kind-share">20.0%</td>' in html
    # the comparison with the week before (1 conversation then): +3
    assert re.search(
        r"<th scope=\"row\">Conversations</th>\s*<td[^>]*>4</td>\s*<td[^>]*>1</td>\s*<td[^>]*>\+3</td>", html
    )
    # a CSV link per table, with the same filters
    assert html.count('data-export="') == 15
    assert 'href="/dashboard/export/top_intents.csv?from=2026-03-01&amp;to=2026-03-07"' in html


def test_a_filter_changes_the_figures_and_the_chart(analyst) -> None:
    everything = _text(analyst.get(PAGE))
    telegram = _text(analyst.get(PAGE + "&channel=telegram"))
    assert _kpi(telegram, "conversations") == "2"
    bars = re.compile(r'class="chart chart-bars"[^>]*aria-label="Top intents" data-bars="(\d+)"')
    assert bars.search(everything).group(1) == "5"
    assert bars.search(telegram).group(1) == "2"
    assert '<option value="telegram" selected>' in telegram
    assert 'href="/dashboard/export/top_intents.csv?from=2026-03-01&amp;to=2026-03-07&amp;channel=telegram"' in telegram
    refunds = _text(analyst.get(PAGE + "&intent=refund"))
    assert 'id="signals-count">4<' in refunds and 'value="refund"' in refunds
    french = _text(analyst.get(PAGE + "&language=fr"))
    assert _kpi(french, "conversations") == "1"


INVALID = [
    ("from=2026-13-01", "from"),
    ("to=yesterday", "to"),
    ("from=2026-03-07&to=2026-03-01", "to"),
    ("agent=abc", "agent"),
    ("agent=%C2%B2", "agent"),  # a superscript two: isdigit() but not a staff id
    ("from=2020-01-01&to=2026-01-01", "from"),
    ("intent=" + "x" * 101, "intent"),
    ("channel=a%01b", "channel"),
    ("language=%3Cb%3E" + "y" * 100, "language"),
    ("flow=" + "z" * 101, "flow"),
]


def test_invalid_filters_are_400_naming_the_parameter(analyst) -> None:
    for query, named in INVALID:
        page = analyst.get(f"/dashboard/?{query}")
        assert page.status_code == 400, query
        html = _text(page)
        assert "These filters cannot be used" in html
        assert re.search(rf"<p>{named}: ", html), (query, html[-800:])
        assert "<b>" not in html
        export = analyst.get(f"/dashboard/export/volumes.csv?{query}")
        assert export.status_code == 400 and _text(export).startswith(f"{named}: "), query


def test_an_unknown_table_is_404(analyst) -> None:
    assert analyst.get(f"/dashboard/export/passwords.csv?{PERIOD}").status_code == 404


def test_csv_exports_hold_the_tables_figures(analyst) -> None:
    response = analyst.get(EXPORT)
    assert response.headers["Content-Disposition"] == 'attachment; filename="sentiment_2026-03-01_2026-03-07.csv"'
    assert _text(response).endswith("\r\n")
    assert _rows(response) == [
        ["sentiment", "signals", "share including neutral"],
        ["positive", "1", "0.2"],
        ["neutral", "1", "0.2"],
        ["negative", "3", "0.6"],
        ["net sentiment (P-N)/(P+N)", "", "-0.5"],
    ]
    weekly = _rows(analyst.get(f"/dashboard/export/sentiment_weekly.csv?{PERIOD}"))
    assert weekly == [
        ["week of", "positive", "neutral", "negative", "net"],
        ["2026-02-23", "0", "0", "0", ""],  # 2026-03-01 is a Sunday: a partial week
        ["2026-03-02", "1", "1", "3", "-0.5"],
    ]
    volumes = _rows(analyst.get(f"/dashboard/export/volumes.csv?{PERIOD}"))
    assert volumes[1:] == [
        ["Conversations", "4"],
        ["Messages", "12"],
        ["Opted-in sentiment signals", "5"],
        ["Coverage (share of conversations whose customer opted in)", "0.5"],
    ]
    telegram = _rows(analyst.get(f"/dashboard/export/top_intents.csv?{PERIOD}&channel=telegram"))
    assert telegram == [["intent", "messages"], ["refund", "3"], ["baggage_allowance", "1"]]
    service = dict(_rows(analyst.get(f"/dashboard/export/service.csv?{PERIOD}"))[1:])
    assert service["Time to first human reply: median"] == "300.0"
    assert service["Resolution time (first message to resolved): median"] == "3900.0"
    assert service["Handoff rate"] == "0.25"
    assert _rows(analyst.get(f"/dashboard/export/links_by_channel.csv?{PERIOD}")) == [
        ["channel", "links sent", "clicks", "forwarded clicks", "forward rate"],
        ["telegram", "1", "3", "2", "0.6666666666666666"],
        ["webchat", "1", "0", "0", ""],
        ["whatsapp", "1", "1", "0", "0.0"],
    ]
    links = dict(_rows(analyst.get(f"/dashboard/export/links.csv?{PERIOD}"))[1:])
    assert links == {"Links sent": "3", "Clicks": "4", "Clicks from a forward": "2", "Estimated forward rate": "0.5"}
    reasons = _rows(analyst.get(f"/dashboard/export/handoff_reasons.csv?{PERIOD}"))
    assert reasons == [["reason", "conversations"], ["human_request", "1"]]
    comparison = {r[0]: r[1:] for r in _rows(analyst.get(f"/dashboard/export/comparison.csv?{PERIOD}"))[1:]}
    assert comparison["Conversations"] == ["4", "1", "3"]


def test_customer_text_is_escaped_on_the_page_and_quoted_in_the_csv(seeded, analyst) -> None:
    seed_formula_fallback(seeded.extensions["brandbot"].engine)
    html = _text(analyst.get(PAGE))
    assert EVIL_INTENT not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the hostile intent, as text (table and chart)
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 3  # table cell, bar label, bar tooltip
    assert "&lt;script&gt;alert(&#34;fallback&#34;)&lt;/script&gt;" in html
    intents = _rows(analyst.get(f"/dashboard/export/top_intents.csv?{PERIOD}"))
    assert [EVIL_INTENT, "1"] in intents  # CSV is data: the text as stored
    raw = _text(analyst.get(f"/dashboard/export/fallbacks.csv?{PERIOD}"))
    assert '"<script>alert(""fallback"")</script>, said ""me"""' in raw  # RFC 4180 quoting
    fallbacks = list(csv.reader(io.StringIO(raw, newline="")))
    assert [EVIL_FALLBACK, "1"] in fallbacks
    assert ["'" + FORMULA_FALLBACK, "1"] in fallbacks  # a spreadsheet shows it, never runs it


@pytest.mark.postgres
def test_the_same_figures_on_postgresql(make_settings, pg_engine, redis_client) -> None:
    """The page and an export over PostgreSQL (its own fresh database) show the seeded figures."""
    from bots.services import build_services
    from bots.web import create_app
    from tests.console.conftest import make_staff

    from .seed import seed

    settings = make_settings({"stores": {"database_url": pg_engine.url.render_as_string(hide_password=False)}})
    services = build_services(settings)
    app = create_app(settings, services)
    app.config["TESTING"] = True
    try:
        seed(services.engine)
        client = sign_in(app.test_client(), make_staff(app.extensions["console"]).analyst)
        html = _text(client.get(PAGE))
        assert _kpi(html, "conversations") == "4" and _kpi(html, "net") == "-0.50" and _kpi(html, "csat") == "4.00"
        assert 'id="coverage">50.0%<' in html and "&lt;img src=x onerror=alert(1)&gt;" in html
        telegram = _rows(client.get(f"/dashboard/export/top_intents.csv?{PERIOD}&channel=telegram"))
        assert telegram == [["intent", "messages"], ["refund", "3"], ["baggage_allowance", "1"]]
    finally:
        app.extensions["console"].hub.stop(timeout=2)
        services.close()


def test_the_console_links_to_the_dashboard_for_analysts_and_admins_only(app, staff) -> None:
    admin = sign_in(app.test_client(), staff.admin)
    assert 'href="/dashboard/">Dashboard</a>' in admin.get("/console/", follow_redirects=True).get_data(as_text=True)
    analyst = sign_in(app.test_client(), staff.analyst)
    assert 'href="/dashboard/">Dashboard</a>' in analyst.get("/console/", follow_redirects=True).get_data(as_text=True)
    agent = sign_in(app.test_client(), staff.agent)
    assert "Dashboard</a>" not in agent.get("/console/", follow_redirects=True).get_data(as_text=True)
