"""The key format, pure: shape, parsing, hashing."""

from __future__ import annotations

import hashlib
import re

import pytest

from bots.apikeys.keys import KEY_LENGTH, KEY_PREFIX, ParsedKey, hash_key, new_key, parse_key

SHAPE = re.compile(r"bbk_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}")


def test_a_new_key_has_the_documented_shape_and_parses_back() -> None:
    for _ in range(200):  # prefixes and secrets may hold "_" and "-": parsing goes by position
        made = new_key()
        assert SHAPE.fullmatch(made.key) and len(made.key) == KEY_LENGTH == 56
        assert made.key.startswith(KEY_PREFIX + made.prefix + "_")
        assert parse_key(made.key) == made
        assert parse_key(f"  {made.key}\n") == made


def test_keys_are_random() -> None:
    keys = {new_key().key for _ in range(100)}
    prefixes = {k[4:12] for k in keys}
    assert len(keys) == 100 and len(prefixes) == 100


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "bbk_",
        "bbt_" + "a" * 8 + "_" + "b" * 43,  # a staff token's prefix
        "bbk_" + "a" * 8 + "-" + "b" * 43,  # no "_" after the prefix
        "bbk_" + "a" * 7 + "_" + "b" * 44,
        "bbk_" + "a" * 8 + "_" + "b" * 42,
        "bbk_" + "a" * 8 + "_" + "b" * 44,
        "bbk_" + "a" * 8 + "_" + "b" * 42 + "=",
        "bbk_" + "a" * 8 + "_" + "b" * 42 + "é",
        "BBK_" + "a" * 8 + "_" + "b" * 43,
        "bbk_" + "a" * 8 + "_" + "b" * 20 + " " + "b" * 22,
        "x" * 10_000,
    ],
)
def test_malformed_keys_do_not_parse(raw: str) -> None:
    assert parse_key(raw) is None


def test_the_hash_is_the_sha256_hex_of_the_whole_key() -> None:
    key = new_key().key
    assert hash_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", hash_key(key))
    assert hash_key(key) != hash_key(key[:-1] + ("A" if key[-1] != "A" else "B"))


def test_the_secret_stays_out_of_repr() -> None:
    made = new_key()
    assert made.secret not in repr(made) and made.prefix in repr(made)
    assert repr(ParsedKey("abcdefgh", "s" * 43)) == "ParsedKey(prefix='abcdefgh', secret=...)"
