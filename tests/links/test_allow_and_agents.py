"""Pure pieces: the allow-list, URL finding, user-agent families and the bot filter, settings checks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bots.links.allow import allowed, find_urls
from bots.links.clicks import is_bot, ua_family
from bots.links.shortener import CODE_RE, derive_code, new_code
from bots.settings.links import LinksSettings

from .conftest import ALLOW, CHROME, FIREFOX, IPHONE_SAFARI


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "http://EXAMPLE.com/a?b=c#d",
        "https://www.nimbus.test/baggage",
        "https://nimbus.test",
        "https://help.example.org/articles/42",
    ],
)
def test_allowed_urls(url: str) -> None:
    assert allowed(url, ALLOW)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/",  # subdomain of an exact host entry
        "https://example.com.evil.test/",
        "https://evil.test/?u=https://example.com/",
        "https://example.com@evil.test/",  # user info: the real host is evil.test
        "https://user@example.com/",
        "https://help.example.org/other/",  # outside the prefix
        "http://help.example.org/articles/1",  # another scheme than the prefix
        "https://help.example.org:8443/articles/1",  # another port than the prefix
        "javascript:alert(1)//example.com",
        "ftp://example.com/file",
        "//example.com/x",
        "https://example.com/\nx",
        "https://[::1/",  # malformed
    ],
)
def test_refused_urls(url: str) -> None:
    assert not allowed(url, ALLOW)


def test_find_urls_leaves_sentence_punctuation_out() -> None:
    text = "See https://example.com/a?b=1. Or (https://nimbus.test/x), thanks!"
    assert [u for _, _, u in find_urls(text)] == ["https://example.com/a?b=1", "https://nimbus.test/x"]


@pytest.mark.parametrize(
    ("ua", "family"),
    [
        (CHROME, "chrome"),
        (IPHONE_SAFARI, "safari"),
        (FIREFOX, "firefox"),
        (CHROME + " Edg/120.0.0.0", "edge"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 [FBAN/FBIOS]", "facebook"),
        ("SomethingElse/1.0", "other"),
    ],
)
def test_ua_family(ua: str, family: str) -> None:
    assert not is_bot(ua) and ua_family(ua) == family


@pytest.mark.parametrize(
    "ua",
    [
        "",
        "WhatsApp/2.23.20.0 A",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "TelegramBot (like TwitterBot)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "curl/8.4.0",
        "python-requests/2.31",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
    ],
)
def test_bots_and_previews_are_recognised(ua: str) -> None:
    assert is_bot(ua)


def test_codes_are_url_safe_and_derived_codes_are_stable() -> None:
    a = derive_code("secret-one", "telegram:1:0", "https://example.com/", 10)
    assert a == derive_code("secret-one", "telegram:1:0", "https://example.com/", 10)
    assert a != derive_code("secret-one", "telegram:1:1", "https://example.com/", 10)
    assert a != derive_code("secret-two", "telegram:1:0", "https://example.com/", 10)
    assert all(CODE_RE.fullmatch(c) for c in (a, new_code(10), new_code(32)))
    assert len({new_code(10) for _ in range(200)}) == 200


def test_settings_refuse_bad_entries_and_enabled_without_base() -> None:
    with pytest.raises(ValidationError, match="public_base_url"):
        LinksSettings(enabled=True)
    for bad in ("example", "*", "ftp://example.com/", "https://user@example.com/", "a/b.com"):
        with pytest.raises(ValidationError):
            LinksSettings(allow=(bad,))
    with pytest.raises(ValidationError):
        LinksSettings(public_base_url="go.example.com")
    assert LinksSettings(enabled=True, public_base_url="https://go.example.com/").public_base_url == (
        "https://go.example.com"
    )
