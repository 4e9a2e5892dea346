"""Sign-in, sessions, CSRF, throttling and role/token checks on a small Flask app (real Redis and SQLite)."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, Flask, g, jsonify, render_template_string
from sqlalchemy import select

from bots.staff.web_auth import init_auth, require_roles, require_token, safe_next, secure_cookies
from bots.stores.models import audit_log

from .conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def build_app(settings, redis_url, accounts) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test-secret-key-123"
    init_auth(app, settings, redis_url, accounts)
    assert app.config["WTF_CSRF_ENABLED"] is True

    @app.get("/console/")
    @require_roles()
    def home() -> str:
        return f"hello {g.staff.display}"

    @app.get("/console/form")
    @require_roles()
    def form() -> str:
        return render_template_string('<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">')

    @app.get("/console/admin")
    @require_roles("admin")
    def admin() -> str:
        return "admin page"

    @app.post("/console/act")
    @require_roles("agent")
    def act() -> str:
        return "done"

    # blueprints registered after init_auth: exempt from CSRF by name.
    api = Blueprint("api", __name__, url_prefix="/api/v1")

    @api.route("/me", methods=["GET", "POST"])
    @require_token()
    def me():
        return jsonify(email=g.staff.email, role=g.staff.role)

    @api.post("/admin")
    @require_token("admin")
    def api_admin():
        return jsonify(ok=True)

    hooks = Blueprint("webhooks", __name__, url_prefix="/webhooks")

    @hooks.post("/ping")
    def ping() -> str:
        return "pong"

    app.register_blueprint(api)
    app.register_blueprint(hooks)
    return app


@pytest.fixture
def settings(make_settings):
    return make_settings({"console": {"login_attempts": 3, "session_hours": 2}})


@pytest.fixture
def app(settings, redis_url, redis_client, accounts) -> Flask:
    accounts.add("agent@example.com", "agent", password=PASSWORD, name="Ana")
    accounts.add("boss@example.com", "admin", password=PASSWORD)
    return build_app(settings, redis_url, accounts)


def csrf_of(client, path: str = "/console/login") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(
    client,
    email: str = "agent@example.com",
    password: str = PASSWORD,
    next_path: str | None = None,
    addr: str = "10.0.0.1",
):
    data = {"csrf_token": csrf_of(client), "email": email, "password": password}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/console/login", data=data, environ_base={"REMOTE_ADDR": addr})


def actions(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r.actor, r.action) for r in conn.execute(select(audit_log))]


def test_login_page_is_a_plain_labelled_form(app) -> None:
    page = app.test_client().get("/console/login?next=/console/inbox").get_data(as_text=True)
    assert '<label for="email">Email</label>' in page and 'id="email"' in page
    assert '<label for="password">Password</label>' in page and 'type="password"' in page
    assert '<button type="submit">Sign in</button>' in page
    assert CSRF.search(page)
    assert 'name="next" value="/console/inbox"' in page
    assert 'href="/console/static/console.css"' in page
    assert "<script" not in page


def test_anonymous_is_sent_to_login_and_back(app, sql_engine) -> None:
    client = app.test_client()
    resp = client.get("/console/?tab=waiting")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/console/login?next=/console/?tab%3Dwaiting"
    assert client.get("/console/", headers={"Accept": "application/json"}).status_code == 401

    resp = sign_in(client, next_path="/console/?tab=waiting")
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/?tab=waiting"
    assert client.get("/console/").get_data(as_text=True) == "hello Ana"
    assert ("staff:1", "staff.sign_in") in actions(sql_engine)
    # signed in: the login page goes straight on
    assert client.get("/console/login").headers["Location"] == "/console/"


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "/console/\r\nSet-Cookie: x=1",
        "console/",
    ],
)
def test_next_only_goes_to_local_paths(app, evil) -> None:
    assert safe_next(evil) is None
    resp = sign_in(app.test_client(), next_path=evil)
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/"


def test_wrong_password_is_refused_and_audited(app, sql_engine) -> None:
    client = app.test_client()
    resp = sign_in(client, password="wrong password!")
    assert resp.status_code == 200
    assert "do not match an active account" in resp.get_data(as_text=True)
    assert client.get("/console/").status_code == 302
    assert ("anonymous", "staff.sign_in_failed") in actions(sql_engine)


def test_wrong_role_gets_a_403_page(app) -> None:
    client = app.test_client()
    sign_in(client)
    resp = client.get("/console/admin")
    assert resp.status_code == 403
    assert "Your role (agent) cannot open this page; it needs admin." in resp.get_data(as_text=True)
    boss = app.test_client()
    sign_in(boss, "boss@example.com")
    assert boss.get("/console/admin").status_code == 200
    assert boss.post("/console/act", data={"csrf_token": csrf_of(boss, "/console/form")}).status_code == 200


def test_session_cookie_flags(app, settings, make_settings) -> None:
    resp = sign_in(app.test_client())
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Expires=" in cookie  # permanent: session_hours
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 2 * 3600
    assert not secure_cookies(settings)
    assert secure_cookies(make_settings({"console": {"secure_cookies": True}}))
    prod = make_settings(
        {"server": {"environment": "production", "secret_key": "s" * 40}, "privacy": {"analytics_secret": "a" * 40}}
    )
    assert secure_cookies(prod)
    assert not secure_cookies(
        make_settings(
            {
                "server": {"environment": "production", "secret_key": "s" * 40},
                "console": {"secure_cookies": False},
                "privacy": {"analytics_secret": "a" * 40},
            }
        )
    )


def test_sign_in_starts_a_new_session(app) -> None:
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    before = csrf_of(client)
    sign_in(client)
    with client.session_transaction() as sess:
        assert "planted" not in sess and sess["staff_id"] == 1
    # the CSRF token of the anonymous session is no longer valid
    assert client.post("/console/act", data={"csrf_token": before}).status_code == 400
    assert client.post("/console/act", data={"csrf_token": csrf_of(client, "/console/form")}).status_code == 200


def test_post_without_csrf_token_is_refused(app) -> None:
    client = app.test_client()
    sign_in(client)
    resp = client.post("/console/act")
    assert resp.status_code == 400
    assert "CSRF token is missing" in resp.get_data(as_text=True)
    anon = app.test_client()
    resp = anon.post("/console/login", data={"email": "agent@example.com", "password": PASSWORD})
    assert resp.status_code == 400
    with anon.session_transaction() as sess:
        assert "staff_id" not in sess
    # exempt blueprints, registered after init_auth
    assert anon.post("/webhooks/ping").get_data(as_text=True) == "pong"
    assert anon.post("/api/v1/me").status_code == 401  # reached the token check, not CSRF


def test_logout_needs_a_post_with_csrf_and_ends_the_session(app, sql_engine) -> None:
    client = app.test_client()
    sign_in(client)
    token = csrf_of(client, "/console/admin")  # the 403 page carries a sign-out form
    assert client.get("/console/logout").status_code == 405
    assert client.post("/console/logout").status_code == 400
    resp = client.post("/console/logout", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/login"
    assert client.get("/console/").status_code == 302
    assert ("staff:1", "staff.sign_out") in actions(sql_engine)


def test_failed_sign_ins_are_throttled_per_address(app, sql_engine) -> None:
    client = app.test_client()
    for i in range(3):
        assert sign_in(client, f"nobody{i}@example.com", "wrong password").status_code == 200
    resp = sign_in(client)  # right password, but this address is over its 3 failures
    assert resp.status_code == 429
    assert "Too many failed sign-ins from your address (3 in 15 minutes)" in resp.get_data(as_text=True)
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    assert ("anonymous", "staff.sign_in_throttled") in actions(sql_engine)
    # another address is fine
    assert sign_in(app.test_client(), addr="10.0.0.2").status_code == 302


def test_failed_sign_ins_are_throttled_per_account(app) -> None:
    for i in range(3):
        assert sign_in(app.test_client(), password="wrong password", addr=f"10.0.1.{i}").status_code == 200
    resp = sign_in(app.test_client(), addr="10.0.2.1")
    assert resp.status_code == 429
    assert "for this account" in resp.get_data(as_text=True)
    assert sign_in(app.test_client(), "boss@example.com", addr="10.0.2.1").status_code == 302


def test_successful_sign_ins_are_not_counted(app) -> None:
    for _ in range(6):
        assert sign_in(app.test_client()).status_code == 302


def test_disabled_account_loses_access_at_once(app, accounts) -> None:
    client = app.test_client()
    sign_in(client)
    token = accounts.issue_token("agent@example.com")
    assert client.get("/console/").status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    accounts.disable("agent@example.com")
    assert client.get("/console/").status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    accounts.enable("agent@example.com")
    assert client.get("/console/").status_code == 302  # the session was ended; sign in again
    assert sign_in(client).status_code == 302


def test_bearer_tokens(app, accounts) -> None:
    client = app.test_client()
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == 'Bearer realm="brandbot"'
    assert "missing bearer token" in resp.get_json()["error"]

    token = accounts.issue_token("agent@example.com")
    ok = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.get_json() == {"email": "agent@example.com", "role": "agent"}
    assert client.post("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200  # no CSRF

    wrong = client.post("/api/v1/admin", headers={"Authorization": f"Bearer {token}"})
    assert wrong.status_code == 403 and "needs admin" in wrong.get_json()["error"]

    accounts.revoke_token(token)
    gone = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401 and gone.get_json() == {"error": "invalid or revoked token"}
    assert 'error="invalid_token"' in gone.headers["WWW-Authenticate"]
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
