"""``GET /l/<code>`` on the real app, SQLite and Redis: 302 to the stored target only, clicks counted."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bots.links.shortener import Shortener
from bots.links.tables import link_clicks, links
from bots.links.web import COOKIE

from .conftest import BASE, CHROME, FIREFOX, IPHONE_SAFARI, NOW

pytestmark = pytest.mark.integration

TARGET = "https://www.nimbus.test/baggage?lang=en&x=%2Fa"


def clicks(engine) -> list[tuple[str, bool, bool, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                link_clicks.c.ua_family, link_clicks.c.first_click, link_clicks.c.forwarded, link_clicks.c.referrer_less
            ).order_by(link_clicks.c.id)
        ).all()
    return [tuple(r) for r in rows]


def path_of(short_url: str) -> str:
    assert short_url.startswith(BASE + "/l/")
    return short_url[len(BASE) :]


def test_reply_urls_on_the_list_are_shortened_and_others_left_as_they_are(shortener: Shortener, sql_engine) -> None:
    text = f"Baggage: {TARGET}. Not ours: https://evil.test/x and https://www.example.com/y, ours {BASE}/l/abcdefgh"
    out = shortener.rewrite(text, key="telegram:m1:0", channel="telegram", conversation_id="telegram:7", now=NOW)
    code = out.split(f"{BASE}/l/")[1][:10]
    assert out == (
        f"Baggage: {BASE}/l/{code}. Not ours: https://evil.test/x and https://www.example.com/y, ours {BASE}/l/abcdefgh"
    )
    with sql_engine.connect() as conn:
        row = conn.execute(select(links)).one()
    assert (row.code, row.target, row.channel, row.conversation_id, row.campaign) == (
        code,
        TARGET,
        "telegram",
        "telegram:7",
        "replies",
    )
    again = shortener.rewrite(text, key="telegram:m1:0", channel="telegram", conversation_id="telegram:7", now=NOW)
    assert again == out
    other = shortener.rewrite(text, key="telegram:m2:0", channel="telegram", conversation_id="telegram:7", now=NOW)
    assert other != out
    with sql_engine.connect() as conn:
        assert len(conn.execute(select(links.c.code)).all()) == 2


def test_a_disabled_shortener_changes_nothing(links_settings, sql_engine) -> None:
    off = links_settings.links.model_copy(update={"enabled": False})
    s = Shortener(sql_engine, off, links_settings.server.secret_key)
    assert s.rewrite(f"see {TARGET}", key="k", channel="telegram", conversation_id=None, now=NOW) == f"see {TARGET}"
    with pytest.raises(ValueError, match=r"not on links\.allow"):
        s.shorten("https://evil.test/", channel="telegram", now=NOW)


def test_redirect_is_a_302_to_the_exact_target(app, shortener: Shortener) -> None:
    code = shortener.shorten(TARGET, channel="webchat", now=NOW)
    r = app.test_client().get(f"/l/{code}", headers={"User-Agent": CHROME})
    assert r.status_code == 302 and r.headers["Location"] == TARGET
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/l/unknown-code", "/l/short", "/l/" + "x" * 33, "/l/bad%20code!", "/l/..%2Fetc"])
def test_unknown_or_malformed_code_is_404(app, path: str, sql_engine) -> None:
    r = app.test_client().get(path, headers={"User-Agent": CHROME})
    assert r.status_code == 404 and "Location" not in r.headers
    assert clicks(sql_engine) == []


def test_a_stored_target_off_the_list_is_refused(app, shortener: Shortener, sql_engine) -> None:
    code = shortener.shorten(TARGET, channel="webchat", now=NOW)
    with sql_engine.begin() as conn:
        conn.execute(update(links).where(links.c.code == code).values(target="https://evil.test/phish"))
    r = app.test_client().get(f"/l/{code}", headers={"User-Agent": CHROME})
    assert r.status_code == 404 and "Location" not in r.headers
    assert clicks(sql_engine) == []


def test_first_click_by_the_recipient_then_a_forwarded_click_from_another_browser(
    app, shortener: Shortener, sql_engine
) -> None:
    code = shortener.shorten(TARGET, channel="telegram", now=NOW)
    recipient, friend, third = app.test_client(), app.test_client(), app.test_client()
    first = recipient.get(f"/l/{code}", headers={"User-Agent": IPHONE_SAFARI})
    assert first.status_code == 302
    cookie = first.headers["Set-Cookie"]
    assert f"{COOKIE}=1" in cookie and f"Path=/l/{code}" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    again = recipient.get(f"/l/{code}", headers={"User-Agent": IPHONE_SAFARI}, base_url="https://localhost")
    assert again.status_code == 302 and "Set-Cookie" not in again.headers
    fwd = friend.get(f"/l/{code}", headers={"User-Agent": CHROME, "Referer": "https://web.telegram.org/"})
    assert fwd.status_code == 302 and fwd.headers["Location"] == TARGET and "Set-Cookie" not in fwd.headers
    third.get(f"/l/{code}", headers={"User-Agent": FIREFOX})
    assert clicks(sql_engine) == [
        ("safari", True, False, True),
        ("safari", False, False, True),
        ("chrome", False, True, False),
        ("firefox", False, True, True),
    ]
    with sql_engine.connect() as conn:
        assert conn.execute(select(links.c.first_click_at).where(links.c.code == code)).scalar_one() is not None


def test_bots_are_redirected_but_never_counted(app, shortener: Shortener, sql_engine) -> None:
    code = shortener.shorten(TARGET, channel="whatsapp", now=NOW)
    client = app.test_client()
    for ua in ("WhatsApp/2.23.20.0 A", "facebookexternalhit/1.1", "TelegramBot (like TwitterBot)", ""):
        r = client.get(f"/l/{code}", headers={"User-Agent": ua})
        assert r.status_code == 302 and r.headers["Location"] == TARGET and "Set-Cookie" not in r.headers
    assert client.head(f"/l/{code}", headers={"User-Agent": CHROME}).status_code == 302
    assert clicks(sql_engine) == []
    # the preview fetchers did not take the first click: the recipient's first click is still first
    app.test_client().get(f"/l/{code}", headers={"User-Agent": CHROME})
    assert clicks(sql_engine) == [("chrome", True, False, True)]
