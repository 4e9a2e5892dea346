"""Sentiment: negation, intensifiers, emojis and the quiet complaints of service talk."""

from __future__ import annotations

import pytest

from nlu.data import SHIPPED_SENTIMENT_DIR, read_sentiment_file
from nlu.features import Vectorizer
from nlu.sentiment_model import (
    SentimentModel,
    mark_negation,
    prepare,
    sarcasm_cues,
    sentiment_tokens,
)


@pytest.fixture(scope="module")
def models() -> dict[str, SentimentModel]:
    out = {}
    for lang in ("en", "fr"):
        ex = read_sentiment_file(SHIPPED_SENTIMENT_DIR / f"{lang}.jsonl")
        out[lang] = SentimentModel.fit([e.text for e in ex], [e.label for e in ex])
    return out


def test_shipped_data_is_balanced_and_large_enough() -> None:
    for lang in ("en", "fr"):
        labels = [e.label for e in read_sentiment_file(SHIPPED_SENTIMENT_DIR / f"{lang}.jsonl")]
        assert len(labels) >= 300
        for lab in ("negative", "neutral", "positive"):
            assert labels.count(lab) >= 90, (lang, lab)


def test_negation_marks_the_words_that_follow() -> None:
    assert mark_negation(["not", "good", "at", "all"]) == ["not", "NEG_good", "NEG_at", "NEG_all"]
    assert mark_negation(["pas", "bon", ",", "merci"]) == ["pas", "NEG_bon", ",", "merci"]
    assert mark_negation(["didn", "’", "t", "like", "it"]) == ["didn", "’", "t", "NEG_like", "NEG_it"]
    assert mark_negation(["not", "bad", "but", "slow"]) == ["not", "NEG_bad", "but", "slow"]


def test_can_without_apostrophe_t_is_not_a_negation() -> None:
    assert mark_negation(["can", "i", "cancel", "my", "booking"]) == ["can", "i", "cancel", "my", "booking"]
    assert mark_negation(["can", "'", "t", "log", "in"]) == ["can", "'", "t", "NEG_log", "NEG_in"]


def _words(text: str) -> list[str]:
    return Vectorizer(token_hook=sentiment_tokens).words(prepare(text))


def test_mentions_and_urls_become_placeholders() -> None:
    w = _words("@united thanks for the great service today! http://t.co/xyz www.example.com/a")
    assert w[0] == "xmention" and w.count("xurl") == 2
    assert not any(x in w for x in ("united", "t", "co", "xyz", "example"))


def test_hashtags_become_words_and_camel_case_is_split() -> None:
    assert "fail" in _words("delayed again #fail") and "#" not in _words("#fail")
    assert _words("#NeverAgain")[:2] == ["never", "NEG_again"]
    assert "#" not in prepare("#lostluggage")


def test_repeated_letters_are_squashed_and_flagged() -> None:
    assert prepare("soooo happy").startswith("soo happy") and "xelong" in prepare("soooo happy")
    assert "xelong" not in prepare("see you at 1000")


def test_emoticons_caps_and_punctuation_cues() -> None:
    assert "xemoneg" in prepare("delayed again :(") and "xemopos" in prepare("thanks :)")
    assert "xemopos" not in prepare("see http://t.co/abc")  # the :/ of a URL is no emoticon
    assert "xcaps" in prepare("you lost my bag AGAIN") and "xcaps" not in prepare("JFK to LAX")
    assert "xexcl" in prepare("never again!!!") and "xqq" in prepare("where is my bag???")
    assert "xdots" in prepare("great... another delay")
    assert "EMONEG" in _words("ok 🙄") and "EMOPOS" in _words("ok 😍")


@pytest.mark.parametrize(
    "text",
    [
        "great... another delay",
        "thanks for nothing",
        "awesome. 2 hours on the tarmac",
        "@JetBlue Cancelled Flight again. Awesome. 🙄",
        "génial, encore un retard 👏",
        "merci pour rien",
    ],
)
def test_sarcasm_cues_fire_on_praise_next_to_a_failure(text: str) -> None:
    assert "SARC" in _words(text)


@pytest.mark.parametrize(
    "text", ["thanks again, no problem!", "great flight, thank you", "can't wait to fly again!", "merci, super vol"]
)
def test_sarcasm_cues_stay_quiet_on_plain_praise(text: str) -> None:
    assert sarcasm_cues(Vectorizer().words(prepare(text))) == []


