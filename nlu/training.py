"""Training: one pipeline per language, skipped when its fingerprint is unchanged.

The fingerprint is a hash of the language's intent data, its sentiment data (shipped
and the brand's), the sentiment lexicon and sarcasm files (their content hash), the seed,
the component settings and :data:`CODE_VERSION`. It
is saved next to the pipeline (``<model_dir>/<lang>/fingerprint.json``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from spacy.language import Language

from .components import INTENTS, SENTIMENT, IntentComponent, SentimentComponent
from .data import intent_data_path, load_examples, load_sentiment, sentiment_data_paths
from .errors import BadTrainingData
from .pipeline import build_pipeline, component_configs
from .sentiment_model import features_version as sentiment_features_version

__all__ = ["CODE_VERSION", "TrainReport", "LanguageReport", "train", "needs_training", "fingerprint", "ProgressFn"]

#: bump when a change in the code changes what training produces.
CODE_VERSION = "nlu-3"  # nlu-3: scikit-learn's stratified held-out split (nlu-2: tweet-style sentiment)
FINGERPRINT_FILE = "fingerprint.json"

_Pipe = TypeVar("_Pipe")


def _pipe(nlp: Language, name: str, kind: type[_Pipe]) -> _Pipe:
    """The component ``name`` of ``nlp`` as its class (spaCy's ``get_pipe`` types it as a plain callable)."""
    pipe = nlp.get_pipe(name)
    if not isinstance(pipe, kind):
        raise TypeError(f"pipeline component {name!r} is a {type(pipe).__name__}, expected a {kind.__name__}")
    return pipe


#: progress(language, step description, steps done, steps total)
ProgressFn = Callable[[str, str, int, int], None]
_STEPS = 5


@dataclass(frozen=True)
class LanguageReport:
    language: str
    trained: bool
    reason: str
    path: str
    seconds: float = 0.0
    examples: int = 0
    intents: int = 0
    sentiment_examples: int = 0
    oos_threshold: float = 0.0


@dataclass(frozen=True)
class TrainReport:
    languages: tuple[LanguageReport, ...] = field(default_factory=tuple)

    @property
    def trained(self) -> list[str]:
        return [r.language for r in self.languages if r.trained]

    @property
    def skipped(self) -> list[str]:
        return [r.language for r in self.languages if not r.trained]


def _file_digest(h: hashlib._Hash, path: Path) -> None:
    h.update(path.name.encode())
    h.update(path.read_bytes())


def fingerprint(
    data_dir: str | Path, language: str, *, seed: int = 42, overrides: dict[str, dict[str, Any]] | None = None
) -> str:
    """Hash of everything that decides what training ``language`` produces."""
    h = hashlib.sha256()
    # the sentiment features (lexicon and sarcasm files: versions + content hash) too: a saved model
    # with other features is refused at load, so a change there must make `brandbot nlu train` retrain.
    h.update(f"{CODE_VERSION}|{sentiment_features_version()}|{language}|{seed}|".encode())
    h.update(json.dumps(component_configs(language, overrides), sort_keys=True).encode())
    _file_digest(h, intent_data_path(data_dir, language))
    for p in sentiment_data_paths(data_dir, language):
        _file_digest(h, p)
    return h.hexdigest()


def _stored(model_dir: Path, language: str) -> dict[str, Any]:
    f = model_dir / language / FINGERPRINT_FILE
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _stored_fingerprint(model_dir: Path, language: str) -> str | None:
    return _stored(model_dir, language).get("fingerprint")


def needs_training(
    data_dir: str | Path, model_dir: str | Path, languages: Sequence[str], *, seed: int | None = None
) -> bool:
    """True when a language has no trained pipeline or its data/settings/code changed.

    ``seed``: the training seed to compare with; None = the seed the model was trained with.
    """
    model_dir = Path(model_dir)
    for lang in languages:
        stored = _stored(model_dir, lang)
        use_seed = seed if seed is not None else int(stored.get("seed", 42))
        if stored.get("fingerprint") != fingerprint(data_dir, lang, seed=use_seed):
            return True
    return False


def train(
    data_dir: str | Path,
    model_dir: str | Path,
    languages: Sequence[str],
    *,
    seed: int = 42,
    progress: ProgressFn | None = None,
    force: bool = False,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> TrainReport:
    """Train (or skip, when unchanged) one pipeline per language.

    Args:
        data_dir: folder with ``<lang>.yml`` intent data (and optional ``sentiment/<lang>.jsonl``).
        model_dir: where ``<lang>/`` pipelines are written.
        languages: ISO 639-1 codes.
        seed: makes training reproducible.
        progress: ``progress(language, step, done, total)`` or None.
        force: retrain even when the fingerprint is unchanged.
        overrides: component settings, e.g. ``{"brandbot_intents": {"C": 0.5}}``.

    Returns:
        A :class:`TrainReport` saying, per language, trained or skipped and why.

    Raises:
        nlu.errors.BadTrainingData: a data file is missing or malformed.
    """
    model_dir = Path(model_dir)
    reports: list[LanguageReport] = []
    for lang in languages:
        note = progress or (lambda *_a: None)
        note(lang, "checking fingerprint", 0, _STEPS)
        fp = fingerprint(data_dir, lang, seed=seed, overrides=overrides)
        out = model_dir / lang
        stored = _stored_fingerprint(model_dir, lang)
        if not force and stored == fp:
            note(lang, "unchanged, skipped", _STEPS, _STEPS)
            reports.append(LanguageReport(lang, False, "unchanged (same data, settings and code)", str(out)))
            continue
        t0 = time.perf_counter()
        note(lang, "reading data", 1, _STEPS)
        examples = load_examples(data_dir, lang)
        sentiment = load_sentiment(data_dir, lang)
        nlp = build_pipeline(lang, overrides)
        note(lang, "training intents", 2, _STEPS)
        intents = _pipe(nlp, INTENTS, IntentComponent)
        intents.fit([e.text for e in examples], [e.label for e in examples], seed=seed)
        note(lang, "training sentiment", 3, _STEPS)
        if sentiment:
            labels = {e.label for e in sentiment}
            if len(labels) < 2:
                raise BadTrainingData(
                    ", ".join(map(str, sentiment_data_paths(data_dir, lang))),
                    f"sentiment data needs at least two labels, found only {sorted(labels)}",
                )
            _pipe(nlp, SENTIMENT, SentimentComponent).fit(
                [e.text for e in sentiment], [e.label for e in sentiment], seed=seed
            )
        note(lang, "saving", 4, _STEPS)
        tmp = model_dir / f".{lang}.tmp"
        model_dir.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        nlp.to_disk(tmp)
        (tmp / FINGERPRINT_FILE).write_text(
            json.dumps({"fingerprint": fp, "code_version": CODE_VERSION, "seed": seed}), encoding="utf-8"
        )
        if out.exists():
            old = model_dir / f".{lang}.old"
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
        model = intents.model
        reason = "forced" if force else ("no trained pipeline" if stored is None else "data, settings or code changed")
        reports.append(
            LanguageReport(
                lang,
                True,
                reason,
                str(out),
                round(time.perf_counter() - t0, 3),
                len(examples),
                int(model.info.get("intents", 0)) if model else 0,
                len(sentiment),
                float(model.threshold) if model else 0.0,
            )
        )
        note(lang, "done", _STEPS, _STEPS)
    return TrainReport(tuple(reports))
