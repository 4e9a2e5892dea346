"""What the dialogue's non-text handling relies on: each channel gives stickers, voice notes,
photos and locations as typed attachments with no text (a caption is the text), reactions as
events, and a WhatsApp emoji through Twilio as a plain text message (bots/dialogue/unreadable.py)."""

from __future__ import annotations

from connectors.telegram import parse_update
from connectors.twilio import parse_message_form

from .conftest import load_fixture


def test_telegram_sticker_and_location_have_no_text_and_a_typed_attachment():
    [sticker] = parse_update(load_fixture("telegram_message_sticker"))
    assert (sticker.kind, sticker.text, [a.kind for a in sticker.attachments]) == ("message", "", ["sticker"])
    [place] = parse_update(load_fixture("telegram_message_location"))
    assert (place.text, [a.kind for a in place.attachments]) == ("", ["location"])


def test_telegram_voice_note_is_an_audio_attachment():
    update = load_fixture("telegram_message_sticker")
    message = update["message"]
    del message["sticker"]
    message["voice"] = {
        "file_id": "AwACAgQAAxkBAAIBVoice",
        "file_unique_id": "AgADVoice",
        "duration": 4,
        "mime_type": "audio/ogg",
    }
    [voice] = parse_update(update)
    assert (voice.text, [a.kind for a in voice.attachments]) == ("", ["audio"])


def test_telegram_photo_caption_is_the_text():
    [photo] = parse_update(load_fixture("telegram_message_photo"))
    assert photo.text and photo.attachments[0].kind == "image"
    assert photo.text == photo.attachments[0].caption


def _reaction(old: list[str], new: list[str], chat_type: str = "private") -> dict:
    return {
        "update_id": 815400203,
        "message_reaction": {
            "chat": {"id": 5123456789, "type": chat_type, "first_name": "Marieke"},
            "message_id": 11,
            "user": {"id": 5123456789, "is_bot": False, "first_name": "Marieke"},
            "date": 1764370000,
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
        },
    }


def test_telegram_reactions_are_events_never_messages():
    [added] = parse_update(_reaction([], ["👍"]))
    assert (added.kind, added.event, added.text, added.conversation_id) == (
        "event",
        "reaction",
        "👍",
        "telegram:5123456789",
    )
    assert (added.raw["reacted_to"], added.raw["action"]) == ("11", "react")
    [removed] = parse_update(_reaction(["👍"], []))
    assert (removed.kind, removed.event, removed.text, removed.raw["action"]) == ("event", "reaction", "", "unreact")
    assert parse_update(_reaction([], ["👍"], chat_type="group")) == []


def test_twilio_whatsapp_voice_note_is_audio_with_an_empty_body():
    form = dict(load_fixture("twilio_whatsapp_image"))
    form.update({"MediaContentType0": "audio/ogg", "MessageType": "audio"})
    inb = parse_message_form(form)
    assert (inb.kind, inb.text, [a.kind for a in inb.attachments]) == ("message", "", ["audio"])


def test_twilio_whatsapp_emoji_alone_is_a_text_message():
    form = dict(load_fixture("twilio_whatsapp_text"))
    form["Body"] = "👍"
    inb = parse_message_form(form)
    assert (inb.kind, inb.text, inb.attachments) == ("message", "👍", ())
