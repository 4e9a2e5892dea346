"""Staff admin (admins only): list accounts, add one, disable / enable, revoke API tokens."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from werkzeug.wrappers import Response

from ...errors import StaffError
from ...staff.accounts import ROLES
from ...staff.web_auth import current_staff, require_roles, signed_in_staff
from ._shared import MAX_STAFF_ID, bp, done, failed, state

__all__: list[str] = []


def _here() -> str:
    return url_for("console.staff_admin")


@bp.get("/staff")
@require_roles("admin")
def staff_admin():
    """Every account with its API tokens, and the form to add one."""
    accounts = state().accounts
    members = accounts.list()
    tokens = {m.id: accounts.tokens(m.email) for m in members}
    return render_template("console/staff.html", members=members, tokens=tokens, roles=ROLES, me=current_staff())


@bp.post("/staff")
@require_roles("admin")
def staff_add() -> Response:
    me = signed_in_staff()
    form = request.form
    try:
        member = state().accounts.add(
            form.get("email", ""),
            form.get("role", ""),
            password=form.get("password", ""),
            name=form.get("name", ""),
            actor=me.actor,
        )
    except StaffError as exc:
        return failed(422, str(exc), _here())
    return done(f"Account {member.email} ({member.role}) added.", _here())


def _member(staff_id: int):
    if staff_id > MAX_STAFF_ID:  # the route's converter takes any number of digits
        abort(404)
    member = state().accounts.get(staff_id)
    if member is None:
        abort(404)
    return member


@bp.post("/staff/<int:staff_id>/disable")
@require_roles("admin")
def staff_disable(staff_id: int) -> Response:
    me = signed_in_staff()
    member = _member(staff_id)
    if member.id == me.id:
        return failed(409, "you cannot disable your own account (ask another admin)", _here())
    state().accounts.disable(member.email, actor=me.actor)
    return done(f"{member.display} is disabled: signed out everywhere, tokens stopped.", _here())


@bp.post("/staff/<int:staff_id>/enable")
@require_roles("admin")
def staff_enable(staff_id: int) -> Response:
    me = signed_in_staff()
    member = _member(staff_id)
    state().accounts.enable(member.email, actor=me.actor)
    return done(f"{member.display} is enabled again.", _here())


@bp.post("/staff/<int:staff_id>/tokens/revoke")
@require_roles("admin")
def staff_revoke(staff_id: int) -> Response:
    """Revoke one token (``prefix``) of the member, or all their active tokens."""
    me = signed_in_staff()
    member = _member(staff_id)
    accounts = state().accounts
    wanted = request.form.get("prefix", "").strip()
    active = [t.prefix for t in accounts.tokens(member.email) if t.active]
    if wanted and wanted not in active:
        return failed(404, f"{member.display} has no active token {wanted!r}", _here())
    revoked = sum(accounts.revoke_token(p, actor=me.actor) for p in ([wanted] if wanted else active))
    if not revoked:
        return failed(409, f"{member.display} has no active token", _here())
    return done(f"Revoked {revoked} token{'s' if revoked != 1 else ''} of {member.display}.", _here())
