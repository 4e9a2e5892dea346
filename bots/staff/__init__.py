"""Staff accounts and their sign-in: passwords, API tokens, the console's login and role checks."""

from __future__ import annotations

from .accounts import ROLES, Accounts, Role, StaffMember, TokenInfo
from .web_auth import current_staff, init_auth, require_roles, require_token

__all__ = [
    "ROLES",
    "Accounts",
    "Role",
    "StaffMember",
    "TokenInfo",
    "current_staff",
    "init_auth",
    "require_roles",
    "require_token",
]
