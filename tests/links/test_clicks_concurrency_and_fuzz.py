"""Simultaneous first clicks give exactly one first click (SQLite and PostgreSQL); any path under
``/l/`` answers 404 or a 302 to the one stored target (or Werkzeug's 308 merging a doubled slash,
back to this app's own ``/l/`` path), never a redirect anywhere else."""

from __future__ import annotations

import threading
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bots.links.clicks import Click, record_click
from bots.links.shortener import Shortener
from bots.links.tables import link_clicks

from .conftest import CHROME, NOW

pytestmark = pytest.mark.integration

TARGET = "https://example.com/offers"


def test_simultaneous_first_clicks_make_one_first_click(engine, links_settings) -> None:
    code = Shortener(engine, links_settings.links, links_settings.server.secret_key).shorten(
        TARGET, channel="telegram", now=NOW
    )
    start = threading.Barrier(6)
    results: list[bool | None] = []

    def click() -> None:
        start.wait()
        results.append(record_click(engine, Click(code, CHROME, has_cookie=False, referrer_less=True, at=NOW)))

    threads = [threading.Thread(target=click) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results, key=bool) == [False] * 5 + [True]
    with engine.connect() as conn:
        rows = conn.execute(select(link_clicks.c.first_click, link_clicks.c.forwarded)).all()
    assert sorted(tuple(r) for r in rows) == [(False, True)] * 5 + [(True, False)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.text(min_size=0, max_size=40))
def test_any_path_is_a_404_or_the_stored_target(app, shortener: Shortener, tail: str) -> None:
    code = shortener.shorten(TARGET, channel="webchat", now=NOW)
    client = app.test_client()
    for path in (f"/l/{quote(tail, safe='')}", f"/l/{code}{quote(tail, safe='')}", f"/l/{tail[:1]}{code}"):
        r = client.get(path, headers={"User-Agent": CHROME})
        assert r.status_code in (302, 308, 404), path
        if r.status_code == 302:
            assert r.headers["Location"] == TARGET, path
        elif r.status_code == 308:  # Werkzeug merging "//": back to this app's own /l/ path
            where = urlsplit(r.headers["Location"])
            assert where.netloc in ("", "localhost") and where.path.startswith("/l/"), path
