"""The agent desk: what staff do to conversations, shared by the console and the JSON API.

Every action is recorded: a mode change (takeover, hand back, resolve) through
:class:`~bots.handoff.modes.Modes` (conversations row, ``audit_log`` row, live event);
replies, notes and assignments write their own ``audit_log`` row (actor
``staff:<id>``) and publish their live event. An agent's reply goes through the same
:class:`~bots.pipeline.deliverer.Deliverer` as the bot's (sent at most once, retried,
dead-lettered), to the conversation's channel and customer.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection, CursorResult

from connectors.base import Connector, Outbound, QuickReply

from ..dialogue.errors import ConversationBusy, StaleState
from ..dialogue.feedback import FeedbackPolicy
from ..dialogue.privacy_step import consent_answered, customer_of
from ..dialogue.responses import Reply, render
from ..dialogue.state import MODES, DialogueState
from ..dialogue.store import StateStore
from ..dialogue.transcript import PREVIEW_CHARS
from ..handoff.modes import UNCHANGED, InvalidTransition, ModeChange, Modes
from ..live_events import message_event, publish
from ..pipeline.deliverer import Deliverer
from ..privacy.consent import ConsentBook
from ..settings import Settings
from ..settings.dialogue import DomainSpec
from ..settings.feedback import FeedbackSettings
from ..settings.privacy import PrivacySettings
from ..stores.models import audit_log, conversations, messages, notes
from . import queries
from .errors import Conflict, InvalidInput, NotFound
from .inputs import MAX_NOTE, MAX_QUERY, MAX_REPLY, clean_text
from .suggestions import suggest
from .views import (
    ConversationDetail,
    ConversationSummary,
    CustomerProfile,
    MessageView,
    NoteView,
    ReplyResult,
    Suggestion,
)
from .window import ReplyWindow, staff_window_open, template_kinds, window_info

if TYPE_CHECKING:
    from ..staff.accounts import StaffMember

__all__ = ["Desk", "build_desk", "HANDBACK_RESPONSE", "ASSIGNABLE_ROLES"]

log = logging.getLogger(__name__)

#: the domain response sent to the customer when an agent hands the conversation back.
HANDBACK_RESPONSE = "handoff_returned"
#: roles that may be assigned conversations.
ASSIGNABLE_ROLES = ("agent", "admin")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_id(result: CursorResult[Any]) -> Any:
    """The primary key of the one row an INSERT just made (SQLAlchemy types it optional for other statements)."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("no primary key: the statement was not an INSERT of one row")
    return key[0]


def _actor(staff: StaffMember) -> str:
    return f"staff:{staff.id}"


