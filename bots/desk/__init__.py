"""The agent desk: inbox, conversation view and agent actions (console and JSON API share it).

Public API::

    from bots.desk import Desk, build_desk
    desk = build_desk(settings, redis_client, engine, connectors)
    desk.inbox("waiting", staff)            # -> list[ConversationSummary], oldest first
    desk.counts(staff)                      # -> {"waiting": 2, "mine": 0, ...}
    desk.detail(conversation_id)            # -> ConversationDetail
    desk.takeover(cid, staff); desk.reply(cid, staff, "Hello", template_kind=None) -> ReplyResult
    desk.note(cid, staff, text); desk.assign(cid, staff, assignee_id)
    desk.handback(cid, staff); desk.resolve(cid, staff); desk.suggestions(cid)

Errors: :class:`NotFound`, :class:`Conflict`, :class:`InvalidInput` (all ``DeskError``).
"""

from .errors import Conflict, DeskError, InvalidInput, NotFound
from .queries import VIEWS
from .service import Desk, build_desk
from .views import (
    ConversationDetail,
    ConversationSummary,
    CustomerProfile,
    MessageView,
    NoteView,
    PastHandoff,
    ReplyResult,
    Suggestion,
    WindowInfo,
)
from .window import ReplyWindow

__all__ = [
    "Desk",
    "build_desk",
    "VIEWS",
    "DeskError",
    "NotFound",
    "Conflict",
    "InvalidInput",
    "ReplyWindow",
    "ConversationSummary",
    "ConversationDetail",
    "CustomerProfile",
    "PastHandoff",
    "MessageView",
    "NoteView",
    "WindowInfo",
    "Suggestion",
    "ReplyResult",
]
