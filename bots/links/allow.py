"""Which URLs may become tracked links, and which stored targets may be redirected to.

Pure functions over :class:`~bots.settings.links.LinksSettings` ``allow`` entries. The same
check guards both ends: a URL off the list is never shortened, and a stored target is checked
again at each redirect (a list narrowed after the link was sent stops redirecting to it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

__all__ = ["allowed", "find_urls"]

#: a URL in free text; trailing punctuation of the sentence is trimmed by :func:`find_urls`.
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»\u201d\u2019"


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of every http(s) URL in ``text``, sentence punctuation left out."""
    found = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        if url:
            found.append((m.start(), m.start() + len(url), url))
    return found


def _host_matches(entry: str, host: str) -> bool:
    if entry.startswith("*."):
        base = entry[2:].lower()
        return host == base or host.endswith("." + base)
    return host == entry.lower()


def allowed(url: str, entries: Sequence[str]) -> bool:
    """True when ``url`` is an http(s) URL without user info whose host or prefix is in ``entries``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not host or parts.username is not None:
        return False
    if any(c in url for c in "\\\r\n\t ") or not url.isprintable():
        return False
    for entry in entries:
        if "://" not in entry:
            if _host_matches(entry, host):
                return True
            continue
        prefix = urlsplit(entry)
        same_origin = (
            prefix.scheme.lower() == parts.scheme.lower()
            and (prefix.hostname or "").lower() == host
            and prefix.port == port
        )
        if same_origin and (parts.path or "/").startswith(prefix.path or "/"):
            return True
    return False
