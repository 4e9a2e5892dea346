"""`brandbot nlu ...` through click's CliRunner on a tiny data set."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bots.cli import main


def _config(write_config: Callable[..., Path], data: Path, models: Path) -> Path:
    return write_config({"nlu": {"data_dir": str(data), "model_dir": str(models)}})


def _run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(config), "nlu", *args], catch_exceptions=False)


def test_train_then_skip(write_config: Callable[..., Path], tiny_data: Path, tmp_path: Path) -> None:
    cfg = _config(write_config, tiny_data, tmp_path / "models")
    first = _run(cfg, "train")
    assert first.exit_code == 0, first.output
    assert (tmp_path / "models" / "en" / "fingerprint.json").is_file()
    second = _run(cfg, "train")
    assert second.exit_code == 0 and "Nothing changed" in second.output
    forced = _run(cfg, "train", "--force")
    assert forced.exit_code == 0 and "Nothing changed" not in forced.output


def test_evaluate_external_files_as_json(
    write_config: Callable[..., Path], tiny_data: Path, tiny_jsonl: tuple[Path, Path], tmp_path: Path
) -> None:
    cfg = _config(write_config, tiny_data, tmp_path / "models")
    train, test = tiny_jsonl
    res = _run(cfg, "evaluate", "--train", str(train), "--test", str(test), "--lang", "en", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in (
        "in_scope_accuracy",
        "out_of_scope_recall",
        "out_of_scope_precision",
        "accuracy",
        "macro_f1",
        "train_seconds",
        "messages_per_second",
    ):
        assert key in out, key
    assert 0.0 <= out["accuracy"] <= 1.0 and out["messages_per_second"] > 0


def test_evaluate_cross_validates_the_bot_data(
    write_config: Callable[..., Path], tiny_data: Path, tmp_path: Path
) -> None:
    cfg = _config(write_config, tiny_data, tmp_path / "models")
    res = _run(cfg, "evaluate", "--lang", "fr", "--folds", "3")
    assert res.exit_code == 0, res.output
    assert "per intent" in res.output and "3-fold" in res.output
    res = _run(cfg, "evaluate", "--folds", "3", "--json")
    assert set(json.loads(res.stdout)) == {"en", "fr"}


def test_evaluate_needs_both_files(
    write_config: Callable[..., Path], tiny_data: Path, tiny_jsonl: tuple[Path, Path], tmp_path: Path
) -> None:
    cfg = _config(write_config, tiny_data, tmp_path / "models")
    res = _run(cfg, "evaluate", "--train", str(tiny_jsonl[0]))
    assert res.exit_code == 2 and "give both --train and --test" in res.output


def test_evaluate_sentiment_json(write_config: Callable[..., Path], tiny_data: Path, tmp_path: Path) -> None:
    cfg = _config(write_config, tiny_data, tmp_path / "models")
    test = tmp_path / "s.jsonl"
    rows = [
        ("thank you so much, lovely crew", "positive"),
        ("still no refund, awful", "negative"),
        ("what time is boarding", "neutral"),
        ("terrible service 😡", "negative"),
    ]
    test.write_text("".join(json.dumps({"text": t, "sentiment": s}) + "\n" for t, s in rows), encoding="utf-8")
    res = _run(cfg, "evaluate-sentiment", "--test", str(test), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {"accuracy", "macro_f1", "f1"} <= set(out) and set(out["f1"]) == {"negative", "neutral", "positive"}
    trained = json.loads(_run(cfg, "evaluate-sentiment", "--test", str(test), "--train", str(test), "--json").stdout)
    assert trained["accuracy"] == 1.0
    assert set(out["recall"]) == {"negative", "neutral", "positive"}


def test_evaluate_sentiment_on_the_public_french_reviews_recalls_every_class(
    write_config: Callable[..., Path], tiny_data: Path, tmp_path: Path
) -> None:
    """No saved model: the command trains on the shipped data; every class the file has is recalled >= 50%."""
    from nlu.data import SHIPPED_SENTIMENT_DIR

    cfg = _config(write_config, tiny_data, tmp_path / "models")
    test = SHIPPED_SENTIMENT_DIR / "eval_public_fr.jsonl"
    out = json.loads(_run(cfg, "evaluate-sentiment", "--test", str(test), "--lang", "fr", "--json").stdout)
    present = {lab: r for lab, r in out["recall"].items() if r is not None}
    assert set(present) == {"negative", "positive"} and out["examples"] == 399
    assert min(present.values()) >= 0.5, present
    table = _run(cfg, "evaluate-sentiment", "--test", str(test), "--lang", "fr")
    assert table.exit_code == 0 and "recall" in table.output and "positive" in table.output


def test_malformed_data_is_one_readable_error(write_config: Callable[..., Path], tmp_path: Path) -> None:
    data = tmp_path / "bad"
    data.mkdir()
    (data / "en.yml").write_text("intents:\n  greet: hello\n", encoding="utf-8")
    (data / "fr.yml").write_text("intents:\n  greet: [salut]\n  bye: [au revoir]\n", encoding="utf-8")
    res = _run(_config(write_config, data, tmp_path / "models"), "train")
    assert res.exit_code == 2
    assert "intent 'greet' must be a non-empty list" in res.output and "Traceback" not in res.output


def test_parse_prints_the_result_as_json(write_config: Callable[..., Path], tiny_data: Path, tmp_path: Path) -> None:
    cfg = _config(write_config, tiny_data, tmp_path / "models")
    res = _run(cfg, "parse", "is flight NM1234 delayed?")
    assert res.exit_code == 2 and "run `brandbot nlu train`" in res.output
    assert _run(cfg, "train").exit_code == 0
    out = json.loads(_run(cfg, "parse", "is flight NM1234 delayed?").stdout)
    assert out["intent"] == "flight_status" and out["entities"][0]["value"] == "NM1234"
