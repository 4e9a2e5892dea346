"""Short codes and the rewriting of bot replies: allow-listed URLs become ``<base>/l/<code>``.

A code in a reply is derived (HMAC-SHA256 keyed by ``server.secret_key``) from the reply's
idempotency key and the URL, so a redone turn produces the same text and finds its row
already there (insert-if-absent): one row per URL per reply, however often the turn runs.
Codes made by hand (:meth:`Shortener.shorten`) come from :mod:`secrets`. Both are URL-safe
base64 (``A-Z a-z 0-9 - _``); being keyed or random, they cannot be guessed or enumerated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select

from ..settings import Settings
from ..settings.links import LinksSettings
from ..stores.sql import conflict_insert
from .allow import allowed, find_urls
from .tables import CODE_MAX, links

__all__ = ["CODE_RE", "derive_code", "new_code", "Shortener", "track_links"]

#: what a code looks like (anything else is refused before a database lookup).
CODE_RE = re.compile(rf"[A-Za-z0-9_-]{{8,{CODE_MAX}}}")


def derive_code(secret: str, key: str, url: str, length: int) -> str:
    """The code of ``url`` in the reply ``key``: the same inputs always give the same code."""
    mac = hmac.new(secret.encode(), f"{key}\n{url}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:length]


def new_code(length: int) -> str:
    """A random code of ``length`` URL-safe characters."""
    return secrets.token_urlsafe(length)[:length]


class Shortener:
    """Creates link rows and rewrites reply texts for one configuration."""

    def __init__(self, engine: Engine, settings: LinksSettings, secret: str) -> None:
        self.engine = engine
        self.settings = settings
        self.secret = secret
        self._own = f"{settings.public_base_url}/l/" if settings.public_base_url else None

    def short_url(self, code: str) -> str:
        return f"{self.settings.public_base_url}/l/{code}"

    def trackable(self, url: str) -> bool:
        """An allow-listed URL that is not already one of our short links."""
        return not (self._own and url.startswith(self._own)) and allowed(url, self.settings.allow)

    def rewrite(self, text: str, *, key: str, channel: str, conversation_id: str | None, now: datetime) -> str:
        """``text`` with every trackable URL replaced by its short link (unchanged when disabled)."""
        if not self.settings.enabled or "http" not in text.lower():
            return text
        spans = [(s, e, url) for s, e, url in find_urls(text) if self.trackable(url)]
        if not spans:
            return text
        codes: dict[str, str] = {}
        with self.engine.begin() as conn:
            for _s, _e, url in spans:
                if url not in codes:
                    code = derive_code(self.secret, key, url, self.settings.code_length)
                    if self._put(conn, code, url, channel, conversation_id, now):
                        codes[url] = code
        out = text
        for s, e, url in reversed(spans):
            if url in codes:
                out = out[:s] + self.short_url(codes[url]) + out[e:]
        return out

    def shorten(self, target: str, *, channel: str, now: datetime, conversation_id: str | None = None) -> str:
        """A new short code for an allow-listed ``target`` (ValueError when it is not allowed)."""
        if not self.trackable(target):
            raise ValueError(f"{target[:80]!r} is not on links.allow")
        with self.engine.begin() as conn:
            while True:
                code = new_code(self.settings.code_length)
                if self._put(conn, code, target, channel, conversation_id, now):
                    return code

    def _put(
        self, conn: Connection, code: str, target: str, channel: str, conversation_id: str | None, now: datetime
    ) -> bool:
        """Insert the row unless ``code`` exists; True when ``code`` now leads to ``target``
        (False only for a code already taken by another target: the URL then stays as it is)."""
        values = {
            "code": code,
            "target": target,
            "channel": channel,
            "conversation_id": conversation_id,
            "campaign": self.settings.campaign,
            "created_at": now.astimezone(UTC),
        }
        stmt = conflict_insert(conn.dialect.name, links)
        if stmt is not None:
            conn.execute(stmt.values(**values).on_conflict_do_nothing(index_elements=[links.c.code]))
        elif conn.execute(select(links.c.code).where(links.c.code == code)).first() is None:
            conn.execute(insert(links).values(**values))
        return conn.execute(select(links.c.target).where(links.c.code == code)).scalar_one() == target


def track_links(
    engine: Engine, settings: Settings, text: str, *, key: str, channel: str, conversation_id: str | None, now: datetime
) -> str:
    """The reply ``text`` as sent: allow-listed URLs tracked when ``links.enabled`` (the runtime's hook)."""
    if not settings.links.enabled:
        return text
    return Shortener(engine, settings.links, settings.server.secret_key).rewrite(
        text, key=key, channel=channel, conversation_id=conversation_id, now=now
    )
