"""The runtime face of the NLU: load trained pipelines once, parse messages.

Thread-safe: after :meth:`NLU.load` nothing is mutated while parsing (models are
read-only arrays, the date parser is behind a lock), so worker threads may share
one instance. Deterministic for the same model and input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from . import components  # noqa: F401 - imported for its effect: registers the factories before spacy.load
from .errors import NotTrained, UnknownLanguage, UnreadableText
from .langid import LanguageIdentifier
from .result import OUT_OF_SCOPE, Entity, IntentScore, NLUResult, ParseContext, Sentiment
from .training import FINGERPRINT_FILE

__all__ = ["NLU"]

_SURROGATES = re.compile("[\ud800-\udfff]")


def _readable(text: str) -> None:
    """Raise :class:`UnreadableText` for a lone surrogate (spaCy hashes tokens as UTF-8)."""
    found = _SURROGATES.search(text)
    if found:
        raise UnreadableText(
            f"the text holds a lone surrogate (U+{ord(found.group()):04X}) at position {found.start()}"
        )


class NLU:
    """Language -> intent -> entities -> sentiment for one message; one spaCy pipeline per language."""

    #: a short message kept in the conversation's language but not understood there is
    #: tried in the other languages; an intent found there with at least this confidence wins
    #: ("merci" in an English conversation is ``thanks``; the language stays English).
    CROSS_LANGUAGE_CONFIDENCE = 0.8

    def __init__(
        self, pipelines: dict[str, Language], default_language: str, *, switch_confidence: float = 0.8
    ) -> None:
        if default_language not in pipelines:
            raise UnknownLanguage(default_language, sorted(pipelines))
        self.pipelines = pipelines
        self.languages = list(pipelines)
        self.default_language = default_language
        self.langid = LanguageIdentifier(self.languages, default_language, switch_confidence=switch_confidence)
        self._steps = {lang: [proc for _name, proc in nlp.pipeline] for lang, nlp in pipelines.items()}

    @classmethod
    def load(
        cls, model_dir: str | Path, languages: Sequence[str], default_language: str, *, switch_confidence: float = 0.8
    ) -> NLU:
        """Load the trained pipelines of ``languages`` from ``model_dir``.

        Raises:
            nlu.errors.NotTrained: a language has no trained pipeline (run `brandbot nlu train`).
            nlu.errors.UnknownLanguage: ``default_language`` is not among ``languages``.
        """
        model_dir = Path(model_dir)
        if default_language not in languages:
            raise UnknownLanguage(default_language, list(languages))
        pipelines: dict[str, Language] = {}
        for lang in languages:
            path = model_dir / lang
            if not (path / FINGERPRINT_FILE).is_file() or not (path / "config.cfg").is_file():
                raise NotTrained(lang, str(model_dir))
            try:
                json.loads((path / FINGERPRINT_FILE).read_text(encoding="utf-8"))
                pipelines[lang] = spacy.load(path)
            except (OSError, ValueError) as exc:
                raise NotTrained(lang, str(model_dir), reason=f"unreadable pipeline ({exc})") from exc
        engine = cls(pipelines, default_language, switch_confidence=switch_confidence)
        engine.warm_up()
        return engine

    def warm_up(self) -> None:
        """Load the date parser's language data now rather than on the first customer's "tomorrow"."""
        for steps in self._steps.values():
            for proc in steps:
                extractor = getattr(proc, "extractor", None)
                if extractor is not None:
                    extractor.extract("12/03 10:00 tomorrow demain morgen mañana")

    # ------------------------------------------------------------------------------
    def detect_language(self, text: str, language_hint: str | None = None, context: ParseContext | None = None) -> str:
        """The language ``parse`` would use for ``text``."""
        return self._language(text, language_hint, context)[0]

    def _language(self, text: str, language_hint: str | None, context: ParseContext | None) -> tuple[str, str]:
        sticky = (context.language if context is not None else None) or language_hint
        return self.langid.identify_with_reason(text, sticky)

    def parse(self, text: str, language_hint: str | None = None, context: ParseContext | None = None) -> NLUResult:
        """Everything the NLU says about one message.

        Args:
            text: the customer's message.
            language_hint: a language the caller believes likely (e.g. the user's app locale);
                used like the conversation's language when ``context.language`` is None.
            context: the conversation's clock, time zone and language (stickiness).

        Returns:
            An :class:`nlu.result.NLUResult`.

        Raises:
            UnreadableText: ``text`` holds a lone surrogate.
        """
        ctx = context or ParseContext()
        _readable(text)
        lang, how = self._language(text, language_hint, ctx)
        result = self._run(text, lang, ctx)
        return self._cross_language(text, lang, how, result, ctx)

    def _make_doc(self, text: str, lang: str, ctx: ParseContext) -> Doc:
        """The tokenised message with its text and context attached for the components."""
        doc = self.pipelines[lang].make_doc(text)
        doc.user_data["brandbot_text"] = text
        doc._.parse_context = ctx
        return doc

    def _run(self, text: str, lang: str, ctx: ParseContext) -> NLUResult:
        doc = self._make_doc(text, lang, ctx)
        for proc in self._steps[lang]:
            doc = proc(doc)
        return self._result(doc, lang, text)

    def _cross_language(self, text: str, lang: str, how: str, result: NLUResult, ctx: ParseContext) -> NLUResult:
        """A short message not understood in the conversation's language, tried in the others."""
        if how not in ("sticky", "default") or len(self.languages) < 2 or not text.strip():
            return result
        if result.intent != OUT_OF_SCOPE and result.confidence >= 0.5:
            return result
        for other in self.languages:
            if other == lang:
                continue
            alt = self._run(text, other, ctx)
            if alt.intent != OUT_OF_SCOPE and alt.confidence >= self.CROSS_LANGUAGE_CONFIDENCE:
                return replace(alt, language=lang)
        return result

    def parse_batch(
        self, texts: Sequence[str], language_hint: str | None = None, context: ParseContext | None = None
    ) -> list[NLUResult]:
        """``parse`` for many messages of the same context, batched per language (same results)."""
        ctx = context or ParseContext()
        for t in texts:
            _readable(t)
        decided = [self._language(t, language_hint, ctx) for t in texts]
        langs = [lg for lg, _how in decided]
        out: list[NLUResult | None] = [None] * len(texts)
        for lang in dict.fromkeys(langs):
            idx = [i for i, lg in enumerate(langs) if lg == lang]
            docs = [self._make_doc(texts[i], lang, ctx) for i in idx]
            for proc in self._steps[lang]:
                docs = list(proc.pipe(docs)) if hasattr(proc, "pipe") else [proc(d) for d in docs]
            for i, d in zip(idx, docs, strict=True):
                out[i] = self._cross_language(texts[i], lang, decided[i][1], self._result(d, lang, texts[i]), ctx)
        return [r for r in out if r is not None]

    @staticmethod
    def _result(doc: Doc, lang: str, text: str) -> NLUResult:
        ext = doc._
        intent = ext.intent or OUT_OF_SCOPE
        ranking = tuple(IntentScore(n, c) for n, c in (ext.intent_ranking or ()))
        entities: tuple[Entity, ...] = tuple(ext.entities or ())
        return NLUResult(
            text=text,
            language=lang,
            intent=intent,
            confidence=float(ext.intent_confidence),
            ranking=ranking,
            entities=entities,
            sentiment=Sentiment(float(ext.sentiment_score), ext.sentiment_label),
        )
