"""``brandbot nlu``: train the NLU, evaluate it (own data or external files), parse a message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.input_text import BadInput, clean_text

from ..errors import BrandbotError
from ._state import console, friendly_errors, pass_state

__all__ = ["COMMANDS", "nlu_group"]

#: longest message ``nlu parse`` takes (Telegram's limit; the NLU is meant for chat messages).
PARSE_MAX_CHARS = 4096


@contextmanager
def _nlu_errors() -> Iterator[None]:
    """Show the NLU's own errors (nlu never imports bots) like every brandbot error."""
    from nlu.errors import NLUError

    try:
        yield
    except NLUError as exc:
        raise BrandbotError(str(exc)) from exc


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.fields[label]}"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _pct(v: Any) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


@click.group("nlu")
def nlu_group() -> None:
    """Train and evaluate the NLU (intents, out-of-scope, entities, sentiment)."""


@nlu_group.command("train")
@click.option("--force", is_flag=True, help="Retrain even when data, settings and code are unchanged.")
@pass_state
@friendly_errors
def train_cmd(state: Any, force: bool) -> None:
    """Train one pipeline per configured language (skipped when unchanged)."""
    import nlu

    s = state.settings()
    data_dir, model_dir = s.path(s.nlu.data_dir), s.path(s.nlu.model_dir)
    langs = list(s.brand.languages)
    with _nlu_errors(), _progress() as bar:
        tasks = {lang: bar.add_task("waiting", total=5, label=lang) for lang in langs}

        def progress(lang: str, step: str, done: int, total: int) -> None:
            bar.update(tasks[lang], description=step, completed=done, total=total)

        report = nlu.train(data_dir, model_dir, langs, seed=s.nlu.seed, progress=progress, force=force)
    table = Table(title=escape(f"NLU models in {model_dir}"))
    for col in ("language", "result", "examples", "intents", "sentiment ex.", "oos threshold", "seconds"):
        table.add_column(col)
    for r in report.languages:
        if r.trained:
            table.add_row(
                r.language,
                f"trained ({r.reason})",
                str(r.examples),
                str(r.intents),
                str(r.sentiment_examples),
                f"{r.oos_threshold:.3f}",
                f"{r.seconds:.1f}",
            )
        else:
            table.add_row(r.language, f"skipped: {r.reason}", "", "", "", "", "")
    console.print(table)
    if not report.trained:
        console.print("Nothing changed since the last training; use --force to retrain.")


def _intent_tables(title: str, m: dict[str, Any]) -> None:
    summary = Table(title=title)
    for col in ("accuracy", "in-scope acc.", "oos recall", "oos precision", "macro F1", "examples"):
        summary.add_column(col)
    summary.add_row(
        _pct(m["accuracy"]),
        _pct(m["in_scope_accuracy"]),
        _pct(m["out_of_scope_recall"]),
        _pct(m["out_of_scope_precision"]),
        _pct(m["macro_f1"]),
        str(m["examples"]),
    )
    console.print(summary)
    per = Table(title="per intent")
    for col in ("intent", "precision", "recall", "F1", "support"):
        per.add_column(col)
    for name, v in sorted(m["per_intent"].items(), key=lambda kv: kv[1]["f1"]):
        per.add_row(name, _pct(v["precision"]), _pct(v["recall"]), _pct(v["f1"]), str(v["support"]))
    console.print(per)
    if m["confused"]:
        conf = Table(title="most confused pairs")
        for col in ("true", "predicted", "count"):
            conf.add_column(col)
        for c in m["confused"]:
            conf.add_row(c["true"], c["predicted"], str(c["count"]))
        console.print(conf)


_JSON_KEYS = (
    "accuracy",
    "in_scope_accuracy",
    "out_of_scope_recall",
    "out_of_scope_precision",
    "macro_f1",
    "train_seconds",
    "messages_per_second",
)


