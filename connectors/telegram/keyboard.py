"""Quick replies as an inline keyboard, with callback data kept within Telegram's 64 bytes."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..base import QuickReply

__all__ = ["MAX_CALLBACK_BYTES", "HASH_PREFIX", "callback_data_for", "build_keyboard"]

MAX_CALLBACK_BYTES = 64
#: callback data starting with this is a digest of a longer payload kept in Redis.
HASH_PREFIX = "#h:"


def callback_data_for(payload: str) -> tuple[str, bool]:
    """The callback data to put on a button for ``payload``.

    Returns:
        ``(data, hashed)``: the payload itself when it fits in 64 UTF-8 bytes, else
        ``"#h:"`` + a URL-safe digest (``hashed`` True: store the payload under it).
    """
    raw = payload.encode("utf-8")
    if len(raw) <= MAX_CALLBACK_BYTES and not payload.startswith(HASH_PREFIX):
        return payload, False
    digest = base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:24]).decode("ascii")
    return HASH_PREFIX + digest, True


def build_keyboard(options: Sequence[QuickReply], per_row: int = 1) -> tuple[InlineKeyboardMarkup, dict[str, str]]:
    """An inline keyboard with one button per option, ``per_row`` buttons a row.

    Returns:
        The markup and the hashed callback data to remember (data -> full payload).
    """
    if per_row < 1:
        raise ValueError(f"per_row must be at least 1, got {per_row}")
    buttons: list[InlineKeyboardButton] = []
    to_store: dict[str, str] = {}
    for q in options:
        data, hashed = callback_data_for(q.payload)
        if hashed:
            to_store[data] = q.payload
        buttons.append(InlineKeyboardButton(q.title[:64] or q.payload[:64], callback_data=data))
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    return InlineKeyboardMarkup(rows), to_store
