"""Property-based tests (Hypothesis) of the channel parsers: Telegram updates, Twilio forms, web chat posts.

For arbitrary JSON-ish and Unicode input (lone surrogates, NUL and other controls, combining
marks, huge and odd values), each parser either returns Inbounds whose texts are clean (no
lone surrogate, no control but tab and line breaks, NFC, within the channel's caps, and the
whole Inbound storable as UTF-8 JSON without NUL) or raises MalformedRequest (BadInput is
one) / ForgedRequest, never anything else: a webhook answers 400/403, never 500.

Deterministic (``derandomize``, no example database), under ~20 s; ``--hypothesis-show-statistics``
prints the number of generated inputs per property.
"""

from __future__ import annotations

import copy
import json
import math
import unicodedata
from typing import Any

import redis
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from connectors.base import Inbound, WebhookRequest
from connectors.errors import ForgedRequest, MalformedRequest
from connectors.telegram.parse import MAX_CALLBACK_DATA, MAX_NAME, MAX_TEXT, decode_body, parse_update
from connectors.twilio.parse import MAX_BODY, MAX_FIELD, form_of, parse_message_form, parse_status_form
from connectors.webchat import VISITOR_HEADER, WebchatConnector
from tests.connectors.conftest import load_fixture

from .test_input_text_property import ANY_TEXT

FUZZ = settings(
    max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
KEEP_CONTROLS = {"\t", "\n", "\r"}


def assert_clean(text: str | None, max_chars: int) -> None:
    if text is None:
        return
    assert isinstance(text, str)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text), f"lone surrogate kept in {text!r}"
    assert not any(unicodedata.category(c) == "Cc" and c not in KEEP_CONTROLS for c in text), f"control in {text!r}"
    assert unicodedata.is_normalized("NFC", text), f"{text!r} is not NFC"
    assert len(text) <= max_chars


def assert_storable(inbound: Inbound) -> None:
    """The Inbound travels as JSON on the queue and lands in SQL: UTF-8, no NUL, no NaN."""
    data = inbound.to_dict()
    dumped = json.dumps(data, ensure_ascii=False, allow_nan=False)
    dumped.encode("utf-8")
    assert "\x00" not in dumped
    assert Inbound.from_dict(json.loads(dumped)).to_dict() == json.loads(dumped)


def assert_inbound(inbound: Inbound, text_cap: int, payload_cap: int, name_cap: int = MAX_NAME) -> None:
    assert_clean(inbound.text, text_cap)
    assert_clean(inbound.payload, payload_cap)
    assert_clean(inbound.sender_name, name_cap)
    for att in inbound.attachments:
        assert_clean(att.name, max(MAX_NAME, MAX_FIELD))
        assert_clean(att.caption, max(MAX_TEXT, MAX_FIELD))
        for coord in (att.latitude, att.longitude):
            assert coord is None or math.isfinite(coord)
    assert_storable(inbound)


# -- JSON-ish values ---------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    ANY_TEXT,
)
JSONISH = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=10
)

# -- Telegram ---------------------------------------------------------------------------------------

KINDS = [
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "poll_answer",
    "poll",
    "chat_join_request",
    "message_reaction",
    "edited_channel_post",
    "chat_member",
    "inline_query",
]
FIXTURES = [
    "telegram_message_text",
    "telegram_message_photo",
    "telegram_message_document",
    "telegram_message_location",
    "telegram_message_sticker",
    "telegram_edited_message",
    "telegram_callback_query",
    "telegram_my_chat_member_blocked",
    "telegram_new_chat_members",
    "telegram_message_pinned",
]
LOADED = {name: load_fixture(name) for name in FIXTURES}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a leaf of a decoded update."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _paths(v, (*prefix, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _paths(v, (*prefix, i))]
    return [prefix]


@st.composite
def mutated_updates(draw: st.DrawFn) -> dict[str, Any]:
    """A real update with some leaves replaced (text by any text, ids by odd values...)."""
    update = copy.deepcopy(LOADED[draw(st.sampled_from(FIXTURES))])
    paths = _paths(update)
    for path in draw(st.lists(st.sampled_from(paths), max_size=4)):
        node = update
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = draw(st.one_of(ANY_TEXT, ANY_TEXT, SCALARS, JSONISH))
    for _ in range(draw(st.integers(0, 2))):  # extra fields where Telegram has none
        node = update[next(k for k in update if k != "update_id")]
        if isinstance(node, dict):
            node[draw(ANY_TEXT)] = draw(JSONISH)
    return update


ARBITRARY_UPDATES = st.builds(
    lambda uid, kind, body: {"update_id": uid, kind: body},
    st.one_of(st.integers(0, 2**40), SCALARS),
    st.one_of(st.sampled_from(KINDS), ANY_TEXT),
    JSONISH,
)


def _parse_telegram(update: Any) -> list[Inbound] | None:
    try:
        inbounds = parse_update(update)
    except MalformedRequest as exc:
        event(f"refused: {type(exc).__name__}")
        return None
    event(f"parsed: {len(inbounds)} inbound(s)")
    return inbounds