@nlu_group.command("evaluate")
@click.option("--train", "train_path", type=click.Path(exists=True, dir_okay=False), help="Training JSONL file.")
@click.option("--test", "test_path", type=click.Path(exists=True, dir_okay=False), help="Test JSONL file.")
@click.option("--lang", "language", default=None, help="Language (default: all configured / default language).")
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds on the bot's own data.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON on stdout.")
@pass_state
@friendly_errors
def evaluate_cmd(
    state: Any, train_path: str | None, test_path: str | None, language: str | None, folds: int, as_json: bool
) -> None:
    """Cross-validate on the bot's data, or train on --train and report on --test."""
    from nlu.data import load_examples
    from nlu.evaluation import cross_validate, evaluate_intent_files

    if bool(train_path) != bool(test_path):
        raise BrandbotError("give both --train and --test (JSONL files), or neither to cross-validate the bot's data")
    s = state.settings()
    results: dict[str, Any] = {}
    with _nlu_errors(), _progress() as bar:
        if train_path and test_path:
            lang = language or s.brand.default_language
            task = bar.add_task("starting", total=3, label=lang)
            m = evaluate_intent_files(
                train_path,
                test_path,
                seed=s.nlu.seed,
                note=lambda d, i, n: bar.update(task, description=d, completed=i, total=n),
            )
            m["language"] = lang
            results[lang] = m
        else:
            langs = [language] if language else list(s.brand.languages)
            for lang in langs:
                task = bar.add_task("starting", total=folds, label=lang)
                ex = load_examples(s.path(s.nlu.data_dir), lang)

                def note(d: str, i: int, n: int, t: TaskID = task) -> None:
                    bar.update(t, description=d, completed=i, total=n)

                m = cross_validate(ex, folds=folds, seed=s.nlu.seed, note=note)
                m["language"] = lang
                results[lang] = m
    if as_json:
        out = {lang: {**{k: m.get(k) for k in _JSON_KEYS}, **m} for lang, m in results.items()}
        click.echo(json.dumps(out[next(iter(out))] if len(out) == 1 else out, indent=2, default=str))
        return
    for lang, m in results.items():
        kind = "external files" if train_path else f"{m['folds']}-fold cross-validation"
        _intent_tables(f"intents ({lang}), {kind}", m)
        if m.get("messages_per_second"):
            console.print(
                f"trained in {m['train_seconds']:.1f}s; {m['messages_per_second']:.0f} messages/s "
                "(intent classifier, one at a time)"
            )


@nlu_group.command("evaluate-sentiment")
@click.option(
    "--test",
    "test_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help='JSONL lines {"text": ..., "sentiment": "negative|neutral|positive"}.',
)
@click.option(
    "--train",
    "train_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Train a model on this file instead of using the shipped one.",
)
@click.option("--lang", "language", default=None, help="Language of the shipped model (default: default language).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON on stdout.")
@pass_state
@friendly_errors
def evaluate_sentiment_cmd(
    state: Any, test_path: str, train_path: str | None, language: str | None, as_json: bool
) -> None:
    """Accuracy, macro F1, per-class recall and F1 of the sentiment model on a labelled file."""
    from nlu.data import load_sentiment
    from nlu.errors import NLUError
    from nlu.evaluation import evaluate_sentiment_files
    from nlu.sentiment_model import SentimentModel

    s = state.settings()
    lang = language or s.brand.default_language
    with _nlu_errors():
        model = None
        if train_path is None:
            shipped = s.path(s.nlu.model_dir) / lang / "brandbot_sentiment"
            if (shipped / "sentiment.json").is_file():
                try:
                    model = SentimentModel.from_disk(shipped)
                except NLUError as exc:  # saved by an older version: use the shipped data instead
                    console.print(f"[yellow]{escape(str(exc))}; training from the shipped data instead[/]")
            if model is None:
                ex = load_sentiment(s.path(s.nlu.data_dir), lang)
                if not ex:
                    raise BrandbotError(f"no sentiment data or model for language {lang!r}; give --train FILE")
                model = SentimentModel.fit([e.text for e in ex], [e.label for e in ex], seed=s.nlu.seed)
        m = evaluate_sentiment_files(test_path, model=model, train_path=train_path, seed=s.nlu.seed)
    m["language"] = lang
    if as_json:
        click.echo(json.dumps(m, indent=2))
        return
    t = Table(
        title=escape(
            f"sentiment ({lang}) on {Path(test_path).name}: accuracy {_pct(m['accuracy'])}, "
            f"macro F1 {_pct(m['macro_f1'])}, always-negative {_pct(m['always_negative_accuracy'])}, "
            f"{m['examples']} messages"
        )
    )
    for col in ("class", "recall", "precision", "F1", "messages"):
        t.add_column(col)
    for lab, c in m["per_class"].items():  # "-": the file has no message of that class
        present = c["support"] > 0
        t.add_row(
            lab,
            _pct(c["recall"] if present else None),
            _pct(c["precision"] if present else None),
            _pct(c["f1"] if present else None),
            str(c["support"]),
        )
    console.print(t)


@nlu_group.command("parse")
@click.argument("text")
@click.option("--lang", "language", default=None, help="The conversation's language (stickiness).")
@pass_state
@friendly_errors
def parse_cmd(state: Any, text: str, language: str | None) -> None:
    """Parse one message with the trained NLU and print the result as JSON."""
    import nlu

    s = state.settings()
    try:  # the same door as a channel's: undecodable bytes or controls from the shell are refused or removed
        text = clean_text(text, field="TEXT", max_chars=PARSE_MAX_CHARS, required=True)
    except BadInput as exc:
        raise BrandbotError(str(exc)) from exc
    if language is not None and language not in s.brand.languages:
        raise BrandbotError(f"--lang {language!r} is not one of brand.languages {list(s.brand.languages)}")
    with _nlu_errors():
        engine = nlu.NLU.load(s.path(s.nlu.model_dir), list(s.brand.languages), s.brand.default_language)
        ctx = nlu.ParseContext(datetime.now(UTC), s.brand.timezone, language)
        click.echo(json.dumps(engine.parse(text, context=ctx).to_dict(), indent=2, ensure_ascii=False))


COMMANDS = [nlu_group]
