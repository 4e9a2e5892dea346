"""Pure text helpers shared by connectors: splitting long text, numbered options."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .base import QuickReply

__all__ = ["split_text", "render_numbered", "match_option"]

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _cut_point(text: str, limit: int) -> int:
    """Where to cut ``text`` (longer than ``limit``): paragraph, line, sentence, word, else hard."""
    window = text[: limit + 1]
    for sep in ("\n\n", "\n"):
        at = window.rfind(sep, 0, limit + 1)
        if at > limit // 3:
            return at
    ends = [m.start() for m in _SENTENCE_END.finditer(window) if m.start() <= limit]
    if ends and ends[-1] > limit // 3:
        return ends[-1]
    at = max(window.rfind(" ", 0, limit + 1), window.rfind("\t", 0, limit + 1))
    if at > 0:
        return at
    return limit


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters, on natural boundaries.

    Prefers paragraph, then line, then sentence, then word boundaries; a single
    word longer than ``limit`` is cut hard. Whitespace at the cut is dropped.

    Raises:
        ValueError: ``limit`` is not positive.
    """
    if limit <= 0:
        raise ValueError(f"limit must be a positive number of characters, got {limit}")
    text = text.strip()
    chunks: list[str] = []
    while len(text) > limit:
        at = _cut_point(text, limit)
        head = text[:at].rstrip()
        if not head:  # only whitespace before the cut: cut hard
            head, at = text[:limit], limit
        chunks.append(head)
        text = text[at:].lstrip()
    if text:
        chunks.append(text)
    return chunks


def render_numbered(text: str, options: Sequence[QuickReply]) -> str:
    """``text`` followed by the options as ``1. Yes`` lines (for channels without buttons).

    Options titled by their own number ("1".."5", a rating) are not listed: "1. 1" says
    nothing the question does not; the customer's digit still picks the option.
    """
    if not options or all(q.title.strip() == str(i) for i, q in enumerate(options, start=1)):
        return text
    lines = "\n".join(f"{i}. {q.title}" for i, q in enumerate(options, start=1))
    return f"{text}\n\n{lines}" if text else lines


_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def match_option(answer: str, options: Sequence[QuickReply]) -> QuickReply | None:
    """The option a customer picked by number ("2", "2.") or by its exact title; else None."""
    m = _NUMBER.match(answer)
    if m:
        n = int(m.group(1))
        return options[n - 1] if 1 <= n <= len(options) else None
    wanted = answer.strip().casefold()
    for q in options:
        if q.title.strip().casefold() == wanted:
            return q
    return None
