"""WhatsApp and SMS sending with the real twilio client against the fake Twilio API."""

from __future__ import annotations

import json

import pytest

from connectors.base import Attachment, Outbound, QuickReply, Template
from connectors.errors import PermanentSendError, TransientSendError
from connectors.twilio import KeywordConfig, SmsConnector, classify_keyword

from .conftest import DEFAULT_SID, REPLY_TEMPLATE, SMS_FROM, STATUS_URL, WHATSAPP_FROM, load_fixture, twilio_request

pytestmark = pytest.mark.integration  # real Redis and the fake channel APIs

CUSTOMER = "+31612345678"
DAY = 24 * 3600


def receive(connector, request):
    """What the pipeline does with a webhook: ``parse`` in the web process, then ``resolve``
    in the worker at the start of the turn (window, keywords, numbered options)."""
    return [connector.resolve(inbound) for inbound in connector.parse(request)]


# -- WhatsApp: the 24-hour customer service window ---------------------------------
def test_inside_the_window_free_text_goes_out(whatsapp, fake_twilio):
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_text")))
    sid = whatsapp.send(Outbound("whatsapp", CUSTOMER, "Yes, bikes travel as special baggage."))
    [msg] = fake_twilio.messages()
    assert msg == {
        "To": f"whatsapp:{CUSTOMER}",
        "From": WHATSAPP_FROM,
        "Body": "Yes, bikes travel as special baggage.",
        "StatusCallback": STATUS_URL,
    }
    assert sid.startswith("SM")


def test_outside_the_window_the_configured_template_goes_out_not_free_text(whatsapp, fake_twilio, clock):
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_text")))
    clock.advance(DAY - 60)
    whatsapp.send(Outbound("whatsapp", CUSTOMER, "Still inside."))
    clock.advance(120)  # 24 h + 1 min after the customer's message
    whatsapp.send(Outbound("whatsapp", f"whatsapp:{CUSTOMER}", "Your flight KL1234 now leaves at 11:05."))
    inside, outside = fake_twilio.messages()
    assert inside["Body"] == "Still inside."
    assert "Body" not in outside
    assert outside["ContentSid"] == REPLY_TEMPLATE.content_sid
    assert json.loads(outside["ContentVariables"]) == {"1": "Your flight KL1234 now leaves at 11:05."}


def test_a_new_message_from_the_customer_reopens_the_window(whatsapp, fake_twilio, clock):
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_text")))
    clock.advance(2 * DAY)
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_location")))
    whatsapp.send(Outbound("whatsapp", CUSTOMER, "Thanks for the location."))
    assert fake_twilio.messages()[0]["Body"] == "Thanks for the location."


def test_note_inbound_opens_the_window_for_inbounds_that_came_another_way(whatsapp, fake_twilio):
    from connectors.twilio import parse_message_form

    whatsapp.note_inbound(parse_message_form(load_fixture("twilio_whatsapp_text"), None))
    whatsapp.send(Outbound("whatsapp", CUSTOMER, "Hello again"))
    assert fake_twilio.messages()[0]["Body"] == "Hello again"


def test_window_closed_without_a_template_for_the_kind_is_refused_before_any_call(whatsapp, fake_twilio):
    with pytest.raises(
        PermanentSendError, match=r"no template is configured for kind 'handoff'.*templates.handoff"
    ) as info:
        whatsapp.send(Outbound("whatsapp", CUSTOMER, "An agent will join.", kind="handoff"))
    assert info.value.code == "window_closed"
    assert fake_twilio.requests == []


def test_an_explicit_template_is_sent_as_is(whatsapp, fake_twilio):
    whatsapp.send(Outbound("whatsapp", CUSTOMER, template=Template("HX" + "c" * 32, {"1": "Marieke", "2": "KL1234"})))
    [msg] = fake_twilio.messages()
    assert msg["ContentSid"] == "HX" + "c" * 32 and json.loads(msg["ContentVariables"]) == {
        "1": "Marieke",
        "2": "KL1234",
    }