class Desk:
    """Inbox, conversation view and agent actions.

    Args:
        settings: validated settings (console canned replies, WhatsApp templates, brand languages).
        engine: SQL engine of the durable record.
        store: the dialogue state store (slots shown to agents).
        modes: the one way a mode changes.
        deliverer: the bot's deliverer (same connectors, dead letters, idempotent sends).
        redis: client for live events.
        domain: the bot's domain (FAQ answers, the hand-back response).
        connectors: channel -> connector (the reply window of WhatsApp).
        clock: returns an aware ``datetime``.
        feedback: after a hand-back or a resolve, the consent question if due, else CSAT
            (``bots.dialogue.feedback``); None: nothing is asked.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: StateStore,
        modes: Modes,
        deliverer: Deliverer,
        redis: redis.Redis,
        domain: DomainSpec,
        connectors: Mapping[str, Connector],
        clock: Callable[[], datetime] = _utcnow,
        feedback: FeedbackPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.feedback = feedback
        self.engine = engine
        self.store = store
        self.modes = modes
        self.deliverer = deliverer
        self.redis = redis
        self.domain = domain
        self.connectors = connectors
        self.clock = clock
        self.prefix = settings.stores.key_prefix
        self.default_language = settings.brand.default_language

    # -- reading -------------------------------------------------------------------
    def inbox(
        self,
        view: str,
        staff: StaffMember,
        channel: str | None = None,
        language: str | None = None,
        mode: str | None = None,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ConversationSummary]:
        """The conversations of ``view``: "waiting" (oldest first, with the wait), "mine" (waiting or
        with a person, assigned to ``staff``), "open" (waiting or with a person), "resolved", "all".

        Args:
            q: case-insensitive substring of any transcript message.

        Raises:
            InvalidInput: an unknown view or mode, a bad page, a bad search string.
        """
        if view not in queries.VIEWS:
            raise InvalidInput(f"view {view!r} is not one of {', '.join(queries.VIEWS)}")
        if mode and mode not in MODES:
            raise InvalidInput(f"mode {mode!r} is not one of {', '.join(MODES)}")
        if not 1 <= limit <= 200 or offset < 0:
            raise InvalidInput(f"limit must be 1..200 and offset >= 0 (got {limit}, {offset})")
        query = clean_text(q, "q", MAX_QUERY) if q and q.strip() else None
        return queries.inbox(
            self.engine,
            view,
            staff.id,
            self.clock(),
            channel=channel or None,
            language=language or None,
            mode=mode or None,
            q=query,
            limit=limit,
            offset=offset,
        )

    def counts(self, staff: StaffMember) -> dict[str, int]:
        """How many conversations each inbox view holds."""
        return queries.counts(self.engine, staff.id)

    def conversation(self, conversation_id: str) -> ConversationSummary:
        """Raises: NotFound."""
        with self.engine.connect() as conn:
            return self._summary(conn, conversation_id)

    def detail(self, conversation_id: str) -> ConversationDetail:
        """Transcript (with NLU), notes, slots, customer profile, reply window and suggestions.

        Raises:
            NotFound: no such conversation.
        """
        with self.engine.connect() as conn:
            summary = self._summary(conn, conversation_id)
            transcript = queries.transcript(conn, conversation_id)
            note_views = queries.notes_of(conn, conversation_id)
            first, count, history = queries.profile_facts(conn, conversation_id)
            last_in = queries.last_inbound_at(conn, conversation_id)
            nlu = queries.last_customer_nlu(conn, conversation_id)
        state = self.store.load(conversation_id)
        slots: dict[str, Any] = dict(state.memory)
        if state.flow is not None:
            slots.update(state.flow.slots)
        profile = CustomerProfile(
            channel=summary.channel,
            customer_id=summary.customer_id,
            language=summary.language,
            first_seen=first or summary.created_at,
            messages=count,
            handoffs=sum(1 for h in history if h.mode == "waiting" or (h.mode == "human" and h.reason != "takeover")),
            resolutions=sum(1 for h in history if h.mode == "resolved"),
            history=tuple(history),
        )
        return ConversationDetail(
            summary=summary,
            messages=tuple(transcript),
            notes=tuple(note_views),
            slots=slots,
            flow=state.flow.name if state.flow else None,
            profile=profile,
            window=self._window(summary, last_in),
            suggestions=tuple(self._suggest(summary, nlu)),
        )

    def suggestions(self, conversation_id: str) -> list[Suggestion]:
        """Up to 5 replies for the agent, ranked by the customer's last intent.

        Raises:
            NotFound: no such conversation.
        """
        with self.engine.connect() as conn:
            summary = self._summary(conn, conversation_id)
            nlu = queries.last_customer_nlu(conn, conversation_id)
        return self._suggest(summary, nlu)

    # -- mode changes ----------------------------------------------------------------
    def takeover(self, conversation_id: str, staff: StaffMember) -> ConversationSummary:
        """Take the conversation from the bot or the queue: mode ``human``, assigned to ``staff``.

        Raises:
            NotFound, Conflict: a person leads it already.
        """
        self._change(
            conversation_id, staff, "human", "takeover", expect=("bot", "waiting", "resolved"), assigned_to=staff.id
        )
        return self.conversation(conversation_id)

    def handback(self, conversation_id: str, staff: StaffMember) -> ConversationSummary:
        """Give the conversation back to the bot and tell the customer (response ``handoff_returned``
        in their language; nothing is sent when the domain lacks it).

        Raises:
            NotFound, Conflict: the conversation is neither waiting nor with a person.
        """
        summary = self.conversation(conversation_id)
        asked: list[Reply] = []
        self._change(
            conversation_id, staff, "bot", "handback", expect=("waiting", "human"), then=self._ask(summary, asked)
        )
        if HANDBACK_RESPONSE in self.domain.responses:
            reply = render(
                self.domain,
                HANDBACK_RESPONSE,
                summary.language or self.default_language,
                fallback_language=self.default_language,
            )
            ob = Outbound(
                channel=summary.channel,
                recipient=summary.customer_id,
                text=reply.text,
                quick_replies=tuple(QuickReply(t, p) for t, p in reply.buttons),
                idempotency_key=f"staff:{uuid.uuid4()}",
                conversation_id=conversation_id,
            )
            status, reason = self._deliver(ob)
            data = {
                "author": "bot",
                "kind": HANDBACK_RESPONSE,
                "delivery": status,
                "reason": reason,
                "quick_replies": [[q.title, q.payload] for q in ob.quick_replies],
            }
            self._record_out(ob, data, "bot", None, None, staff, audit=None)
        self._send_questions(summary, staff, asked)
        return self.conversation(conversation_id)

    def resolve(self, conversation_id: str, staff: StaffMember) -> ConversationSummary:
        """Close the conversation (a new customer message reopens it with the bot) and ask for
        feedback (the consent question if due, else CSAT; see :meth:`handback`).

        Raises:
            NotFound, Conflict: resolved already.
        """
        summary = self.conversation(conversation_id)
        asked: list[Reply] = []
        self._change(
            conversation_id,
            staff,
            "resolved",
            "resolve",
            expect=("bot", "waiting", "human"),
            then=self._ask(summary, asked),
        )
        self._send_questions(summary, staff, asked)
        return self.conversation(conversation_id)

    def _ask(self, summary: ConversationSummary, asked: list[Reply]) -> Callable[[DialogueState], None] | None:
        """Opens the feedback question in the state, under the mode change's lock (its replies go to ``asked``)."""
        policy = self.feedback
        if policy is None:
            return None
        who = customer_of(summary.channel, summary.id)
        book = ConsentBook(self.engine, self.clock)

        def then(state: DialogueState) -> None:
            if state.language is None:
                state.language = summary.language
            asked.extend(policy.on_resolution(state, self.clock(), lambda: consent_answered(book, who)))

        return then

    def _send_questions(self, summary: ConversationSummary, staff: StaffMember, asked: list[Reply]) -> None:
        """Send the feedback questions as the bot (a channel without buttons shows a rating's
        digits as the question's own "1 to 5", see ``connectors._text.render_numbered``)."""
        for reply in asked:
            ob = Outbound(
                channel=summary.channel,
                recipient=summary.customer_id,
                text=reply.text,
                quick_replies=tuple(QuickReply(t, p) for t, p in reply.buttons),
                idempotency_key=f"staff:{uuid.uuid4()}",
                conversation_id=summary.id,
            )
            status, reason = self._deliver(ob)
            data = {
                "author": "bot",
                "kind": reply.key,
                "delivery": status,
                "reason": reason,
                "quick_replies": [[q.title, q.payload] for q in ob.quick_replies],
            }
            self._record_out(ob, data, "bot", None, None, staff, audit=None)

    # -- assignment and notes ------------------------------------------------------------
    def assign(self, conversation_id: str, staff: StaffMember, assignee_id: int) -> ConversationSummary:
        """Assign the conversation to ``assignee_id`` (an enabled agent or admin).

        Raises:
            NotFound: no such conversation or staff member.
            InvalidInput: the assignee is disabled or an analyst.
        """
        now = self.clock()
        with self.engine.begin() as conn:
            summary = self._summary(conn, conversation_id)
            row = queries.active_assignee(conn, assignee_id)
            if row is None:
                raise NotFound(f"no staff member with id {assignee_id}")
            if row.disabled or row.role not in ASSIGNABLE_ROLES:
                why = "is disabled" if row.disabled else f"is an {row.role}"
                raise InvalidInput(f"staff member {assignee_id} ({row.email}) {why}; assign an enabled agent or admin")
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(assigned_to=assignee_id, updated_at=now)
            )
            self._audit(
                conn,
                staff,
                "assign",
                conversation_id,
                now,
                {"assigned_to": assignee_id, "previous": summary.assigned_to},
            )
        name = row.name or row.email
        publish(
            self.redis,
            self.prefix,
            {
                "type": "assign",
                "conversation_id": conversation_id,
                "channel": summary.channel,
                "assigned_to": assignee_id,
                "assigned_name": name,
                "actor": _actor(staff),
                "at": now.isoformat(),
            },
        )
        return self.conversation(conversation_id)

    def note(self, conversation_id: str, staff: StaffMember, text: str) -> NoteView:
        """Leave a private note (never sent to the customer).

        Raises:
            NotFound, InvalidInput: empty or too long text.
        """
        body = clean_text(text, "note", MAX_NOTE)
        now = self.clock()
        with self.engine.begin() as conn:
            summary = self._summary(conn, conversation_id)
            note_id = _new_id(
                conn.execute(
                    insert(notes).values(conversation_id=conversation_id, staff_id=staff.id, text=body, created_at=now)
                )
            )
            self._audit(conn, staff, "note", conversation_id, now, {"note_id": note_id})
        view = NoteView(
            id=int(note_id),
            conversation_id=conversation_id,
            staff_id=staff.id,
            author_name=staff.display,
            text=body,
            at=now,
        )
        publish(
            self.redis,
            self.prefix,
            {
                "type": "note",
                "conversation_id": conversation_id,
                "channel": summary.channel,
                "note_id": view.id,
                "staff_id": staff.id,
                "author_name": staff.display,
                "text": body,
                "at": now.isoformat(),
            },
        )
        return view

    # -- replying -------------------------------------------------------------------------
    def reply(
        self, conversation_id: str, staff: StaffMember, text: str, template_kind: str | None = None
    ) -> ReplyResult:
        """Send ``text`` to the customer as ``staff``; takes the conversation over first when a
        person does not lead it yet. Outside WhatsApp's 24-hour window a template kind must be
        chosen (one of ``channels.twilio.whatsapp.templates``); the text fills its variables.

        Returns:
            The transcript message and the delivery outcome: a refused or undeliverable send
            comes back as status "failed" / "dead" with the reason (it is dead-lettered too).

        Raises:
            NotFound, Conflict (busy conversation),
            InvalidInput: bad text, an unknown template, a closed window without a template.
        """
        body = clean_text(text, "text", MAX_REPLY)
        summary = self.conversation(conversation_id)
        kind = self._check_window(summary, template_kind)
        took_over = False
        if self.store.load(conversation_id).mode != "human":
            try:
                self._change(conversation_id, staff, "human", "takeover", expect=None, assigned_to=staff.id)
                took_over = True
            except Conflict:
                if self.store.load(conversation_id).mode != "human":
                    raise  # busy, not "taken over meanwhile": send nothing the bot might talk over
                log.info("conversation %s: taken over meanwhile; replying as %s", conversation_id, _actor(staff))
        key = f"staff:{uuid.uuid4()}"
        ob = Outbound(
            channel=summary.channel,
            recipient=summary.customer_id,
            text=body,
            kind=kind,
            idempotency_key=key,
            conversation_id=conversation_id,
            author="staff",
        )
        status, reason = self._deliver(ob)
        data = {
            "author": "staff",
            "staff_id": staff.id,
            "author_name": staff.display,
            "kind": "staff_reply",
            "delivery": status,
            "reason": reason,
            "template": template_kind,
        }
        message = self._record_out(
            ob,
            data,
            "staff",
            staff.id,
            staff.display,
            staff,
            audit={"message_id": key, "delivery": status, "reason": reason, "template": template_kind},
        )
        return ReplyResult(message=message, status=status, reason=reason, took_over=took_over)

    # -- helpers ------------------------------------------------------------------------
    def _summary(self, conn: Connection, conversation_id: str) -> ConversationSummary:
        found = queries.summary(conn, conversation_id, self.clock())
        if found is None:
            raise NotFound(f"no conversation {conversation_id!r}")
        return found

    def _window(self, summary: ConversationSummary, last_in: datetime | None):
        connector = self.connectors.get(summary.channel)
        if connector is None:
            return None
        return window_info(
            connector, summary.customer_id, last_in, connector.rules.reply_window_seconds, template_kinds(connector)
        )

    def _check_window(self, summary: ConversationSummary, template_kind: str | None) -> str:
        """The Outbound kind for a reply; refuses a send the channel would refuse."""
        connector = self.connectors.get(summary.channel)
        templates = template_kinds(connector)
        if template_kind is not None:
            if not templates:
                raise InvalidInput(f"channel {summary.channel!r} has no templates; send without one")
            if template_kind not in templates:
                raise InvalidInput(f"template {template_kind!r} is not configured; choose one of {list(templates)}")
            return template_kind
        if not isinstance(connector, ReplyWindow) or connector.window_open(summary.customer_id):
            return "reply"
        if staff_window_open(connector, summary.customer_id):
            return "reply"  # sent with the human-agent tag
        if templates:
            raise InvalidInput(f"the 24-hour window is closed: pick a template (one of {list(templates)})")
        raise InvalidInput(
            f"the {summary.channel} reply window is closed and no template is configured for it; "
            "the customer must write first"
        )

    def _change(
        self,
        conversation_id: str,
        staff: StaffMember,
        new: str,
        reason: str,
        expect: tuple[str, ...] | None,
        assigned_to: Any = UNCHANGED,
        then: Callable[[DialogueState], None] | None = None,
    ) -> ModeChange:
        summary = self.conversation(conversation_id)
        try:
            return self.modes.change(
                conversation_id,
                summary.channel,
                new,
                actor=_actor(staff),
                reason=reason,
                assigned_to=assigned_to,
                expect=expect,
                then=then,
            )
        except InvalidTransition as exc:
            who = f" (assigned to {summary.assigned_name})" if summary.assigned_name else ""
            raise Conflict(f"cannot {reason}: {exc}{who}") from exc
        except (ConversationBusy, StaleState) as exc:
            raise Conflict(f"conversation {conversation_id!r} is busy (a turn is running); try again: {exc}") from exc

    def _deliver(self, ob: Outbound) -> tuple[str, str | None]:
        status = self.deliverer.deliver(ob)
        if status in ("sent", "duplicate"):
            return status, None
        return status, self._failure_reason(ob, status)

    def _failure_reason(self, ob: Outbound, status: str) -> str:
        d = self.deliverer
        mark = d.redis.get(d.keys.sent(ob.conversation_id or "", ob.idempotency_key or ""))
        text = mark.decode() if isinstance(mark, bytes) else str(mark or "")
        _, _, entry = text.partition(":")
        letter = d.dead_letters.get(entry) if entry else None
        if letter is not None:
            return letter.error
        return f"the {ob.channel} send {status}" + (" after retries" if status == "dead" else "")

    def _record_out(
        self,
        ob: Outbound,
        data: dict[str, Any],
        author: str,
        staff_id: int | None,
        author_name: str | None,
        staff: StaffMember,
        audit: dict[str, Any] | None,
    ) -> MessageView:
        """The transcript row of a sent message, the conversation's preview, an audit row, the live event."""
        now = self.clock()
        conv = ob.conversation_id or ""
        with self.engine.begin() as conn:
            row_id = _new_id(
                conn.execute(
                    insert(messages).values(
                        conversation_id=conv,
                        direction="out",
                        channel=ob.channel,
                        message_id=ob.idempotency_key,
                        text=ob.text,
                        data=data,
                        created_at=now,
                    )
                )
            )
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conv)
                .values(last_message_at=now, last_preview=ob.text[:PREVIEW_CHARS], updated_at=now)
            )
            if audit is not None:
                self._audit(conn, staff, "reply", conv, now, audit)
            view = queries.message_by_id(conn, int(row_id))
            mode = conn.execute(select(conversations.c.mode).where(conversations.c.id == conv)).scalar_one_or_none()
        publish(
            self.redis,
            self.prefix,
            message_event(
                conversation_id=conv,
                channel=ob.channel,
                direction="out",
                author=author,
                message_id=ob.idempotency_key,
                text=ob.text,
                mode=mode,
                at=now,
                staff_id=staff_id,
                author_name=author_name,
                delivery=data.get("delivery"),
            ),
        )
        return view

    def _audit(
        self, conn: Connection, staff: StaffMember, action: str, subject: str, at: datetime, detail: dict[str, Any]
    ) -> None:
        conn.execute(
            insert(audit_log).values(at=at, actor=_actor(staff), action=action, subject=subject, detail=detail)
        )

    def _suggest(self, summary: ConversationSummary, nlu: dict[str, Any] | None) -> list[Suggestion]:
        return suggest(self.settings.console.canned_replies, self.domain, nlu, summary.language, self.default_language)


