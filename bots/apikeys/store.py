"""API keys of the brand's own systems, kept in SQL (table ``api_keys``).

A key is shown once, by :meth:`ApiKeys.create`; afterwards only its clear prefix, its
SHA-256 and what it may do (its scopes) are known. A request's key is found by its
prefix and its hash compared in constant time (:func:`hmac.compare_digest`), so neither
the SQL lookup nor the comparison times anything secret. Creations and revocations are
written to ``audit_log`` in the same transaction.
"""

from __future__ import annotations

import builtins
import enum
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from ..clock import aware, utcnow
from ..stores.models import api_keys, audit_log
from .errors import ApiKeyError
from .keys import KEY_PREFIX, PREFIX_LENGTH, hash_key, new_key, parse_key

__all__ = ["SCOPES", "ApiKeys", "ApiKeyInfo", "CreatedKey", "Refusal", "Verdict", "check_scope"]

#: what a key may be allowed to do. "notify": POST /api/v1/notifications.
SCOPES: tuple[str, ...] = ("notify",)
MAX_NAME_LENGTH = 100
#: ``last_used_at`` is written at most this often (not one write per request).
LAST_USED_EVERY = timedelta(seconds=60)
_INSERT_ATTEMPTS = 3  # a new random prefix if one is taken (48 random bits: in practice never)
_MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class ApiKeyInfo:
    """What is known of an API key: never the key, nor its hash."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_by: str | None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    @property
    def shown_prefix(self) -> str:
        """How the key begins (``bbk_`` + prefix), as lists show it."""
        return KEY_PREFIX + self.prefix

    def allows(self, scope: str) -> bool:
        """Whether the key may do ``scope`` (a revoked key may do nothing)."""
        return self.active and scope in self.scopes


@dataclass(frozen=True)
class CreatedKey:
    """A new key, with the key itself: the only time it is ever returned."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    key: str = field(repr=False)


class Refusal(enum.Enum):
    """Why a key was refused; :attr:`status` is the HTTP answer (401: no valid key, 403: not allowed)."""

    MALFORMED = "not an API key (they look like bbk_<8 characters>_<43 characters>)"
    UNKNOWN = "unknown API key"
    REVOKED = "revoked API key"
    MISSING_SCOPE = "the API key lacks the scope this needs"

    @property
    def status(self) -> int:
        return 403 if self is Refusal.MISSING_SCOPE else 401


@dataclass(frozen=True)
class Verdict:
    """What :meth:`ApiKeys.verify` found.

    ``key`` is set for an active key (also when it lacks the scope: to say which key it
    was); ``refusal`` is None when the key may do the scope.
    """

    key: ApiKeyInfo | None
    refusal: Refusal | None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def _info(row: RowMapping) -> ApiKeyInfo:
    created_at = aware(row["created_at"])
    assert created_at is not None  # NOT NULL
    return ApiKeyInfo(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=tuple(s for s in row["scopes"].split(",") if s),
        created_at=created_at,
        last_used_at=aware(row["last_used_at"]),
        revoked_at=aware(row["revoked_at"]),
        created_by=row["created_by"],
    )


def check_scope(scope: str) -> str:
    """``scope`` when it is one of :data:`SCOPES`.

    Raises:
        ApiKeyError: it is not; the message lists the valid ones.
    """
    if scope not in SCOPES:
        raise ApiKeyError(f"unknown scope {scope!r}; valid scopes: {', '.join(SCOPES)}")
    return scope


def _check_scopes(scopes: str | Iterable[str]) -> tuple[str, ...]:
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes)
    checked = tuple(dict.fromkeys(check_scope(s.strip()) for s in items if s.strip()))
    if not checked:
        raise ApiKeyError(f"give the key at least one scope; valid scopes: {', '.join(SCOPES)}")
    return checked


def _check_name(name: str) -> str:
    value = name.strip()
    if not value:
        raise ApiKeyError("give the key a name: what it is for (e.g. 'booking system: delay notices')")
    if len(value) > MAX_NAME_LENGTH:
        raise ApiKeyError(f"the name has {len(value)} characters; at most {MAX_NAME_LENGTH}")
    return value


