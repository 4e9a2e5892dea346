"""The desk's SQL (SQLAlchemy Core; SQLite and PostgreSQL): inbox, transcript, notes, profile.

Datetimes read back from SQLite are naive (stored in UTC): :func:`aware` makes them aware.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import Engine, and_, case, exists, func, literal, or_, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from ..clock import aware
from ..notifications.events import NOTIFICATION_KEY_PREFIX
from ..stores.models import audit_log, conversations, messages, notes, staff
from .attachments import describe_all
from .views import ConversationSummary, MessageView, NoteView, PastHandoff

__all__ = [
    "View",
    "VIEWS",
    "aware",
    "like_pattern",
    "inbox",
    "counts",
    "summary",
    "transcript",
    "notes_of",
    "staff_name",
    "active_assignee",
    "last_inbound_at",
    "last_customer_nlu",
    "profile_facts",
]

View = Literal["waiting", "mine", "open", "resolved", "all"]
VIEWS: tuple[str, ...] = get_args(View)
#: modes in which a person leads or is awaited.
STAFFED = ("waiting", "human")


def like_pattern(q: str) -> str:
    """``%q%`` with LIKE's wildcards (and the escape character) escaped by ``\\``."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _columns() -> list[Any]:
    c = conversations.c
    return [
        c.id,
        c.channel,
        c.customer_id,
        c.language,
        c.mode,
        c.assigned_to,
        staff.c.name.label("staff_name"),
        staff.c.email.label("staff_email"),
        c.waiting_since,
        c.last_message_at,
        c.last_preview,
        c.handoff_reason,
        c.created_at,
        c.updated_at,
        c.resolved_at,
    ]


def _base():
    return select(*_columns()).select_from(conversations.outerjoin(staff, staff.c.id == conversations.c.assigned_to))


def _summary(row: Row, now: datetime) -> ConversationSummary:
    waiting_since = aware(row.waiting_since)
    if row.mode == "waiting" and waiting_since is None:
        waiting_since = aware(row.updated_at)  # a handoff recorded before waiting_since existed
    waits = row.mode == "waiting" or (row.mode == "bot" and row.handoff_reason == "left_message")
    wait = int((now - waiting_since).total_seconds()) if waits and waiting_since else None
    name = (row.staff_name or row.staff_email) if row.assigned_to is not None else None
    return ConversationSummary(
        id=row.id,
        channel=row.channel,
        customer_id=row.customer_id,
        language=row.language,
        mode=row.mode,
        assigned_to=row.assigned_to,
        assigned_name=name,
        waiting_since=waiting_since,
        last_message_at=aware(row.last_message_at),
        last_preview=row.last_preview,
        handoff_reason=row.handoff_reason,
        created_at=aware(row.created_at),
        resolved_at=aware(row.resolved_at),
        wait_seconds=None if wait is None else max(0, wait),
    )


def _left_message() -> ColumnElement[bool]:
    """Outside business hours the customer left a message: still with the bot, but waiting for staff."""
    c = conversations.c
    return and_(c.mode == "bot", c.waiting_since.is_not(None), c.handoff_reason == "left_message")


def _view_filter(view: str, staff_id: int | None) -> ColumnElement[bool]:
    mode = conversations.c.mode
    if view == "waiting":
        return or_(mode == "waiting", _left_message())
    if view == "mine":
        return and_(mode.in_(STAFFED), conversations.c.assigned_to == staff_id)
    if view == "open":
        return or_(mode.in_(STAFFED), _left_message())
    if view == "resolved":
        return mode == "resolved"
    return literal(True)


def _order(view: str) -> list[Any]:
    c = conversations.c
    recent = func.coalesce(c.last_message_at, c.updated_at)
    if view == "waiting":
        return [func.coalesce(c.waiting_since, c.updated_at).asc(), c.id]
    if view == "resolved":
        return [func.coalesce(c.resolved_at, c.updated_at).desc(), c.id]
    if view in ("open", "mine"):  # the waiting first (oldest first), then the most recent
        return [
            case((c.mode == "waiting", 0), else_=1),
            case((c.mode == "waiting", c.waiting_since), else_=None).asc(),
            recent.desc(),
            c.id,
        ]
    return [recent.desc(), c.id]


def inbox(
    engine: Engine,
    view: str,
    staff_id: int | None,
    now: datetime,
    *,
    channel: str | None = None,
    language: str | None = None,
    mode: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ConversationSummary]:
    """The conversations of ``view`` (see :data:`VIEWS`), filtered and paged."""
    c = conversations.c
    stmt = _base().where(_view_filter(view, staff_id))
    if channel:
        stmt = stmt.where(c.channel == channel)
    if language:
        stmt = stmt.where(c.language == language)
    if mode:
        stmt = stmt.where(c.mode == mode)
    if q:
        # ILIKE on PostgreSQL, lower() LIKE lower() on SQLite (ASCII-only case folding there)
        stmt = stmt.where(
            exists().where(messages.c.conversation_id == c.id, messages.c.text.ilike(like_pattern(q), escape="\\"))
        )
    stmt = stmt.order_by(*_order(view)).limit(limit).offset(offset)
    with engine.connect() as conn:
        return [_summary(r, now) for r in conn.execute(stmt)]