def build_desk(
    settings: Settings,
    redis_client: redis.Redis,
    engine: Engine,
    connectors: Mapping[str, Connector],
    domain: DomainSpec | None = None,
    clock: Callable[[], datetime] = _utcnow,
    privacy: PrivacySettings | None = None,
    feedback: FeedbackSettings | None = None,
) -> Desk:
    """A desk wired like the workers: the same state store, dead letters and Deliverer settings.

    Args:
        connectors: the process's connectors (``bots.runtime.build_connectors_for(services)``).
        domain: the bot's domain (default: loaded from the settings).
        privacy, feedback: the ``privacy:`` and ``feedback:`` settings (default: their defaults):
            the consent wording and the questions asked after a hand-back or a resolve.
    """
    from ..dialogue.build import feedback_policy
    from ..dialogue.domain import load_domain
    from ..pipeline.dlq import DeadLetters
    from ..pipeline.ingest import keys_for

    d = settings.dialogue
    store = StateStore(
        redis_client,
        prefix=settings.stores.key_prefix,
        state_ttl=d.state_ttl_seconds,
        lock_ttl=d.lock_ttl_seconds,
        lock_wait=d.lock_wait_seconds,
    )
    deliverer = Deliverer.from_settings(
        redis_client, engine, settings, connectors, DeadLetters(redis_client, keys_for(settings))
    )
    domain = domain or load_domain(settings)
    policy = feedback_policy(settings, domain, privacy or settings.privacy, feedback or settings.feedback)
    return Desk(
        settings,
        engine,
        store,
        Modes(store, engine, clock),
        deliverer,
        redis_client,
        domain,
        connectors,
        clock,
        feedback=policy,
    )