def test_63016_is_permanent_and_closes_the_window_so_the_next_send_uses_the_template(whatsapp, fake_twilio, caplog):
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_text")))
    fake_twilio.fail_code(63016)
    with pytest.raises(PermanentSendError, match="63016") as info:
        whatsapp.send(Outbound("whatsapp", CUSTOMER, "free text"))
    assert info.value.code == "63016"
    assert "configure a template" in caplog.text
    whatsapp.send(Outbound("whatsapp", CUSTOMER, "free text"))
    assert "ContentSid" in fake_twilio.messages()[-1]
    assert len(fake_twilio.messages()) == 2  # one refused, one template: no retry storm


def test_63014_is_permanent_with_a_clear_log(whatsapp, fake_twilio, caplog):
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_text")))
    fake_twilio.fail_code(63014)
    with pytest.raises(PermanentSendError, match="63014"):
        whatsapp.send(Outbound("whatsapp", CUSTOMER, "hello"))
    assert "could not deliver" in caplog.text
    assert len(fake_twilio.messages()) == 1


def test_a_63016_status_callback_closes_the_window(whatsapp, fake_twilio):
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_text")))
    whatsapp.parse_status(twilio_request(load_fixture("twilio_status_whatsapp_failed_63016"), url=STATUS_URL))
    whatsapp.send(Outbound("whatsapp", CUSTOMER, "hello"))
    assert "ContentSid" in fake_twilio.messages()[0]


# -- SMS: keywords and opt-out --------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("STOP", "opt_out"),
        (" stop ", "opt_out"),
        ("Unsubscribe", "opt_out"),
        ("stopall", "opt_out"),
        ("optout", "opt_out"),
        ("CANCEL", "opt_out"),
        ("end", "opt_out"),
        ("quit", "opt_out"),
        ("revoke", "opt_out"),
        ("START", "opt_in"),
        ("yes", "opt_in"),
        ("unstop", "opt_in"),
        ("HELP", "help"),
        ("info", "help"),
        ("Stop sending me offers", None),
        ("STOP!", None),
        ("", None),
        ("ARRET", None),
    ],
)
def test_classify_keyword_with_twilio_defaults(text, expected):
    assert classify_keyword(text) == expected


def test_configured_keywords_in_other_languages():
    config = KeywordConfig.with_extra({"fr": {"opt_out": ["ARRET", "ARRÊT"], "help": ["AIDE"]}})
    assert classify_keyword("arrêt", config) == "opt_out"
    assert classify_keyword("Aide", config) == "help"
    assert classify_keyword("STOP", config) == "opt_out"  # Twilio's stay


def test_a_keyword_in_two_kinds_is_a_config_error():
    with pytest.raises(ValueError, match="two kinds"):
        KeywordConfig.with_extra({"en": {"opt_in": ["STOP"]}})
    with pytest.raises(ValueError, match="unknown kind"):
        KeywordConfig.with_extra({"en": {"stop": ["HALT"]}})


def test_stop_then_send_is_refused_with_zero_api_calls_and_start_lifts_it(sms, fake_twilio):
    [stop] = receive(sms, twilio_request(load_fixture("twilio_sms_stop")))
    assert (stop.kind, stop.event) == ("event", "opt_out")
    with pytest.raises(PermanentSendError, match="opted out") as info:
        sms.send(Outbound("sms", CUSTOMER, "Your flight is delayed."))
    assert info.value.code == "opted_out"
    assert fake_twilio.requests == []

    [start] = receive(sms, twilio_request(load_fixture("twilio_sms_start")))
    assert (start.kind, start.event) == ("event", "opt_in")
    sms.send(Outbound("sms", CUSTOMER, "Welcome back."))
    assert [m["Body"] for m in fake_twilio.messages()] == ["Welcome back."]