def counts(engine: Engine, staff_id: int | None) -> dict[str, int]:
    """How many conversations each view holds (one query)."""

    def n(cond: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    stmt = select(*(n(_view_filter(v, staff_id)).label(v) for v in VIEWS)).select_from(conversations)
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    return {v: int(getattr(row, v)) for v in VIEWS}


def summary(conn: Connection, conversation_id: str, now: datetime) -> ConversationSummary | None:
    row = conn.execute(_base().where(conversations.c.id == conversation_id)).first()
    return None if row is None else _summary(row, now)


def _message(row: Row) -> MessageView:
    data: dict[str, Any] = row.data if isinstance(row.data, dict) else {}
    if row.direction == "in":
        raw_nlu = data.get("nlu")
        nlu: dict[str, Any] = raw_nlu if isinstance(raw_nlu, dict) else {}
        raw_sentiment = nlu.get("sentiment")
        sentiment: dict[str, Any] = raw_sentiment if isinstance(raw_sentiment, dict) else {}
        return MessageView(
            id=row.id,
            direction="in",
            text=row.text,
            at=aware(row.created_at),
            author="customer",
            intent=nlu.get("intent"),
            confidence=nlu.get("confidence"),
            sentiment_score=sentiment.get("score"),
            sentiment_label=sentiment.get("label"),
            kind=data.get("kind"),
            attachments=describe_all(data.get("attachments")),
        )
    staff_reply = data.get("author") == "staff"
    kind = data.get("kind")
    if str(row.message_id or "").startswith(NOTIFICATION_KEY_PREFIX):  # sent for the brand's systems
        kind = f"notification: {kind}"
    return MessageView(
        id=row.id,
        direction="out",
        text=row.text,
        at=aware(row.created_at),
        author="staff" if staff_reply else "bot",
        staff_id=data.get("staff_id") if staff_reply else None,
        author_name=data.get("author_name"),
        kind=kind,
        delivery=data.get("delivery"),
    )


def transcript(conn: Connection, conversation_id: str, limit: int = 500) -> list[MessageView]:
    """The last ``limit`` messages, oldest first."""
    m = messages.c
    rows = conn.execute(
        select(m.id, m.direction, m.text, m.data, m.created_at, m.message_id)
        .where(m.conversation_id == conversation_id)
        .order_by(m.created_at.desc(), m.id.desc())
        .limit(limit)
    ).all()
    return [_message(r) for r in reversed(rows)]


def message_by_id(conn: Connection, row_id: int) -> MessageView:
    m = messages.c
    return _message(
        conn.execute(select(m.id, m.direction, m.text, m.data, m.created_at, m.message_id).where(m.id == row_id)).one()
    )


def notes_of(conn: Connection, conversation_id: str) -> list[NoteView]:
    n = notes.c
    rows = conn.execute(
        select(
            n.id,
            n.conversation_id,
            n.staff_id,
            n.text,
            n.created_at,
            func.coalesce(func.nullif(staff.c.name, ""), staff.c.email).label("author"),
        )
        .select_from(notes.outerjoin(staff, staff.c.id == n.staff_id))
        .where(n.conversation_id == conversation_id)
        .order_by(n.created_at, n.id)
    ).all()
    return [
        NoteView(
            id=r.id,
            conversation_id=r.conversation_id,
            staff_id=r.staff_id,
            author_name=r.author,
            text=r.text,
            at=aware(r.created_at),
        )
        for r in rows
    ]


def staff_name(conn: Connection, staff_id: int) -> str | None:
    row = conn.execute(select(staff.c.name, staff.c.email).where(staff.c.id == staff_id)).first()
    return None if row is None else (row.name or row.email)


def active_assignee(conn: Connection, staff_id: int) -> Row | None:
    """The staff row of ``staff_id`` when it may take conversations (an enabled agent or admin)."""
    s = staff.c
    return conn.execute(select(s.id, s.name, s.email, s.role, s.disabled).where(s.id == staff_id)).first()


def last_inbound_at(conn: Connection, conversation_id: str) -> datetime | None:
    m = messages.c
    at = conn.execute(
        select(func.max(m.created_at)).where(m.conversation_id == conversation_id, m.direction == "in")
    ).scalar_one_or_none()
    return aware(at)


def last_customer_nlu(conn: Connection, conversation_id: str) -> dict[str, Any] | None:
    """``data["nlu"]`` of the customer's last message that has one."""
    m = messages.c
    rows = conn.execute(
        select(m.data)
        .where(m.conversation_id == conversation_id, m.direction == "in")
        .order_by(m.created_at.desc(), m.id.desc())
        .limit(20)
    ).scalars()
    for data in rows:
        nlu = data.get("nlu") if isinstance(data, dict) else None
        if isinstance(nlu, dict) and nlu.get("intent"):
            return nlu
    return None


def profile_facts(conn: Connection, conversation_id: str) -> tuple[datetime | None, int, list[PastHandoff]]:
    """(first message at, message count, mode changes to waiting/human/resolved oldest first)."""
    m = messages.c
    first, count = conn.execute(
        select(func.min(m.created_at), func.count()).where(m.conversation_id == conversation_id)
    ).one()
    a = audit_log.c
    rows = conn.execute(
        select(a.at, a.action, a.actor, a.detail)
        .where(
            a.subject == conversation_id,
            or_(a.action == "mode:waiting", a.action == "mode:human", a.action == "mode:resolved"),
        )
        .order_by(a.at, a.id)
        .limit(200)
    ).all()
    history = [
        PastHandoff(
            at=aware(r.at),
            mode=r.action.split(":", 1)[1],
            reason=(r.detail or {}).get("reason") if isinstance(r.detail, dict) else None,
            actor=r.actor,
        )
        for r in rows
    ]
    return aware(first), int(count), history
