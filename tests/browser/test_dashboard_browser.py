"""The insights dashboard in a real browser: an analyst signs in, narrows to one channel, sees the
chart change and downloads a table as CSV; an agent is refused.

Real app, real Redis, migrated SQLite seeded through the real tables (tests/dashboard/seed.py),
Debian's Chromium driven by Playwright. A screenshot of the dashboard is saved to
docs/screenshots/dashboard.png (the README shows it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bots.services import build_services
from bots.staff.accounts import Accounts
from bots.web import create_app
from tests.dashboard.seed import PERIOD, seed

from .conftest import REPO, LiveBot, serve

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

PASSWORD = "correct horse battery"
ANALYST, AGENT = "ann@nimbus.example", "ada@nimbus.example"
SHOTS = REPO / "docs" / "screenshots"
TOP_INTENTS = "svg[aria-label='Top intents']"
SHARES = "svg[aria-label^='Shares per channel']"


@pytest.fixture
def dashboard_bot(make_settings, sql_engine, redis_client) -> Iterator[LiveBot]:
    """The app alone (no workers) over the seeded data set, with an analyst and an agent."""
    settings = make_settings({"console": {"secure_cookies": False}})
    services = build_services(settings)
    accounts = Accounts(services.engine)
    accounts.add(ANALYST, "analyst", password=PASSWORD, name="Ann Analyst")
    accounts.add(AGENT, "agent", password=PASSWORD, name="Ada Agent")
    seed(services.engine)
    app = create_app(settings, services)
    try:
        with serve(app, services, "live-dashboard") as bot:
            yield bot
    finally:
        app.extensions["console"].hub.stop(timeout=2)
        services.close()


def sign_in(page: Any, bot: LiveBot, email: str, path: str) -> None:
    page.goto(bot.url + path)
    assert "/console/login" in page.url, "the dashboard asks for a sign-in first"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_analyst_filters_by_channel_sees_the_chart_change_and_downloads_a_csv(
    dashboard_bot: LiveBot, new_page: Any, tmp_path: Path
) -> None:
    page = new_page(width=1280, height=900)
    sign_in(page, dashboard_bot, ANALYST, f"/dashboard/?{PERIOD}")
    assert "/dashboard/" in page.url and "from=2026-03-01" in page.url  # back where the link pointed
    chart = page.locator(TOP_INTENTS)
    assert chart.get_attribute("data-bars") == "5"
    assert page.locator(f"{TOP_INTENTS} rect.bar").count() == 5
    assert page.locator("#kpi-conversations").inner_text() == "4"
    assert page.locator(SHARES).get_attribute("data-bars") == "3"
    assert "(P\u00a0\u2212\u00a0N)\u00a0/\u00a0(P\u00a0+\u00a0N)" in page.locator("#formula").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

    page.get_by_label("Channel", exact=True).select_option("telegram")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(lambda url: "channel=telegram" in url)
    assert page.locator(TOP_INTENTS).get_attribute("data-bars") == "2"
    assert page.locator(f"{TOP_INTENTS} rect.bar").count() == 2
    assert page.locator("#kpi-conversations").inner_text() == "2"
    assert page.locator(SHARES).get_attribute("data-bars") == "1"

    with page.expect_download() as info:
        page.locator("a[data-export='top_intents']").click()
    download = info.value
    assert download.suggested_filename == "top_intents_2026-03-01_2026-03-07.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert rows == [["intent", "messages"], ["refund", "3"], ["baggage_allowance", "1"]]
    assert page.locator("img[src='x']").count() == 0 and page.dialogs == []


def test_an_agent_is_refused(dashboard_bot: LiveBot, new_page: Any) -> None:
    page = new_page()
    sign_in(page, dashboard_bot, AGENT, "/dashboard/")
    response = page.goto(dashboard_bot.url + "/dashboard/")
    assert response is not None and response.status == 403
    assert "cannot open this page" in page.content()
    assert page.locator("svg.chart").count() == 0
