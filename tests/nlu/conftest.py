"""NLU fixtures: the demo airline NLU trained once per session, and a tiny data set."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

import nlu
from nlu.result import ParseContext

REPO = Path(__file__).resolve().parents[2]
AIRLINE_DATA = REPO / "bots" / "airline" / "nlu"
#: Saturday 28 November 2026, 10:00 UTC (11:00 in Paris).
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

TINY_EN = """\
# tiny test data
language: en
intents:
  greet: [hello, hi there, good morning, hey, hiya, morning]
  flight_status: [is my flight on time, is NM1234 delayed, flight status please, when does my flight leave,
                  has the plane departed, is the flight late]
  change_seat: [change my seat, I want seat 14C, window seat please, move me to an aisle seat,
                can I switch seats, seat change]
  out_of_scope: [tell me a joke, what is the weather, cook pasta, who won the game, play music, sing a song]
"""
TINY_FR = """\
language: fr
intents:
  greet: [bonjour, salut, bonsoir, coucou, bonjour à vous, salut toi]
  flight_status: [mon vol est à l'heure, le NM1234 est en retard, statut du vol, quand part mon vol,
                  l'avion est parti, le vol a du retard]
  change_seat: [changer de siège, je veux le siège 14C, un hublot svp, mettez-moi côté couloir,
                changer de place, changement de siège]
  out_of_scope: [raconte une blague, quel temps fait-il, cuire des pâtes, qui a gagné le match, mets de la musique,
                 chante une chanson]
"""


def ctx(language: str | None = "en") -> ParseContext:
    return ParseContext(now=NOW, timezone="Europe/Paris", language=language)


@pytest.fixture(scope="session")
def airline_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo airline NLU (en, fr) trained once per test session (a few seconds)."""
    model_dir = tmp_path_factory.mktemp("airline-nlu")
    nlu.train(AIRLINE_DATA, model_dir, ["en", "fr"], seed=42)
    return model_dir


@pytest.fixture(scope="session")
def airline(airline_models: Path) -> nlu.NLU:
    return nlu.NLU.load(airline_models, ["en", "fr"], "en")


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A tiny intent data folder (en, fr) plus a small brand sentiment file."""
    d = tmp_path / "data"
    d.mkdir()
    (d / "en.yml").write_text(TINY_EN, encoding="utf-8")
    (d / "fr.yml").write_text(TINY_FR, encoding="utf-8")
    return d


@pytest.fixture
def tiny_jsonl(tmp_path: Path) -> tuple[Path, Path]:
    """TRAIN/TEST JSONL files of the tiny English data (test = a few reworded messages)."""
    import yaml

    doc = yaml.safe_load(TINY_EN)
    train = tmp_path / "train.jsonl"
    with train.open("w", encoding="utf-8") as fh:
        for intent, items in doc["intents"].items():
            for t in items:
                fh.write(json.dumps({"text": t, "intent": intent}) + "\n")
    test = tmp_path / "test.jsonl"
    rows = [
        ("hello again", "greet"),
        ("is flight NM1234 on time", "flight_status"),
        ("can I change seats", "change_seat"),
        ("tell me a funny joke", "out_of_scope"),
        ("good morning to you", "greet"),
        ("how to cook pasta", "out_of_scope"),
    ]
    test.write_text("".join(json.dumps({"text": t, "intent": i}) + "\n" for t, i in rows), encoding="utf-8")
    return train, test


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
