"""Staff accounts and personal API tokens, kept in SQL.

Passwords are hashed with argon2id (argon2-cffi's :class:`PasswordHasher`); a hash made
with older parameters is replaced at the next successful sign-in. API tokens are
``"bbt_" + secrets.token_urlsafe(32)`` (256 random bits): only their SHA-256 (hex) and
their first characters (to tell them apart in a list) are stored, so a database dump
gives nobody a usable token.

Every change is written to ``audit_log`` in the same transaction; ``actor`` is
``"staff:<id>"`` when a signed-in person does it, ``"cli"`` from the command line.
"""

from __future__ import annotations

import builtins
import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeGuard, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from ..errors import StaffError
from ..stores.models import api_tokens, audit_log, staff

__all__ = [
    "ROLES",
    "MIN_PASSWORD_LENGTH",
    "TOKEN_PREFIX",
    "Role",
    "StaffMember",
    "TokenInfo",
    "Accounts",
    "hash_token",
]

Role = Literal["agent", "analyst", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
MIN_PASSWORD_LENGTH = 10
#: longer passwords are refused: hashing megabytes would be a cheap denial of service.
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "bbt_"
#: characters of a token kept in clear (``bbt_`` + 8), shown by ``brandbot staff token``/``list``.
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
#: ``last_used_at`` of a token is written at most this often (not one write per API call).
_LAST_USED_EVERY = timedelta(seconds=60)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    """The SHA-256 (hex) stored for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StaffMember:
    """A person of the support team, as the console and the API see them."""

    id: int
    email: str
    name: str
    role: Role
    disabled: bool

    @property
    def display(self) -> str:
        """The name, or the email when no name was given."""
        return self.name or self.email

    @property
    def actor(self) -> str:
        """How this person is named in ``audit_log`` and mode changes: ``"staff:<id>"``."""
        return f"staff:{self.id}"

    def can(self, *roles: str) -> bool:
        """Whether this person may do what ``roles`` may (no roles: any signed-in staff).

        Admins may do everything; a disabled account nothing.
        """
        if self.disabled:
            return False
        return not roles or self.role == "admin" or self.role in roles


@dataclass(frozen=True)
class TokenInfo:
    """What is known of an API token (never the token itself)."""

    id: int
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _member(row: RowMapping | Mapping[str, Any]) -> StaffMember:
    return StaffMember(
        id=row["id"], email=row["email"], name=row["name"] or "", role=row["role"], disabled=bool(row["disabled"])
    )


def _email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise StaffError(f"{email!r} is not an email address (like agent@example.com)")
    return value


def _is_role(value: str) -> TypeGuard[Role]:
    return value in ROLES


def _check_role(role: str) -> Role:
    if not _is_role(role):
        raise StaffError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(
            f"the password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH} "
            "(a passphrase of a few words is easiest)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters")
    return password


class Accounts:
    """Staff accounts, passwords and API tokens.

    Args:
        engine: the SQL engine (migrated).
        clock: returns an aware ``datetime`` (UTC).
        hasher: the argon2id hasher (default parameters of argon2-cffi; tests pass cheaper ones).
    """

    def __init__(
        self, engine: Engine, clock: Callable[[], datetime] = _utcnow, hasher: PasswordHasher | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    # -- accounts -------------------------------------------------------------------

    def add(
        self, email: str, role: str, password: str | None = None, name: str = "", *, actor: str = "system"
    ) -> StaffMember:
        """Create an account; without a password it can use API tokens but not sign in.

        Raises:
            StaffError: bad email, role, name or password; the email is taken.
        """
        address = _email(email)
        checked_role = _check_role(role)
        name = name.strip()
        if len(name) > 100:
            raise StaffError(f"the name has {len(name)} characters; at most 100")
        password_hash = self.hasher.hash(_check_password(password)) if password is not None else None
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(
                    insert(staff)
                    .values(
                        email=address,
                        name=name,
                        role=checked_role,
                        password_hash=password_hash,
                        disabled=False,
                        created_at=now,
                    )
                    .returning(staff.c.id)
                ).scalar_one()
                self._audit(conn, actor, "staff.added", address, {"staff_id": new_id, "role": checked_role})
        except IntegrityError as exc:
            raise StaffError(f"a staff account with email {address!r} already exists") from exc
        return StaffMember(id=new_id, email=address, name=name, role=checked_role, disabled=False)

    def list(self) -> list[StaffMember]:
        """Every account, disabled ones included, by email."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(staff).order_by(staff.c.email)).mappings().all()
        return [_member(r) for r in rows]

    def get(self, id: int) -> StaffMember | None:  # noqa: A002 - the spec's name
        """The account with this id, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(staff).where(staff.c.id == id)).mappings().first()
        return _member(row) if row else None

    def by_email(self, email: str) -> StaffMember | None:
        """The account with this email (any case), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(staff).where(staff.c.email == email.strip().lower())).mappings().first()
        return _member(row) if row else None

    def disable(self, email: str, *, actor: str = "system") -> StaffMember:
        """Stop an account: no sign-in, its sessions and tokens stop working at once.

        Raises:
            StaffError: no account has this email.
        """
        return self._set_disabled(email, True, actor)

    def enable(self, email: str, *, actor: str = "system") -> StaffMember:
        """Let a disabled account in again (its unrevoked tokens work again).

        Raises:
            StaffError: no account has this email.
        """
        return self._set_disabled(email, False, actor)

    def _set_disabled(self, email: str, disabled: bool, actor: str) -> StaffMember:
        with self.engine.begin() as conn:
            row = self._row(conn, email)
            conn.execute(update(staff).where(staff.c.id == row["id"]).values(disabled=disabled))
            self._audit(
                conn, actor, "staff.disabled" if disabled else "staff.enabled", row["email"], {"staff_id": row["id"]}
            )
        return _member({**row, "disabled": disabled})

    def set_password(self, email: str, password: str, *, actor: str = "system") -> None:
        """Replace the password of an account.

        Raises:
            StaffError: no account has this email; the password is too short.
        """
        password_hash = self.hasher.hash(_check_password(password))
        with self.engine.begin() as conn:
            row = self._row(conn, email)
            conn.execute(update(staff).where(staff.c.id == row["id"]).values(password_hash=password_hash))
            self._audit(conn, actor, "staff.password_set", row["email"], {"staff_id": row["id"]})

    def authenticate(self, email: str, password: str) -> StaffMember | None:
        """The account when ``password`` is right and the account enabled, else None.

        Takes about as long for an unknown email as for a known one (a dummy hash is
        verified), so answers do not tell which emails have accounts. On success the
        sign-in time is recorded and an outdated hash replaced.
        """
        address = email.strip().lower()
        with self.engine.connect() as conn:
            row = conn.execute(select(staff).where(staff.c.email == address)).mappings().first()
        stored = row["password_hash"] if row is not None else None
        if row is None or not stored or len(password) > MAX_PASSWORD_LENGTH:
            self._verify(self._dummy(), password[:MAX_PASSWORD_LENGTH])
            return None
        if not self._verify(stored, password) or row["disabled"]:
            return None
        values: dict[str, Any] = {"last_login_at": self.clock()}
        if self.hasher.check_needs_rehash(stored):
            values["password_hash"] = self.hasher.hash(password)
        with self.engine.begin() as conn:
            conn.execute(update(staff).where(staff.c.id == row["id"]).values(**values))
        return _member(row)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    # -- API tokens -----------------------------------------------------------------

    def issue_token(self, email: str, *, actor: str = "system") -> str:
        """A new API token for the account; shown once, only its hash is kept.

        Raises:
            StaffError: no account has this email, or it is disabled.
        """
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        prefix = token[:SHOWN_PREFIX_LENGTH]
        with self.engine.begin() as conn:
            row = self._row(conn, email)
            if row["disabled"]:
                raise StaffError(f"the account {row['email']!r} is disabled; enable it before issuing a token")
            conn.execute(
                insert(api_tokens).values(
                    staff_id=row["id"], token_hash=hash_token(token), prefix=prefix, created_at=self.clock()
                )
            )
            self._audit(conn, actor, "token.issued", row["email"], {"staff_id": row["id"], "prefix": prefix})
        return token

    def revoke_token(self, token_or_prefix: str, *, actor: str = "system") -> int:
        """Revoke a token, given whole or by the prefix ``list``/``tokens`` show.

        Returns:
            How many active tokens were revoked (0: none matched).
        """
        value = token_or_prefix.strip()
        if len(value) > SHOWN_PREFIX_LENGTH:
            match = api_tokens.c.token_hash == hash_token(value)
        else:
            match = api_tokens.c.prefix == value
        now = self.clock()
        with self.engine.begin() as conn:
            rows = (
                conn.execute(
                    select(api_tokens.c.id, api_tokens.c.prefix, staff.c.email, staff.c.id.label("staff_id"))
                    .join(staff, staff.c.id == api_tokens.c.staff_id)
                    .where(match, api_tokens.c.revoked_at.is_(None))
                )
                .mappings()
                .all()
            )
            for r in rows:
                conn.execute(update(api_tokens).where(api_tokens.c.id == r["id"]).values(revoked_at=now))
                self._audit(
                    conn, actor, "token.revoked", r["email"], {"staff_id": r["staff_id"], "prefix": r["prefix"]}
                )
        return len(rows)

    def tokens(self, email: str) -> builtins.list[TokenInfo]:  # `list` here is the method above
        """The account's tokens, newest first, revoked ones included.

        Raises:
            StaffError: no account has this email.
        """
        with self.engine.connect() as conn:
            row = self._row(conn, email)
            rows = (
                conn.execute(
                    select(api_tokens).where(api_tokens.c.staff_id == row["id"]).order_by(api_tokens.c.id.desc())
                )
                .mappings()
                .all()
            )
        return [
            TokenInfo(
                id=r["id"],
                prefix=r["prefix"],
                created_at=r["created_at"],
                last_used_at=r["last_used_at"],
                revoked_at=r["revoked_at"],
            )
            for r in rows
        ]

    def staff_for_token(self, token: str) -> StaffMember | None:
        """The enabled account an active token belongs to, else None (records its use)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(staff, api_tokens.c.id.label("token_id"))
                    .join(api_tokens, api_tokens.c.staff_id == staff.c.id)
                    .where(
                        api_tokens.c.token_hash == hash_token(token),
                        api_tokens.c.revoked_at.is_(None),
                        staff.c.disabled.is_(False),
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(
                    and_(
                        api_tokens.c.id == row["token_id"],
                        or_(api_tokens.c.last_used_at.is_(None), api_tokens.c.last_used_at < now - _LAST_USED_EVERY),
                    )
                )
                .values(last_used_at=now)
            )
        return _member(row)

    # -- audit ----------------------------------------------------------------------

    def audit(self, actor: str, action: str, subject: str | None = None, detail: dict[str, Any] | None = None) -> None:
        """Write one ``audit_log`` row (sign-ins and sign-outs come from the web side)."""
        with self.engine.begin() as conn:
            self._audit(conn, actor, action, subject, detail)

    def _audit(
        self, conn: Connection, actor: str, action: str, subject: str | None, detail: dict[str, Any] | None
    ) -> None:
        conn.execute(
            insert(audit_log).values(
                at=self.clock(),
                actor=actor[:200],
                action=action[:64],
                subject=subject[:200] if subject else None,
                detail=detail,
            )
        )

    def _row(self, conn: Connection, email: str) -> RowMapping:
        row = conn.execute(select(staff).where(staff.c.email == email.strip().lower())).mappings().first()
        if row is None:
            raise StaffError(f"no staff account has the email {email.strip()!r} (see `brandbot staff list`)")
        return row