def test_the_engine_can_ask_before_sending(sms, whatsapp):
    assert not sms.is_opted_out(CUSTOMER)
    receive(sms, twilio_request(load_fixture("twilio_sms_stop")))
    assert sms.is_opted_out(f"sms:{CUSTOMER}")
    assert not whatsapp.window_open(CUSTOMER)
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_text")))
    assert whatsapp.window_open(f"whatsapp:{CUSTOMER}")
    assert sms.rules.numbered_options and whatsapp.rules.numbered_options


def test_configured_opt_out_keyword_arret(sms, fake_twilio):
    [inb] = receive(sms, twilio_request(load_fixture("twilio_sms_arret")))
    assert inb.event == "opt_out"
    with pytest.raises(PermanentSendError):
        sms.send(Outbound("sms", "+33612345678", "Bonjour"))
    assert fake_twilio.requests == []


def test_help_is_an_event_and_yes_from_a_subscribed_number_is_just_an_answer(sms):
    [help_] = receive(sms, twilio_request(load_fixture("twilio_sms_help")))
    assert (help_.kind, help_.event) == ("event", "help")
    form = dict(load_fixture("twilio_sms_start"), Body="YES", MessageSid="SM" + "e" * 32)
    [yes] = receive(sms, twilio_request(form))
    assert (yes.kind, yes.event, yes.text) == ("message", None, "YES")


def test_error_21610_marks_the_number_opted_out(sms, fake_twilio):
    fake_twilio.fail_code(21610)
    with pytest.raises(PermanentSendError, match="21610"):
        sms.send(Outbound("sms", CUSTOMER, "first"))
    with pytest.raises(PermanentSendError, match="opted out"):
        sms.send(Outbound("sms", CUSTOMER, "second"))
    assert len(fake_twilio.messages()) == 1


def test_a_21610_status_callback_marks_the_number_opted_out(sms, fake_twilio):
    sms.parse_status(twilio_request(load_fixture("twilio_status_sms_undelivered_21610"), url=STATUS_URL))
    with pytest.raises(PermanentSendError, match="opted out"):
        sms.send(Outbound("sms", CUSTOMER, "hello"))
    assert fake_twilio.requests == []


def test_opt_out_holds_across_connector_instances(sms, fake_twilio, redis_client, clock):
    receive(sms, twilio_request(load_fixture("twilio_sms_stop")))
    other = SmsConnector(
        DEFAULT_SID, fake_twilio.auth_token, SMS_FROM, redis_client, "test", api_base_url=fake_twilio.base_url
    )
    with pytest.raises(PermanentSendError, match="opted out"):
        other.send(Outbound("sms", CUSTOMER, "from another worker"))


# -- SMS: splitting and numbered options ---------------------------------------------
def test_long_sms_is_split_into_segments_on_sentence_boundaries(sms, fake_twilio):
    sentence = "Your booking ABC123 is confirmed for flight KL1234 from Amsterdam to Paris. "
    text = sentence * 50  # ~3,800 characters
    sids = sms.send(Outbound("sms", CUSTOMER, text)).split(",")
    bodies = [m["Body"] for m in fake_twilio.messages()]
    assert len(bodies) == len(sids) == 3
    assert all(len(b) <= 1600 and b.endswith("Paris.") for b in bodies)
    assert " ".join(bodies) == text.strip()


def test_numbered_quick_replies_round_trip(sms, fake_twilio):
    sms.send(
        Outbound(
            "sms",
            CUSTOMER,
            "Change your seat?",
            quick_replies=(QuickReply("Yes, please", "seat:yes"), QuickReply("No", "seat:no")),
        )
    )
    assert fake_twilio.messages()[0]["Body"] == "Change your seat?\n\n1. Yes, please\n2. No"
    form = dict(load_fixture("twilio_sms_text"), Body=" 2 ")
    [answer] = receive(sms, twilio_request(form))
    assert (answer.kind, answer.payload, answer.text) == ("callback", "seat:no", "No")
    # by title as well
    [by_title] = receive(sms, twilio_request(dict(form, Body="yes, please", MessageSid="SM" + "f" * 32)))
    assert by_title.payload == "seat:yes"


