"""Messages the bot cannot read as a request, and what it says to them.

Pure helpers for the runtime and the engine:

- :func:`media_kind`: a message with attachments and no text (a sticker, a voice note, a photo,
  a location...): answered once with what the bot received and what it can read;
- :func:`is_reaction`: an emoji reaction to an earlier message (``kind="event"``,
  ``event="reaction"``, from the Meta connectors): a signal, never answered;
- :func:`only_punctuation`: "?", "??", "...": not a request (a "How can I help?", or the open
  question again);
- :func:`only_emoji`: "👍" alone (how a WhatsApp reaction reaches some providers): no answer
  when nothing is being asked;
- :class:`Unreadable`: the replies, from ``unreadable.yml`` (defaults for every brand) with
  the brand domain's responses of the same name over them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from connectors.base import Inbound

from ..settings.dialogue import Response
from .responses import Reply, render_response

__all__ = [
    "DEFAULT_FILE",
    "LANGUAGE_UNSUPPORTED",
    "HOW_CAN_I_HELP",
    "Unreadable",
    "media_key",
    "media_kind",
    "is_reaction",
    "only_punctuation",
    "only_emoji",
]

DEFAULT_FILE = Path(__file__).with_name("unreadable.yml")
LANGUAGE_UNSUPPORTED = "language_unsupported"
HOW_CAN_I_HELP = "how_can_i_help"
#: attachment kinds with a response of their own (``media_<kind>``); any other: ``media_document``.
MEDIA_KINDS = ("image", "sticker", "audio", "video", "document", "location", "contact")

_PUNCTUATION = re.compile(r"^[\s?\uff1f¿!¡.…,;:]+$")  # \uff1f: the full-width question mark


def media_kind(inbound: Inbound) -> str | None:
    """The kind of the first attachment of a message with no text (a caption is text), else None."""
    if inbound.kind != "message" or not inbound.attachments or inbound.text.strip() or inbound.payload:
        return None
    return str(inbound.attachments[0].kind)


def media_key(kind: str) -> str:
    """The response saying what the bot received: ``media_<kind>``."""
    return f"media_{kind}" if kind in MEDIA_KINDS else "media_document"


def is_reaction(inbound: Inbound) -> bool:
    """An emoji reaction (or its removal) to an earlier message."""
    return inbound.kind == "event" and inbound.event == "reaction"


def only_punctuation(text: str) -> bool:
    """ "?", "??", "...", "?!": punctuation and nothing else."""
    return bool(_PUNCTUATION.match(text))


def only_emoji(text: str) -> bool:
    """Emoji (symbols, their joiners and skin tones) and spaces only, at least one symbol."""
    seen = False
    for c in text:
        cat = unicodedata.category(c)
        if cat == "So" or cat == "Sk":
            seen = True
        elif not (c.isspace() or cat in ("Mn", "Me", "Cf") or c == "\ufe0f"):
            return False
    return seen


class _File:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.responses = {k: Response.model_validate(v) for k, v in (data.get("responses") or {}).items()}
        self.names: dict[str, dict[str, str]] = dict(data.get("language_names") or {})
        self.and_word: dict[str, str] = dict(data.get("and_word") or {})


@cache
def _load(path: Path) -> _File:
    return _File(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


@dataclass(frozen=True)
class Unreadable:
    """The replies to messages the bot cannot read.

    Args:
        responses: the brand domain's responses (override the file's of the same name).
        languages: the languages the brand speaks.
        default_language: used when a response has no text in the asked language.
    """

    responses: Mapping[str, Response]
    languages: tuple[str, ...]
    default_language: str

    def reply(self, key: str, language: str) -> Reply:
        """Response ``key`` (a brand's own, else the default) in ``language``."""
        resp = self.responses.get(key) or _load(DEFAULT_FILE).responses[key]
        return render_response(resp, language, {"languages": self.spoken(language)}, key, self.default_language)

    def languages_reply(self) -> Reply:
        """ "I only speak ..." once in each of the brand's languages, one line each."""
        lines = [self.reply(LANGUAGE_UNSUPPORTED, lang).text for lang in self.languages]
        return Reply("\n".join(dict.fromkeys(lines)), (), LANGUAGE_UNSUPPORTED)

    def spoken(self, language: str) -> str:
        """The brand's languages named in ``language``, that one first: "français et anglais"."""
        file = _load(DEFAULT_FILE)
        names = file.names.get(language, {})
        order = sorted(self.languages, key=lambda x: x != language)
        return _join([names.get(x, x) for x in order], file.and_word.get(language, "and"))


def _join(items: Sequence[str], and_word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {and_word} " + items[-1]
