"""What a customer sent besides text, as staff read it in the console: one line per attachment.

Pure. The transcript keeps each attachment as the channel gave it (:class:`connectors.base.Attachment`
as a dict); :func:`describe` turns one into an :class:`AttachmentView`: a label ("Photo",
"Voice note", "Location"...), a detail (the caption, a file name, coordinates, a sticker's emoji)
and a link only when the channel gave a web address (http or https; anything else is never a link).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .views import AttachmentView

__all__ = ["describe", "describe_all", "LABELS"]

LABELS = {
    "image": "Photo",
    "video": "Video",
    "audio": "Voice note or audio",
    "document": "File",
    "sticker": "Sticker",
    "location": "Location",
    "contact": "Contact card",
}
#: longest detail shown (a caption or a file name from the channel).
MAX_DETAIL = 200


def _link(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def describe(data: Mapping[str, Any]) -> AttachmentView:
    """One stored attachment (a dict) as the console shows it; unknown fields are ignored."""
    kind = str(data.get("kind") or "file")
    label = LABELS.get(kind, kind.capitalize())
    if kind == "audio" and str(data.get("mime_type") or "").startswith("audio/ogg"):
        label = "Voice note"
    bits: list[str] = []
    lat, lon = data.get("latitude"), data.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        bits.append(f"{lat:.5f}, {lon:.5f}")
    for key in ("name", "caption", "mime_type"):
        value = data.get(key)
        if isinstance(value, str) and value.strip() and value not in bits:
            bits.append(value.strip())
    detail = " · ".join(bits)[:MAX_DETAIL]
    return AttachmentView(kind=kind, label=label, detail=detail, url=_link(data.get("url")))


def describe_all(items: object) -> tuple[AttachmentView, ...]:
    """The stored ``attachments`` list of a message row (anything else: none)."""
    if not isinstance(items, Iterable) or isinstance(items, str | bytes | Mapping):
        return ()
    return tuple(describe(a) for a in items if isinstance(a, Mapping))