class ApiKeys:
    """Create, list, revoke and check the API keys of machines.

    Args:
        engine: the SQL engine (migrated).
        clock: returns an aware ``datetime`` (UTC).
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def create(self, name: str, scopes: str | Iterable[str], created_by: str | None = None) -> CreatedKey:
        """Make a key; the returned :class:`CreatedKey` is the only place the key ever appears.

        Args:
            name: what the key is for (1 to 100 characters).
            scopes: what it may do, each one of :data:`SCOPES` (a string: comma-separated).
            created_by: who made it (free text, e.g. ``"cli"`` or ``"staff:3"``; kept and audited).

        Raises:
            ApiKeyError: (a ValueError) empty or too long name, no scope, an unknown scope.
        """
        checked_name = _check_name(name)
        checked_scopes = _check_scopes(scopes)
        by = (created_by or "").strip()[:200] or None
        for attempt in range(_INSERT_ATTEMPTS):
            fresh = new_key()
            try:
                with self.engine.begin() as conn:
                    new_id = conn.execute(
                        insert(api_keys)
                        .values(
                            name=checked_name,
                            prefix=fresh.prefix,
                            key_hash=hash_key(fresh.key),
                            scopes=",".join(checked_scopes),
                            created_at=self.clock(),
                            created_by=by,
                        )
                        .returning(api_keys.c.id)
                    ).scalar_one()
                    detail = {
                        "id": new_id,
                        "name": checked_name,
                        "prefix": fresh.prefix,
                        "scopes": list(checked_scopes),
                    }
                    self._audit(conn, by or "system", "apikey.created", f"apikey:{new_id}", detail)
            except IntegrityError:
                if attempt + 1 == _INSERT_ATTEMPTS:
                    raise
                continue
            return CreatedKey(id=new_id, name=checked_name, prefix=fresh.prefix, scopes=checked_scopes, key=fresh.key)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def list(self) -> builtins.list[ApiKeyInfo]:
        """Every key, revoked ones included, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).mappings().all()
        return [_info(r) for r in rows]

    def revoke(self, id_or_prefix: str | int, *, actor: str = "system") -> bool:
        """Revoke a key given by id, by prefix (with or without ``bbk_``) or whole.

        Returns:
            True when an active key was revoked; False when none matches or it was revoked already.
        """
        with self.engine.begin() as conn:
            row = self._find(conn, str(id_or_prefix).strip().rstrip("…"))
            if row is None or row["revoked_at"] is not None:
                return False
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.id == row["id"], api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            ).rowcount
            if done:
                detail = {"id": row["id"], "name": row["name"], "prefix": row["prefix"]}
                self._audit(conn, actor, "apikey.revoked", f"apikey:{row['id']}", detail)
        return bool(done)

    def _find(self, conn: Connection, value: str) -> RowMapping | None:
        parsed = parse_key(value)
        if parsed is not None:
            return conn.execute(select(api_keys).where(api_keys.c.key_hash == hash_key(parsed.key))).mappings().first()
        prefix = value.removeprefix(KEY_PREFIX)
        if len(prefix) == PREFIX_LENGTH:  # a prefix wins over an id of the same digits
            row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).mappings().first()
            if row is not None:
                return row
        if value.isascii() and value.isdigit() and int(value) <= _MAX_ID:
            return conn.execute(select(api_keys).where(api_keys.c.id == int(value))).mappings().first()
        return None

    def verify(self, raw_key: str, scope: str) -> Verdict:
        """Check a key a request brought for ``scope``; records its use (at most once a minute).

        Raises:
            ApiKeyError: ``scope`` is not one of :data:`SCOPES` (a mistake in the calling code).
        """
        check_scope(scope)
        parsed = parse_key(raw_key)
        if parsed is None:
            return Verdict(None, Refusal.MALFORMED)
        digest = hash_key(parsed.key)
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.prefix == parsed.prefix)).mappings().first()
        if row is None or not hmac.compare_digest(row["key_hash"], digest):
            return Verdict(None, Refusal.UNKNOWN)
        info = _info(row)
        if not info.active:
            return Verdict(None, Refusal.REVOKED)
        if not info.allows(scope):
            return Verdict(info, Refusal.MISSING_SCOPE)
        return Verdict(self._touch(info), None)

    def authenticate(self, raw_key: str, scope: str) -> ApiKeyInfo | None:
        """The active key ``raw_key`` is when it has ``scope``, else None (:meth:`verify` says why).

        Raises:
            ApiKeyError: ``scope`` is not one of :data:`SCOPES`.
        """
        verdict = self.verify(raw_key, scope)
        return verdict.key if verdict.ok else None

    def _touch(self, info: ApiKeyInfo) -> ApiKeyInfo:
        now = self.clock()
        if info.last_used_at is not None and info.last_used_at >= now - LAST_USED_EVERY:
            return info
        with self.engine.begin() as conn:
            conn.execute(
                update(api_keys)
                .where(
                    and_(
                        api_keys.c.id == info.id,
                        or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < now - LAST_USED_EVERY),
                    )
                )
                .values(last_used_at=now)
            )
        return replace(info, last_used_at=now)

    def _audit(self, conn: Connection, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
        conn.execute(
            insert(audit_log).values(at=self.clock(), actor=actor[:200], action=action, subject=subject, detail=detail)
        )
