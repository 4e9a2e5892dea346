"""Reading training data: intents (YAML or JSONL) and sentiment (JSONL), validated.

Intent data of one language lives in ``<data_dir>/<lang>.yml`` (or ``.yaml``)::

    language: en
    intents:
      greet:
        - hello
        - hi there

or ``<data_dir>/<lang>.jsonl`` with one ``{"text": ..., "intent": ...}`` per line.
Sentiment data: JSONL lines ``{"text": ..., "sentiment": "negative|neutral|positive"}``;
the package ships a default set per language (``nlu/data/sentiment/<lang>.jsonl``) and
a brand adds its own in ``<data_dir>/sentiment/<lang>.jsonl``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import BadTrainingData

__all__ = [
    "Example",
    "SENTIMENT_LABELS",
    "intent_data_path",
    "load_examples",
    "load_jsonl",
    "read_intent_file",
    "read_sentiment_file",
    "sentiment_data_paths",
    "load_sentiment",
    "SHIPPED_SENTIMENT_DIR",
]

SENTIMENT_LABELS = ("negative", "neutral", "positive")
SHIPPED_SENTIMENT_DIR = Path(__file__).resolve().parent / "data" / "sentiment"
_INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SUFFIXES = (".yml", ".yaml", ".jsonl")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str


def intent_data_path(data_dir: str | Path, language: str) -> Path:
    """The intent file of ``language`` in ``data_dir`` (raises if there is none)."""
    base = Path(data_dir)
    for suffix in _SUFFIXES:
        p = base / f"{language}{suffix}"
        if p.is_file():
            return p
    raise BadTrainingData(
        str(base),
        f"no intent data for language {language!r}: expected one of " + ", ".join(f"{language}{s}" for s in _SUFFIXES),
    )


def load_jsonl(path: str | Path, label_key: str, valid: Iterable[str] | None = None) -> list[Example]:
    """Read ``{"text": ..., label_key: ...}`` lines; blank lines and ``#`` comments are skipped."""
    p = Path(path)
    if not p.is_file():
        raise BadTrainingData(str(p), "file not found")
    allowed = set(valid) if valid is not None else None
    out: list[Example] = []
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadTrainingData(str(p), f"line {n} is not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise BadTrainingData(str(p), f'line {n} must be an object with "text" and "{label_key}"')
            text, label = obj.get("text"), obj.get(label_key)
            if not isinstance(text, str) or not text.strip():
                raise BadTrainingData(str(p), f'line {n}: "text" must be a non-empty string, got {text!r}')
            if not isinstance(label, str) or not label:
                raise BadTrainingData(str(p), f'line {n}: "{label_key}" must be a non-empty string, got {label!r}')
            if allowed is not None and label not in allowed:
                raise BadTrainingData(
                    str(p), f"line {n}: {label_key} {label!r} is not one of {', '.join(sorted(allowed))}"
                )
            out.append(Example(text.strip(), label))
    if not out:
        raise BadTrainingData(str(p), "no examples found")
    return out


def read_intent_file(path: str | Path, language: str | None = None) -> list[Example]:
    """Examples of one intent file (YAML ``intents:`` mapping or JSONL)."""
    p = Path(path)
    if p.suffix == ".jsonl":
        examples = load_jsonl(p, "intent")
    else:
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise BadTrainingData(str(p), "file not found") from exc
        except yaml.YAMLError as exc:
            raise BadTrainingData(str(p), f"not valid YAML: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("intents"), dict):
            raise BadTrainingData(str(p), "expected a top-level mapping with `intents: {name: [examples, ...]}`")
        declared = doc.get("language")
        if language is not None and declared is not None and str(declared) != language:
            raise BadTrainingData(str(p), f"`language: {declared}` does not match the file's language {language!r}")
        examples = []
        for name, items in doc["intents"].items():
            if not isinstance(items, list) or not items:
                raise BadTrainingData(str(p), f"intent {name!r} must be a non-empty list of example strings")
            for k, item in enumerate(items):
                if isinstance(item, bool) or item is None:
                    raise BadTrainingData(
                        str(p),
                        f"intent {name!r}, example #{k + 1} was read as {item!r}: YAML turns unquoted "
                        'yes/no/on/off/null into booleans or null, so quote it ("yes")',
                    )
                if not isinstance(item, (str, int, float)) or not str(item).strip():
                    raise BadTrainingData(
                        str(p), f"intent {name!r}, example #{k + 1} must be a non-empty string, got {item!r}"
                    )
                examples.append(Example(str(item).strip(), str(name)))
    for ex in examples:
        if not _INTENT_NAME.match(ex.label):
            raise BadTrainingData(str(p), f"intent name {ex.label!r} must be lower_snake_case (a-z, 0-9, _)")
    if len({ex.label for ex in examples}) < 2:
        raise BadTrainingData(str(p), "at least two intents are needed to train a classifier")
    return examples


def load_examples(data_dir: str | Path, language: str) -> list[Example]:
    """Intent examples of ``language`` from ``data_dir``."""
    return read_intent_file(intent_data_path(data_dir, language), language)


def read_sentiment_file(path: str | Path) -> list[Example]:
    return load_jsonl(path, "sentiment", SENTIMENT_LABELS)


def sentiment_data_paths(data_dir: str | Path, language: str) -> list[Path]:
    """The shipped default sentiment file and the brand's own, those that exist."""
    paths = [SHIPPED_SENTIMENT_DIR / f"{language}.jsonl", Path(data_dir) / "sentiment" / f"{language}.jsonl"]
    return [p for p in paths if p.is_file()]


def load_sentiment(data_dir: str | Path, language: str) -> list[Example]:
    out: list[Example] = []
    for p in sentiment_data_paths(data_dir, language):
        out += read_sentiment_file(p)
    return out
