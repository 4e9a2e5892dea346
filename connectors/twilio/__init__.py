"""WhatsApp and SMS through Twilio Messaging (twilio 9)."""

from .connector import SmsConnector, TwilioConnector, WhatsAppConnector, make_twilio_client
from .http import TWILIO_API, BaseUrlHttpClient
from .keywords import KeywordConfig, classify_keyword
from .parse import (
    SIGNATURE_HEADER,
    StatusUpdate,
    parse_message_form,
    parse_status_form,
    signature_matches,
    signed_url,
    verify_signature,
)
from .templates import TemplateSpec, render_template

__all__ = [
    "TwilioConnector",
    "WhatsAppConnector",
    "SmsConnector",
    "make_twilio_client",
    "BaseUrlHttpClient",
    "TWILIO_API",
    "KeywordConfig",
    "classify_keyword",
    "SIGNATURE_HEADER",
    "StatusUpdate",
    "parse_message_form",
    "parse_status_form",
    "signed_url",
    "verify_signature",
    "signature_matches",
    "TemplateSpec",
    "render_template",
]