@pytest.mark.parametrize(
    ("lang", "text", "label"),
    [
        ("en", "good service", "positive"),
        ("en", "the food was not good at all", "negative"),
        ("en", "the crew was not friendly", "negative"),
        ("en", "honestly not bad at all!", "positive"),
        ("en", "still waiting for my refund", "negative"),
        ("en", "so so disappointed", "negative"),
        ("en", "what time does boarding start", "neutral"),
        ("fr", "le repas était bon", "positive"),
        ("fr", "le repas n'était pas bon du tout", "negative"),
        ("fr", "franchement, pas mal du tout", "positive"),
        ("fr", "toujours pas de remboursement", "negative"),
        ("fr", "à quelle heure part mon vol", "neutral"),
        ("en", "not good at all", "negative"),
        ("fr", "pas bon", "negative"),
        ("fr", "pas mal du tout", "positive"),
    ],
)
def test_negation_and_quiet_complaints(models: dict[str, SentimentModel], lang: str, text: str, label: str) -> None:
    assert models[lang].predict(text)[1] == label


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_emojis_carry_polarity(models: dict[str, SentimentModel], lang: str) -> None:
    base = "ok" if lang == "en" else "d'accord"
    neutral_score = models[lang].predict(base)[0]
    assert models[lang].predict(base + " 😡😡")[0] < neutral_score
    assert models[lang].predict(base + " 😍🙏")[0] > neutral_score
    assert models[lang].predict("🤬")[1] == "negative"
    assert models[lang].predict("🥰")[1] == "positive"


def test_intensifiers_and_scores_are_in_range(models: dict[str, SentimentModel]) -> None:
    mild = models["en"].predict("bad service")[0]
    strong = models["en"].predict("absolutely terrible, the worst service ever!!! 😡")[0]
    assert -1.0 <= strong < mild <= 1.0


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_far_better_than_always_negative_on_held_out_tweet_style_messages(
    models: dict[str, SentimentModel], lang: str
) -> None:
    """Held-out (never trained on, no near-duplicate of a training message) airline-tweet-style
    messages, about 60% negative like real ones."""
    from pathlib import Path

    from nlu.evaluation import sentiment_metrics

    test = read_sentiment_file(Path(__file__).parent / "data" / f"sentiment_heldout_{lang}.jsonl")
    pred = [lab for _s, lab in models[lang].predict_many([e.text for e in test])]
    m = sentiment_metrics([e.label for e in test], pred)
    assert 0.55 <= m["always_negative_accuracy"] <= 0.65
    assert m["accuracy"] >= m["always_negative_accuracy"] + 0.2
    assert m["macro_f1"] >= 0.75


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("@united flight delayed 3 hours and no one at the gate can tell us anything #fail", "negative"),
        ("@SouthwestAir thanks for the great service today! http://t.co/xyz", "positive"),
        ("@AmericanAir what's the baggage fee for a second bag?", "neutral"),
        ("@JetBlue Cancelled Flightled again. Awesome. 🙄", "negative"),
        ("@USAirways on hold for 2 hours", "negative"),
        ("@VirginAmerica is there wifi on this flight?", "neutral"),
        ("@NimbusAir can I cancel my booking?", "neutral"),
        ("great... another delay", "negative"),
        ("awesome. 2 hours on the tarmac", "negative"),
        ("3rd time asking about my refund", "negative"),
        ("soooo happy with the crew today :)", "positive"),
    ],
)
def test_tweet_style_messages(models: dict[str, SentimentModel], text: str, label: str) -> None:
    assert models["en"].predict(text)[1] == label


def test_an_unseen_handle_or_url_does_not_move_the_score(models: dict[str, SentimentModel]) -> None:
    a = models["en"].predict("@united is there wifi on this flight? https://t.co/abc")
    b = models["en"].predict("@SomeBrandNeverSeen is there wifi on this flight? https://bit.ly/zzz")
    assert a == b


def test_far_better_than_always_negative_on_the_shipped_tweet_eval_file(models: dict[str, SentimentModel]) -> None:
    """nlu/data/sentiment/eval_tweets_en.jsonl: 253 airline tweets (157/53/43), never trained on,
    none a near-duplicate of a training message (tests/nlu/test_no_eval_leak.py)."""
    from nlu.evaluation import sentiment_metrics

    test = read_sentiment_file(SHIPPED_SENTIMENT_DIR / "eval_tweets_en.jsonl")
    train = {e.text.lower() for e in read_sentiment_file(SHIPPED_SENTIMENT_DIR / "en.jsonl")}
    assert not train & {e.text.lower() for e in test}
    pred = [lab for _s, lab in models["en"].predict_many([e.text for e in test])]
    m = sentiment_metrics([e.label for e in test], pred)
    assert len(test) == 253 and m["always_negative_accuracy"] == pytest.approx(157 / 253)
    assert m["accuracy"] >= 0.85 and m["macro_f1"] >= 0.85
    assert min(m["f1"].values()) >= 0.8


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("the agent was dismissive and clueless", "negative"),
        ("appalling service at the desk", "negative"),
        ("what a fiasco", "negative"),
        ("the crew were outstanding", "positive"),
        ("thrilled with the upgrade", "positive"),
        ("the staff were so accommodating", "positive"),
        ("the crew was not courteous", "negative"),
    ],
)
def test_polarity_words_never_seen_in_training_still_count(
    models: dict[str, SentimentModel], text: str, label: str
) -> None:
    """The polarity lexicon carries words the shipped data does not contain."""
    train_words = {
        w for e in read_sentiment_file(SHIPPED_SENTIMENT_DIR / "en.jsonl") for w in Vectorizer().words(e.text)
    }
    unseen = [w for w in Vectorizer().words(text) if w not in train_words]
    assert unseen, text  # the probe really uses a word the model never saw
    assert models["en"].predict(text)[1] == label