def test_a_number_out_of_range_or_after_a_plain_reply_is_plain_text(sms, fake_twilio):
    sms.send(Outbound("sms", CUSTOMER, "Pick one", quick_replies=(QuickReply("A", "a"), QuickReply("B", "b"))))
    [three] = receive(sms, twilio_request(dict(load_fixture("twilio_sms_text"), Body="3")))
    assert (three.kind, three.payload) == ("message", None)
    sms.send(Outbound("sms", CUSTOMER, "Anything else?"))  # forgets the options
    [one] = receive(sms, twilio_request(dict(load_fixture("twilio_sms_text"), Body="1")))
    assert one.payload is None


def test_whatsapp_quick_replies_are_numbered_too(whatsapp, fake_twilio):
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_text")))
    whatsapp.send(
        Outbound(
            "whatsapp",
            CUSTOMER,
            "Window or aisle?",
            quick_replies=(QuickReply("Window", "seat:window"), QuickReply("Aisle", "seat:aisle")),
        )
    )
    assert fake_twilio.messages()[0]["Body"].endswith("1. Window\n2. Aisle")
    [answer] = receive(
        whatsapp, twilio_request(dict(load_fixture("twilio_whatsapp_text"), Body="1", MessageSid="SM" + "a" * 32))
    )
    assert answer.payload == "seat:window"


def test_media_goes_with_the_first_part(whatsapp, fake_twilio):
    receive(whatsapp, twilio_request(load_fixture("twilio_whatsapp_text")))
    whatsapp.send(
        Outbound(
            "whatsapp",
            CUSTOMER,
            "Your boarding pass",
            media=(Attachment("image", url="https://cdn.example.com/bp.png"),),
        )
    )
    assert fake_twilio.messages()[0]["MediaUrl"] == "https://cdn.example.com/bp.png"


# -- errors, retries, idempotency, credentials ---------------------------------------
@pytest.mark.parametrize(
    "status, code, error",
    [(500, 20500, TransientSendError), (429, 20429, TransientSendError), (400, 21211, PermanentSendError)],
)
def test_api_errors_map_to_transient_or_permanent(sms, fake_twilio, status, code, error):
    fake_twilio.fail_code(code, status)
    with pytest.raises(error, match=str(code)):
        sms.send(Outbound("sms", CUSTOMER, "hello"))


def test_unreachable_twilio_is_transient(redis_client, clock):
    from bots.stores.redis_client import free_port

    conn = SmsConnector(
        DEFAULT_SID, "tok", SMS_FROM, redis_client, "test", api_base_url=f"http://127.0.0.1:{free_port()}", timeout=2
    )
    with pytest.raises(TransientSendError, match="unreachable"):
        conn.send(Outbound("sms", CUSTOMER, "hello"))


def test_a_retried_send_with_the_same_idempotency_key_sends_once(sms, fake_twilio):
    msg = Outbound("sms", CUSTOMER, "Boarding at 10:15.", idempotency_key="SM1f0e:0")
    assert sms.send(msg) == sms.send(msg)
    assert len(fake_twilio.messages()) == 1


def test_check_credentials(sms, fake_twilio, redis_client):
    assert sms.check_credentials() is None
    wrong = SmsConnector(DEFAULT_SID, "wrong-token", SMS_FROM, redis_client, "test", api_base_url=fake_twilio.base_url)
    assert "refused the credentials" in wrong.check_credentials()


def test_messaging_service_sender(fake_twilio, redis_client):
    conn = SmsConnector(
        DEFAULT_SID, fake_twilio.auth_token, "MG" + "1" * 32, redis_client, "test", api_base_url=fake_twilio.base_url
    )
    conn.send(Outbound("sms", CUSTOMER, "hi"))
    assert fake_twilio.messages()[0]["MessagingServiceSid"] == "MG" + "1" * 32
