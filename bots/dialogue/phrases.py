"""Consent, opt-out and erasure phrases read from a YAML file, matched with typos tolerated.

The phrases are data (``bots/dialogue/privacy.yml``, or ``feedback.phrases_file``), never
Python lists. Matching is pure and cheap (a customer message is short):

- text and phrases are normalised alike: lower case, accents dropped, apostrophes and
  punctuation made spaces ("N'analysez plus" -> "n analysez plus");
- a phrase of one or two words must be the whole message, within ``similarity``
  (difflib's ratio: "jaccepte" and "j'acepte" are "j'accepte"), so "je refuse de payer"
  is not a withdrawal;
- a longer phrase may sit inside the message: any run of the message's words about as
  long as the phrase, within ``similarity``;
- a ``grant`` phrase never matches a message holding a negation the phrase does not have
  ("you can't use my feedback" is not "you can use my feedback").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError

from ..errors import ConfigError
from ..settings._base import Section
from ..settings.dialogue import Response

__all__ = ["KINDS", "Kind", "PrivacyFile", "PhraseMatcher", "DEFAULT_FILE", "load_privacy_file", "loose"]

#: the kinds of phrase, in the order a message is checked against them.
KINDS = ("erase", "opt_out", "withdraw", "grant", "later", "no_comment")
Kind = Literal["erase", "opt_out", "withdraw", "grant", "later", "no_comment"]
#: the file shipped with the framework.
DEFAULT_FILE = Path(__file__).with_name("privacy.yml")
#: words that turn a grant into its opposite (normalised: accents and apostrophes gone).
#: "don't" becomes "don t", "n'utilisez" "n utilisez": hence the lone "t" and "n".
NEGATIONS = frozenset({"not", "t", "dont", "cant", "cannot", "never", "no", "ne", "n", "pas", "jamais"})
_SHORT = 2


class PrivacyFile(Section):
    """``phrases``: kind -> language -> phrases; ``responses``: what the bot answers."""

    phrases: dict[Kind, dict[str, list[str]]] = Field(default_factory=dict)
    responses: dict[str, Response] = Field(default_factory=dict)


def load_privacy_file(path: Path | None = None) -> PrivacyFile:
    """Read and validate a phrases file (default: the shipped one).

    Raises:
        ConfigError: the file is missing, not YAML, or has an unknown kind or key.
    """
    file = path or DEFAULT_FILE
    if not file.is_file():
        raise ConfigError([f"feedback.phrases_file: {file} does not exist"], str(file))
    try:
        return PrivacyFile.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError([f"feedback.phrases_file {file}: {exc}"], str(file)) from exc


def loose(text: str) -> str:
    """Lower case, accents dropped, every non-letter-or-digit a space, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    plain = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


@dataclass(frozen=True)
class _Phrase:
    text: str
    words: tuple[str, ...]
    negated: bool
    language: str


class PhraseMatcher:
    """Which kind of phrase a message is (see the module docstring).

    Args:
        phrases: kind -> language -> phrases (every language is tried: a French customer
            may write "unsubscribe").
        similarity: minimum difflib ratio for a match (1.0: exact after normalising).
    """

    def __init__(self, phrases: dict[Kind, dict[str, list[str]]], similarity: float = 0.86) -> None:
        self.similarity = similarity
        self._phrases: dict[str, list[_Phrase]] = {}
        for kind in KINDS:
            found = []
            for language, texts in phrases.get(kind, {}).items():  # type: ignore[call-overload]
                for raw in texts:
                    t = loose(raw)
                    if t:
                        words = tuple(t.split())
                        found.append(_Phrase(t, words, any(w in NEGATIONS for w in words), language))
            self._phrases[kind] = found

    def match(self, text: str, kinds: tuple[str, ...] = KINDS, long_only: tuple[str, ...] = ()) -> str | None:
        """The kind among ``kinds`` whose closest phrase is closest to ``text`` (ties: :data:`KINDS`
        order), if within ``similarity``; else None. For the kinds in ``long_only`` only phrases of
        three words or more count ("i agree" answers the question asked, not the consent one)."""
        found = self.find(text, kinds, long_only)
        return found[0] if found else None

    def find(
        self, text: str, kinds: tuple[str, ...] = KINDS, long_only: tuple[str, ...] = ()
    ) -> tuple[str, str] | None:
        """``(kind, language of the phrase)`` of :meth:`match`, else None."""
        t = loose(text)
        if not t:
            return None
        words = t.split()
        negated = any(w in NEGATIONS for w in words)
        best, chosen = 0.0, None
        for kind in KINDS:
            if kind not in kinds:
                continue
            for p in self._phrases[kind]:
                if (kind == "grant" and negated and not p.negated) or (kind in long_only and len(p.words) <= _SHORT):
                    continue
                score = self._score(p, t, words)
                if score > best:
                    best, chosen = score, (kind, p.language)
        return chosen if best >= self.similarity else None

    def is_(self, kind: str, text: str) -> bool:
        return self.match(text, (kind,)) == kind

    def _score(self, p: _Phrase, t: str, words: list[str]) -> float:
        if len(p.words) <= _SHORT:
            return self._ratio(p.text, t)
        if len(words) < len(p.words) - 1:
            return 0.0
        if f" {p.text} " in f" {t} ":
            return 1.0
        n = len(p.words)
        best = 0.0
        for size in (n - 1, n, n + 1):
            for i in range(0, max(1, len(words) - size + 1)):
                best = max(best, self._ratio(p.text, " ".join(words[i : i + size])))
        return best

    def _ratio(self, a: str, b: str) -> float:
        if a == b:
            return 1.0
        if self.similarity >= 1.0 or abs(len(a) - len(b)) > max(2, len(a) // 5):
            return 0.0
        return SequenceMatcher(None, a, b, autojunk=False).ratio()
