"""Language identification per message, sticky within a conversation.

Rules first, lingua second:
1. one configured language: that one;
2. nothing alphabetic (emojis, "14C", "X7K9QZ") or a short message (at most
   ``short_words`` words, like "ok", "merci", "Dupont"): the conversation's language,
   else a small lexicon of greetings/acknowledgements, else the default;
3. otherwise lingua (restricted to the configured languages, built once): its best
   language, unless the conversation has a language and lingua is not confident
   (below ``switch_confidence``) that the customer switched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import UnknownLanguage
from .features import normalize

if TYPE_CHECKING:  # at run time lingua is imported by _build, only when there is a choice of languages
    from lingua import LanguageDetector

__all__ = ["LanguageIdentifier"]

_ALPHA = re.compile(r"[^\W\d_]{2,}")
#: words that by themselves say which language a short message is in.
SHORT_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "hi hello hey thanks thank thx yes yeah yep yup nope bye goodbye please sure cheers "
        "great awesome help agent human sorry what why where when how the you my is".split()
    ),
    "fr": frozenset(
        "bonjour bonsoir salut coucou merci mci oui ouais non nan svp stp revoir bientot "
        "daccord accord super genial aide conseiller humain pardon quoi pourquoi ou quand "
        "comment le la les mon ma mes est vous".split()
    ),
    "de": frozenset("hallo danke ja nein bitte tschuss".split()),
    "nl": frozenset("hallo dank bedankt ja nee alsjeblieft doei".split()),
    "es": frozenset("hola gracias si adios porfavor".split()),
}

#: frequent function words, unambiguous between the languages listed here; a message whose
#: words clearly vote for one language skips lingua (the slowest step of a parse).
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the is are was were my your our their what when where which who why how can could would "
        "should will do does did have has had to of for with from at it this that these those and "
        "but or not no i you we they be been please want need get there here an any some all "
        "just about up out if than then so too very".split()
    ),
    "fr": frozenset(
        "le la les un une des du de je tu il elle nous vous ils elles mon ma mes ton ta tes notre "
        "votre nos vos leur est sont etait ai as avons avez ont pour avec dans sur par pas ne que "
        "qui quoi quand comment pourquoi ou et mais donc car ce cette ces suis etes fait faire "
        "veux voudrais peux pouvez mais tres aussi bien au aux".split()
    ),
    "de": frozenset(
        "der die das ein eine ich du wir ihr sie ist sind mein meine nicht und oder mit fur auf "
        "von zu wie was wann warum bitte".split()
    ),
    "nl": frozenset(
        "de het een ik jij wij zij is zijn mijn niet en of met voor op van te hoe wat wanneer "
        "waarom alstublieft".split()
    ),
    "es": frozenset(
        "el los las un una yo tu nosotros es son mi mis no y o con para por de que como cuando donde porque".split()
    ),
}


class LanguageIdentifier:
    """Decides the language of one message among the configured ones.

    Args:
        languages: ISO 639-1 codes the bot speaks.
        default_language: used when nothing else decides.
        switch_confidence: lingua confidence needed to leave the conversation's language.
        short_words: messages with at most this many words follow the rules only.
    """

    def __init__(
        self, languages: Sequence[str], default_language: str, *, switch_confidence: float = 0.8, short_words: int = 2
    ) -> None:
        self.languages = list(dict.fromkeys(languages))
        if not self.languages:
            raise UnknownLanguage(default_language, [])
        if default_language not in self.languages:
            raise UnknownLanguage(default_language, self.languages)
        self.default_language = default_language
        self.switch_confidence = switch_confidence
        self.short_words = short_words
        self._detector: LanguageDetector | None = None
        self._codes: dict[object, str] = {}
        known = [STOPWORDS.get(lang) for lang in self.languages]
        self._stop = None if any(k is None for k in known) else [k for k in known if k is not None]
        if self._stop is not None:  # drop words shared by two configured languages
            shared = {w for i, a in enumerate(self._stop) for b in self._stop[i + 1 :] for w in a & b}
            self._stop = [k - shared for k in self._stop]
        if len(self.languages) > 1:
            self._build()

    def _build(self) -> None:
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        codes = []
        for lang in self.languages:
            code = getattr(IsoCode639_1, lang.upper(), None)
            if code is None:  # lingua has no model for it
                raise UnknownLanguage(lang, [x for x in self.languages if getattr(IsoCode639_1, x.upper(), None)])
            codes.append(code)
        self._detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_preloaded_language_models().build()

    def identify(self, text: str, sticky: str | None = None) -> str:
        """The language of ``text``; ``sticky`` is the conversation's current language."""
        return self.identify_with_reason(text, sticky)[0]

    def identify_with_reason(self, text: str, sticky: str | None = None) -> tuple[str, str]:
        """(language, how it was decided): "only", "sticky", "lexicon", "default", "stopwords", "lingua"."""
        if sticky not in self.languages:
            sticky = None
        detector = self._detector
        if detector is None:
            return self.languages[0], "only"
        words = _ALPHA.findall(normalize(text))
        if len(words) <= self.short_words:
            if sticky:
                return sticky, "sticky"
            votes = {lang for w in words for lang in self.languages if w in SHORT_WORDS.get(lang, ())}
            if len(votes) == 1:
                return votes.pop(), "lexicon"
            if not words:
                return self.default_language, "default"
        voted = self._stopword_vote(words)
        if voted is not None:
            return voted, "stopwords"
        best, conf = self._lingua(detector, text)
        if best is None:
            return (sticky, "sticky") if sticky else (self.default_language, "default")
        if sticky and best != sticky and conf < self.switch_confidence:
            return sticky, "sticky"
        return best, "lingua"

    def _stopword_vote(self, words: list[str]) -> str | None:
        """A language when its function words clearly dominate (>= 2 hits, others none), else None."""
        lists = self._stop
        if lists is None:
            return None
        hits = [sum(1 for w in words if w in sw) for sw in lists]
        order = sorted(range(len(hits)), key=hits.__getitem__, reverse=True)
        first, second = hits[order[0]], hits[order[1]]
        if first >= 2 and second == 0 and first >= len(words) // 5:
            return self.languages[order[0]]
        return None

    def _lingua(self, detector: LanguageDetector, text: str) -> tuple[str | None, float]:
        values = detector.compute_language_confidence_values(text)
        if not values:
            return None, 0.0
        top = values[0]
        lang = self._codes.get(top.language)
        if lang is None:
            lang = self._codes[top.language] = top.language.iso_code_639_1.name.lower()
        return lang, float(top.value)