def test_a_model_saved_with_older_features_is_refused(tmp_path, models: dict[str, SentimentModel]) -> None:
    import json

    from nlu.errors import NotTrained

    models["en"].to_disk(tmp_path / "en" / "sent")
    assert SentimentModel.from_disk(tmp_path / "en" / "sent").predict("thanks!") == models["en"].predict("thanks!")
    meta = tmp_path / "en" / "sent" / "sentiment.json"
    data = json.loads(meta.read_text())
    del data["features"]
    meta.write_text(json.dumps(data))
    with pytest.raises(NotTrained, match="brandbot nlu train"):
        SentimentModel.from_disk(tmp_path / "en" / "sent")


def test_the_lexicon_and_sarcasm_cues_are_versioned_data_files(tmp_path) -> None:
    import shutil

    from nlu.errors import BadTrainingData
    from nlu.sentiment_model import LEXICON_FILE, PHRASES_FILE, SentimentKnowledge, features_version, knowledge

    k = knowledge()
    assert {"terrible", "retard"} <= k.negative and {"great", "merci"} <= k.positive
    assert ("thanks", "for", "nothing") in k.phrases and "tarmac" in k.failure
    assert features_version().startswith("lexicon v2, phrases v1, sha256 ")
    lexicon, phrases = tmp_path / "lexicon.txt", tmp_path / "phrases.yml"
    shutil.copy(LEXICON_FILE, lexicon)
    shutil.copy(PHRASES_FILE, phrases)
    assert SentimentKnowledge.from_files(lexicon, phrases) == k
    lexicon.write_text(lexicon.read_text(encoding="utf-8") + "meh\tnegative\n", encoding="utf-8")
    changed = SentimentKnowledge.from_files(lexicon, phrases)
    assert "meh" in changed.negative and changed.features != k.features  # a new hash: retrain
    lexicon.write_text("good\tpositive\n", encoding="utf-8")
    with pytest.raises(BadTrainingData, match="version"):
        SentimentKnowledge.from_files(lexicon, phrases)
    lexicon.write_text("# version: 1\n# licence: ours\ngood positive\n", encoding="utf-8")
    with pytest.raises(BadTrainingData, match="line 3"):
        SentimentKnowledge.from_files(lexicon, phrases)


def test_the_lexicon_hash_is_part_of_the_training_fingerprint(tiny_data, monkeypatch) -> None:
    from nlu import training

    before = training.fingerprint(tiny_data, "en")
    monkeypatch.setattr(training, "sentiment_features_version", lambda: "lexicon v2, phrases v1, sha256 0")
    assert training.fingerprint(tiny_data, "en") != before


@pytest.mark.parametrize(
    ("lang", "path", "size"),
    [("fr", "eval_public_fr.jsonl", 399), ("en", "eval_public_en.jsonl", 416)],
)
def test_balanced_recall_on_public_out_of_domain_reviews(
    models: dict[str, SentimentModel], lang: str, path: str, size: int
) -> None:
    """Public reviews held out from the project (French book reviews, CC0; English product, film and
    restaurant review sentences, CC BY 4.0; see nlu/data/sentiment/README.md): half positive, half
    negative, nothing like a service channel. A model that calls unfamiliar text negative fails here
    (the data and lexicon before 30 Nov 2026 recalled 4.5% of the French positives)."""
    from nlu.evaluation import sentiment_metrics

    test = read_sentiment_file(SHIPPED_SENTIMENT_DIR / path)
    pred = [lab for _s, lab in models[lang].predict_many([e.text for e in test])]
    m = sentiment_metrics([e.label for e in test], pred)
    assert len(test) == size and m["recall"]["neutral"] is None
    assert m["min_recall"] >= 0.5, m["recall"]
    assert m["accuracy"] >= m["majority_class_accuracy"] + 0.1


@pytest.mark.parametrize(
    ("lang", "text", "label"),
    [
        ("fr", "cette série est vraiment excellente, la meilleure que j'ai jamais vue", "positive"),
        ("fr", "un film interminable et sans âme", "negative"),
        ("fr", "le livre se passe à Nantes en 1920", "neutral"),
        ("en", "this show is honestly the best thing I have watched in years", "positive"),
        ("en", "a tedious film with no soul", "negative"),
    ],
)
def test_opinions_outside_customer_service(models: dict[str, SentimentModel], lang: str, text: str, label: str) -> None:
    assert models[lang].predict(text)[1] == label
