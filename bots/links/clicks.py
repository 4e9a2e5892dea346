"""Clicks: the browser family of a user agent, bots and link previews, first and forwarded clicks.

A click is *first* when it is the one that sets ``links.first_click_at`` (an atomic UPDATE
decides, so two simultaneous first clicks still give one). The first click gets a cookie
scoped to the link's own path; a later click *without* that cookie comes from another browser
than the first one: the link was forwarded. Bots (crawlers, messengers fetching a preview,
HTTP libraries) are redirected like anyone but never recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from .tables import link_clicks, links

__all__ = ["ua_family", "is_bot", "Click", "record_click", "target_of"]

_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|facebookcatalog|meta-externalagent|whatsapp/"
    r"|telegrambot|slackbot|discordbot|twitterbot|linkedinbot|embedly|skypeuripreview|headless|phantomjs"
    r"|curl/|wget/|python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|java/|libwww|scrapy"
    r"|lighthouse|pingdom|uptime|monitor",
    re.IGNORECASE,
)

#: (family, pattern), first match wins: in-app browsers and Chromium derivatives before Chrome,
#: Chrome before Safari (Chrome's user agent also says "Safari").
_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("instagram", r"Instagram"),
        ("facebook", r"FBAN|FBAV|FB_IAB"),
        ("edge", r"Edg(e|A|iOS)?/"),
        ("opera", r"OPR/|Opera"),
        ("samsung", r"SamsungBrowser"),
        ("firefox", r"Firefox/|FxiOS"),
        ("chrome", r"Chrome/|CriOS|Chromium"),
        ("safari", r"Version/[\d.]+.*Safari/|Mobile/\w+ Safari|AppleWebKit.*Mobile/"),
    )
)


def is_bot(user_agent: str) -> bool:
    """True for crawlers, link-preview fetchers, HTTP libraries and an empty user agent."""
    return not user_agent.strip() or _BOT.search(user_agent) is not None


def ua_family(user_agent: str) -> str:
    """The browser family of a (human) user agent: ``chrome``, ``safari``, ``firefox``..., else ``other``."""
    return next((name for name, pattern in _FAMILIES if pattern.search(user_agent)), "other")


@dataclass(frozen=True)
class Click:
    """What one request to a short link was."""

    code: str
    user_agent: str
    #: the request carried the first-click cookie of this link.
    has_cookie: bool
    #: the request had no Referer (messaging apps, copy-paste, e-mail clients).
    referrer_less: bool
    at: datetime


def target_of(engine: Engine, code: str) -> str | None:
    """The stored target of ``code``, or None for an unknown code."""
    with engine.connect() as conn:
        return conn.execute(select(links.c.target).where(links.c.code == code)).scalar_one_or_none()


def record_click(engine: Engine, click: Click) -> bool | None:
    """Record a human click; returns whether it was the first click (the caller then sets the
    cookie), or None when nothing was recorded (a bot, or a code that vanished meanwhile)."""
    if is_bot(click.user_agent):
        return None
    with engine.begin() as conn:
        first = (
            conn.execute(
                update(links)
                .where(links.c.code == click.code, links.c.first_click_at.is_(None))
                .values(first_click_at=click.at)
            ).rowcount
            == 1
        )
        if not first and conn.execute(select(links.c.code).where(links.c.code == click.code)).first() is None:
            return None
        conn.execute(
            insert(link_clicks).values(
                code=click.code,
                at=click.at,
                ua_family=ua_family(click.user_agent),
                first_click=first,
                forwarded=not first and not click.has_cookie,
                referrer_less=click.referrer_less,
            )
        )
    return first
