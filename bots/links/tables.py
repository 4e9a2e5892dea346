"""The tracked-link tables, on the same MetaData as :mod:`bots.stores.models` (migration 0006_links).

- ``links``: one row per URL the bot sent in one reply (``code`` -> ``target``), with the
  conversation it went to, its channel and campaign. Redoing a turn derives the same code,
  so a redone reply never adds a row: the number of rows in a period is the number of links
  sent. ``first_click_at`` is set once, by the first human click (an atomic UPDATE decides
  which click is the first).
- ``link_clicks``: one row per human click (bots are never recorded): when, the browser
  family, whether it was the first click, whether it was *forwarded* (a later click from a
  browser other than the one of the first click: the link travelled by "dark social",
  copy-paste into another chat) and whether it came without a Referer (apps and messengers
  send none). No IP, no full user agent, no cookie value is kept.

``links.conversation_id`` names the customer (``"<channel>:<id>"``), so both tables are
erased with the conversation (:mod:`bots.privacy.registry`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, String, Table, Text

from ..stores.models import metadata

__all__ = ["links", "link_clicks", "CODE_MAX"]

#: the longest code a column holds (settings bound the configured length below it).
CODE_MAX = 32

_ID = BigInteger().with_variant(Integer, "sqlite")

links = Table(
    "links",
    metadata,
    Column("code", String(CODE_MAX), primary_key=True),
    Column("target", Text, nullable=False),
    #: the conversation the reply went to; None for a link made by hand (``shorten`` without one).
    Column("conversation_id", String(200)),
    Column("channel", String(32), nullable=False),
    Column("campaign", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("first_click_at", DateTime(timezone=True)),
    Index("ix_links_created_at", "created_at"),
    Index("ix_links_conversation_id", "conversation_id"),
)

link_clicks = Table(
    "link_clicks",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("code", String(CODE_MAX), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    #: browser family from the user agent (``chrome``, ``safari``, ``telegram``...; ``other``).
    Column("ua_family", String(32), nullable=False),
    Column("first_click", Boolean, nullable=False),
    Column("forwarded", Boolean, nullable=False),
    Column("referrer_less", Boolean, nullable=False),
    Index("ix_link_clicks_code", "code"),
    Index("ix_link_clicks_at", "at"),
)
