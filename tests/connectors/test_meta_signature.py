"""Meta webhooks: X-Hub-Signature-256 over the raw body, and the subscription handshake."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from connectors.errors import ForgedRequest
from connectors.meta import SIGNATURE_HEADER, sign, verify_signature, verify_subscription

from .conftest import FIXTURES

SECRET = "3f1b9c0d2e4a6b8c0d1e2f3a4b5c6d7e"
BODY = (FIXTURES / "meta_messenger_text.json").read_bytes()


def test_sign_is_hmac_sha256_of_the_raw_body_keyed_with_the_app_secret():
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET) == f"sha256={expected}"
    assert SIGNATURE_HEADER == "X-Hub-Signature-256"


def test_valid_signature_passes():
    verify_signature(BODY, sign(BODY, SECRET), SECRET)


def test_signature_in_upper_case_hex_passes():
    verify_signature(BODY, "sha256=" + sign(BODY, SECRET).removeprefix("sha256=").upper(), SECRET)


def test_signature_made_with_another_secret_is_forged():
    with pytest.raises(ForgedRequest, match="does not match the body"):
        verify_signature(BODY, sign(BODY, "another-secret"), SECRET)


def test_signature_of_another_body_is_forged():
    with pytest.raises(ForgedRequest, match="does not match the body"):
        verify_signature(BODY + b" ", sign(BODY, SECRET), SECRET)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_forged(header):
    with pytest.raises(ForgedRequest, match="missing X-Hub-Signature-256 header"):
        verify_signature(BODY, header, SECRET)


def test_sha1_signature_is_refused_even_when_it_matches():
    sha1 = "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    with pytest.raises(ForgedRequest, match="must be 'sha256=<hex digest>', not a 'sha1' signature"):
        verify_signature(BODY, sha1, SECRET)


def test_bare_hex_without_prefix_is_forged():
    with pytest.raises(ForgedRequest, match="must be 'sha256=<hex digest>'"):
        verify_signature(BODY, sign(BODY, SECRET).removeprefix("sha256="), SECRET)


@pytest.mark.parametrize(
    "digest",
    ["z" * 64, "abc", "0" * 63, "0" * 65, " " + "0" * 63, "é" * 64, "\ud800" * 64],
    ids=["non-hex", "short", "63", "65", "space", "non-ascii", "surrogate"],
)
def test_non_hex_or_wrong_length_digest_is_forged(digest):
    with pytest.raises(ForgedRequest, match="is not a hex SHA-256 digest"):
        verify_signature(BODY, f"sha256={digest}", SECRET)


def test_empty_app_secret_refuses_even_a_signature_made_with_it():
    with pytest.raises(ForgedRequest, match="no Meta app secret is configured"):
        verify_signature(BODY, sign(BODY, ""), "")


# -- subscription handshake ---------------------------------------------------------

TOKEN = "brandbot-verify-7c4e"


def hub(mode: str | None = "subscribe", token: str | None = TOKEN, challenge: str | None = "1158201444") -> dict:
    args = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}
    return {k: v for k, v in args.items() if v is not None}


def test_right_token_returns_the_challenge():
    assert verify_subscription(hub(), TOKEN) == "1158201444"


def test_wrong_token_is_forged_without_echoing_either_token():
    with pytest.raises(ForgedRequest, match=r"hub\.verify_token does not match") as info:
        verify_subscription(hub(token="guess-1234"), TOKEN)
    assert "guess-1234" not in str(info.value) and TOKEN not in str(info.value)


def test_missing_token_is_forged():
    with pytest.raises(ForgedRequest, match=r"missing hub\.verify_token"):
        verify_subscription(hub(token=None), TOKEN)


def test_empty_configured_token_never_matches_even_an_empty_one():
    with pytest.raises(ForgedRequest, match="no Meta verify token is configured"):
        verify_subscription(hub(token=""), "")


def test_token_with_a_lone_surrogate_is_forged_not_a_crash():
    with pytest.raises(ForgedRequest, match="does not match"):
        verify_subscription(hub(token="\ud800"), TOKEN)


@pytest.mark.parametrize("mode, shown", [("unsubscribe", "'unsubscribe'"), (None, "missing"), ("", "''")])
def test_wrong_or_missing_mode_is_forged(mode, shown):
    with pytest.raises(ForgedRequest, match=f"hub.mode is {shown}, not 'subscribe'"):
        verify_subscription(hub(mode=mode), TOKEN)


@pytest.mark.parametrize("challenge", [None, ""])
def test_missing_challenge_is_forged(challenge):
    with pytest.raises(ForgedRequest, match=r"missing hub\.challenge"):
        verify_subscription(hub(challenge=challenge), TOKEN)


@pytest.mark.parametrize("challenge", ["x" * 257, "12\n34", "défi", "\x00"])
def test_overlong_or_unprintable_challenge_is_forged(challenge):
    with pytest.raises(ForgedRequest, match="1 to 256 printable ASCII characters"):
        verify_subscription(hub(challenge=challenge), TOKEN)


def test_longest_challenge_is_returned():
    assert verify_subscription(hub(challenge="9" * 256), TOKEN) == "9" * 256
