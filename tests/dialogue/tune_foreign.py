"""Choose :data:`bots.dialogue.foreign.CONFIDENCE` and ``MIN_WORDS`` on a development set.

Not a test (the name does not start with ``test_``): run it by hand when the detector changes::

    .venv/bin/python tests/dialogue/tune_foreign.py

Positives: ``foreign_dev.yml`` (German, Spanish, Italian, Dutch, Portuguese). Negatives: the
airline's English and French NLU examples and CLINC150's training texts (English). The tests
check other messages (tests/dialogue/test_foreign.py and the stories).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bots.dialogue.foreign import CONFIDENCE, MIN_WORDS, ForeignLanguage  # noqa: E402
from nlu.data import load_examples  # noqa: E402

#: lines of the NLU data that are themselves foreign (examples of out-of-scope messages):
#: counted as positives, not as false alarms.
FOREIGN_IN_NLU_DATA = {
    "hola que tal",
    "vale gracias",
    "por favor ayuda",
    "no entiendo nada",
    "dónde está mi maleta",
    "grazie mille",
    "non lo so",
    "ich verstehe nicht",
    "guten tag wie geht's",
    "dank je wel",
    "hoe gaat het",
    "obrigado amigo",
    "lorem ipsum dolor",
}
CLINC = ROOT.parent / "shared" / "datasets" / "clinc150" / "train.jsonl"


def main() -> None:
    dev = yaml.safe_load((Path(__file__).parent / "foreign_dev.yml").read_text(encoding="utf-8"))
    positives = [t for texts in dev.values() for t in texts]
    negatives = [e.text for lang in ("en", "fr") for e in load_examples(ROOT / "bots" / "airline" / "nlu", lang)]
    positives += sorted(FOREIGN_IN_NLU_DATA)
    negatives = [t for t in negatives if t not in FOREIGN_IN_NLU_DATA]
    if CLINC.is_file():
        lines = CLINC.read_text(encoding="utf-8").splitlines()
        negatives += [json.loads(line)["text"] for line in lines[::10]]
    for min_words in (2, 3, 4):
        for conf in (0.5, 0.6, 0.7, 0.8, 0.9):
            det = ForeignLanguage(["en", "fr"], min_words=min_words, confidence=conf)
            hit = sum(det.detect(t) is not None for t in positives)
            false = [t for t in negatives if det.detect(t) is not None]
            if (min_words, conf) == (MIN_WORDS, CONFIDENCE):
                print("missed:", [t for t in positives if det.detect(t) is None])
            print(
                f"min_words={min_words} confidence={conf:.1f}: recall {hit}/{len(positives)}, "
                f"false alarms {len(false)}/{len(negatives)} {false[:12]}"
            )


if __name__ == "__main__":
    main()
