"""What a customer sent besides text shows in the console transcript: a label, the detail
(escaped), and a link only for a web address."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert

from bots.desk.attachments import describe, describe_all
from bots.stores.models import messages

from .conftest import CID, XSS


def test_each_kind_is_named_with_its_detail_and_only_web_addresses_are_links() -> None:
    voice = describe({"kind": "audio", "file_id": "AwAC", "mime_type": "audio/ogg"})
    assert (voice.label, voice.detail, voice.url) == ("Voice note", "audio/ogg", None)
    place = describe({"kind": "location", "latitude": 52.3676, "longitude": 4.9041, "name": "Schiphol"})
    assert (place.label, place.detail) == ("Location", "52.36760, 4.90410 · Schiphol")
    photo = describe({"kind": "image", "url": "https://api.twilio.com/media/ME1", "caption": "my boarding pass"})
    assert (photo.label, photo.detail, photo.url) == ("Photo", "my boarding pass", "https://api.twilio.com/media/ME1")
    assert describe({"kind": "document", "url": "javascript:alert(1)", "name": "x.pdf"}).url is None
    assert describe_all("not a list") == () and describe_all([{"kind": "sticker"}, 3])[0].label == "Sticker"


def test_the_transcript_shows_attachments_escaped(app, agent_client, waiting_conversation) -> None:
    engine = app.extensions["brandbot"].engine
    with engine.begin() as conn:
        conn.execute(
            insert(messages).values(
                conversation_id=CID,
                direction="in",
                channel="webchat",
                message_id="m-photo",
                text="",
                data={
                    "kind": "message",
                    "attachments": [
                        {"kind": "image", "url": "https://media.example/p1.jpg", "caption": XSS},
                        {"kind": "location", "latitude": 43.66, "longitude": 7.21},
                        {"kind": "document", "url": "javascript:alert(1)", "name": "evil.pdf"},
                    ],
                },
                created_at=datetime.now(UTC),
            )
        )
    html = agent_client.get(f"/console/c/{CID}").get_data(as_text=True)
    assert "chip-attachment" in html and ">Photo<" in html and ">Location<" in html and ">File<" in html
    assert 'href="https://media.example/p1.jpg"' in html and 'rel="noopener noreferrer"' in html
    assert "43.66000, 7.21000" in html
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html
