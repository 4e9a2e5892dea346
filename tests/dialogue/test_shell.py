"""``brandbot shell --script FILE --json``: a scripted conversation from outside, one JSON line per customer line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from bots.cli import main

from .conftest import DOMAIN, REPO

pytestmark = pytest.mark.integration

SCRIPT = """\
# a newcomer changes a seat in French
Bonjour, je voudrais changer de siège sur ma réservation X7K9QZ
Dupont
quelle est la franchise bagages ?
15C
non, plutôt le 16D
oui
"""


@pytest.fixture
def shell_config(write_config, redis_url: str, sqlite_url: str, tmp_path: Path) -> Callable[[Path], Path]:
    """A config file for the airline on the test stores, its NLU model read from ``model_dir``."""

    def write(model_dir: Path) -> Path:
        return write_config(
            {
                "stores": {"redis_url": redis_url, "database_url": sqlite_url},
                "nlu": {"data_dir": str(REPO / "bots/airline/nlu"), "model_dir": str(model_dir)},
                "dialogue": {"domain_file": str(DOMAIN), "actions_options": {"database": str(tmp_path / "airline.db")}},
            }
        )

    return write


def test_scripted_french_seat_change_prints_one_json_object_per_line(
    shell_config, trained_model_dir: Path, tmp_path: Path
) -> None:
    config = shell_config(trained_model_dir)
    script = tmp_path / "script.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    res = CliRunner().invoke(main, ["--config", str(config), "shell", "--script", str(script), "--json", "--no-train"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(ln) for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 6
    assert set(lines[0]) >= {
        "user",
        "language",
        "intent",
        "confidence",
        "entities",
        "sentiment",
        "replies",
        "mode",
        "flow",
        "slots",
    }
    first = lines[0]
    assert (first["language"], first["intent"], first["flow"]) == ("fr", "change_seat", "change_seat")
    assert first["slots"] == {"booking_ref": "X7K9QZ"}
    assert {"type": "booking_ref", "value": "X7K9QZ", "text": "X7K9QZ"} in first["entities"]
    assert "nom de famille" in first["replies"][-1]
    assert "Quel siège" in lines[1]["replies"][-1] and lines[1]["language"] == "fr"
    assert "23 kg" in lines[2]["replies"][0] and lines[2]["flow"] == "change_seat"
    assert "au siège 16D" in lines[4]["replies"][-1]
    assert "maintenant le 16D" in lines[5]["replies"][0]
    assert lines[5]["flow"] is None and lines[5]["mode"] == "bot"


def test_shell_without_a_trained_model_says_how_to_train(shell_config, tmp_path: Path) -> None:
    config = shell_config(tmp_path / "none")
    script = tmp_path / "s.txt"
    script.write_text("hello\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["--config", str(config), "shell", "--script", str(script), "--json", "--no-train"])
    assert res.exit_code == 2
    assert "brandbot nlu train" in res.output


def test_interactive_shell_shows_the_debug_line_and_numbered_buttons(shell_config, trained_model_dir: Path) -> None:
    config = shell_config(trained_model_dir)
    typed = "change my seat on booking X7K9QZ to 15C\nDupont\n1\n:quit\n"
    res = CliRunner().invoke(main, ["--config", str(config), "shell", "--no-train"], input=typed)
    assert res.exit_code == 0, res.output
    out = " ".join(res.stdout.split())
    assert "intent=change_seat" in out and "booking_ref=X7K9QZ" in out and "flow=change_seat" in out
    assert "1 Yes" in out and "2 No" in out
    assert "is now 15C" in out  # "1" pressed the first button (Yes)


def test_a_script_line_no_channel_would_accept_is_one_error_naming_it(
    shell_config, trained_model_dir: Path, tmp_path: Path
) -> None:
    config = shell_config(trained_model_dir)
    script = tmp_path / "bad.txt"
    script.write_text("hello\x00 there\n" + "x" * 5000 + "\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["--config", str(config), "shell", "--script", str(script), "--json", "--no-train"])
    assert res.exit_code == 2, res.output
    assert "message 2 of the script: the line is 5000 characters long; the limit is 4096" in res.output
    assert "Traceback" not in res.output
    first = json.loads(res.stdout.splitlines()[0])
    assert first["user"] == "hello there"  # its NUL removed at the door, as a channel's text


def test_interactive_shell_refuses_undecodable_input_and_goes_on(shell_config, trained_model_dir: Path) -> None:
    config = shell_config(trained_model_dir)
    typed = "bad \ud800 line\n:quit\n".encode("utf-8", "surrogatepass")
    res = CliRunner().invoke(main, ["--config", str(config), "shell", "--no-train"], input=typed)
    assert res.exit_code == 0, res.output
    out = " ".join(res.stdout.split())
    assert "not sent: the line is not valid UTF-8" in out and "Traceback" not in out