@FUZZ
@given(update=st.one_of(mutated_updates(), ARBITRARY_UPDATES))
def test_telegram_updates_parse_to_clean_inbounds_or_malformed(update: dict[str, Any]) -> None:
    for inbound in _parse_telegram(update) or []:
        assert inbound.channel == "telegram"
        assert_inbound(inbound, MAX_TEXT, MAX_CALLBACK_DATA)


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=200),
        mutated_updates().map(lambda u: json.dumps(u).encode()),  # surrogates travel as \\udXXX escapes
        mutated_updates().map(lambda u: json.dumps(u, ensure_ascii=False).encode("utf-8", "surrogatepass")),
        st.sampled_from([b"[" * 5000, b'{"update_id": NaN}', b'{"update_id": 1, "message": {"date": Infinity}}']),
    )
)
def test_telegram_bodies_decode_and_parse_or_are_malformed(body: bytes) -> None:
    try:
        data = decode_body(body)
    except MalformedRequest:
        event("refused: not an update")
        return
    for inbound in _parse_telegram(data) or []:
        assert_inbound(inbound, MAX_TEXT, MAX_CALLBACK_DATA)


# -- Twilio ------------------------------------------------------------------------------------------

TWILIO_FIXTURES = [
    "twilio_sms_text",
    "twilio_sms_stop",
    "twilio_whatsapp_text",
    "twilio_whatsapp_image",
    "twilio_whatsapp_location",
    "twilio_whatsapp_button",
]
TWILIO_FIELDS = [
    "MessageSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "MediaContentType0",
    "Latitude",
    "Longitude",
    "Label",
    "Address",
    "ButtonPayload",
    "ButtonText",
    "ProfileName",
    "MessageStatus",
    "ErrorCode",
]
ODD_VALUES = st.sampled_from(["", "0", "-1", "10", "nan", "inf", "1e400", "91", "-180.5", "whatsapp:", "9" * 5000])


@st.composite
def twilio_forms(draw: st.DrawFn) -> dict[str, Any]:
    form = dict(load_fixture(draw(st.sampled_from(TWILIO_FIXTURES))))
    for key in draw(st.lists(st.sampled_from(TWILIO_FIELDS), max_size=5)):
        form[key] = draw(st.one_of(ANY_TEXT, ODD_VALUES, st.integers(1590, 4100).map(lambda n: "é" * n)))
    for key in draw(st.lists(st.sampled_from(sorted(form)), max_size=2, unique=True)):
        del form[key]
    form.update(draw(st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=3)))
    return form


@FUZZ
@given(form=twilio_forms())
def test_twilio_message_forms_parse_to_clean_inbounds_or_malformed(form: dict[str, Any]) -> None:
    try:
        inbound = parse_message_form(form)
    except MalformedRequest as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event(f"parsed: {inbound.channel} {inbound.kind}")
    assert inbound.channel in ("sms", "whatsapp")
    assert_inbound(inbound, MAX_BODY[inbound.channel], MAX_FIELD, MAX_FIELD)


@FUZZ
@given(form=twilio_forms())
def test_twilio_status_forms_parse_or_are_malformed(form: dict[str, Any]) -> None:
    try:
        status = parse_status_form(form)
    except MalformedRequest as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event("parsed")
    for value in (status.message_sid, status.status, status.recipient, status.error_code, status.error_message):
        assert_clean(value, MAX_FIELD)
    json.dumps(status.to_dict(), ensure_ascii=False).encode("utf-8")


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.lists(
            st.sampled_from([b"Body=", b"%ED%A0%80", b"%FF", b"%00", b"&", b"=", b"a", b"%C3%A9", b"+", b"%"])
        ).map(b"".join),
    )
)
def test_twilio_bodies_are_a_form_or_malformed(body: bytes) -> None:
    request = WebhookRequest("POST", "https://bot.example.com/webhooks/twilio", {}, body, {})
    try:
        form = form_of(request)
    except MalformedRequest:
        event("refused")
        return
    event("parsed")
    assert all(not any(0xD800 <= ord(c) <= 0xDFFF for c in k + v) for k, v in form.items())


# -- web chat ----------------------------------------------------------------------------------------

# parse() never touches Redis: the client is only there because the connector's constructor wants one.
CHAT = WebchatConnector(redis.Redis(host="127.0.0.1", port=1), "fuzz", max_text_length=2000)

#: mostly well-formed posts (so the texts reach the checks), some broken envelopes.
CHAT_POSTS = st.fixed_dictionaries(
    {"client_id": st.just("c-fuzz-0001"), "text": st.one_of(ANY_TEXT, st.integers(1990, 2100).map("a".__mul__))},
    optional={"payload": st.one_of(ANY_TEXT, st.text(max_size=3))},
)
CHAT_BODIES = st.one_of(
    st.builds(lambda body: json.dumps(body).encode(), CHAT_POSTS),  # surrogates as \udXXX escapes
    st.builds(lambda body: json.dumps(body).encode(), st.one_of(JSONISH, st.dictionaries(ANY_TEXT, SCALARS))),
    st.binary(max_size=100),
)


@FUZZ
@given(body=CHAT_BODIES)
def test_web_chat_posts_parse_to_clean_inbounds_or_malformed(body: bytes) -> None:
    _check_chat_post(body, "v-visitor-0001")


@settings(FUZZ, max_examples=200)
@given(body=CHAT_BODIES, visitor=ANY_TEXT)
def test_web_chat_posts_of_any_visitor_id_parse_or_are_malformed(body: bytes, visitor: str) -> None:
    _check_chat_post(body, visitor)


def _check_chat_post(body: bytes, visitor: str) -> None:
    request = WebhookRequest("POST", "http://bot/chat/api/messages", {VISITOR_HEADER: visitor}, body)
    try:
        inbounds = CHAT.parse(request)
    except (MalformedRequest, ForgedRequest) as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event("parsed")
    for inbound in inbounds:
        assert inbound.text == inbound.text.strip()
        assert inbound.text or inbound.payload
        assert_inbound(inbound, 2000, 200)
