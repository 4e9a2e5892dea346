"""/healthz says the process is up; /readyz says its stores answer, and why not."""

from __future__ import annotations

import time

import pytest

from bots.services import build_services
from bots.stores.redis_client import EmbeddedRedis, free_port
from bots.web import create_app

pytestmark = pytest.mark.integration


def test_healthz_and_readyz_answer_200_with_live_stores(make_settings, sql_engine) -> None:
    settings = make_settings()
    app = create_app(settings, build_services(settings))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"]["redis"] == "ok" and ready.json["checks"]["sql"] == "ok"
    assert set(ready.json["checks"].values()) == {"ok"}


def test_every_response_carries_a_request_id(make_settings) -> None:
    settings = make_settings()
    client = create_app(settings, build_services(settings)).test_client()
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert forged != "<script>"


def test_readyz_turns_503_while_redis_is_down_and_recovers(make_settings, tmp_path) -> None:
    port = free_port()
    server = EmbeddedRedis(tmp_path / "r", port=port, persist=False).start()
    settings = make_settings({"stores": {"redis_url": f"redis://127.0.0.1:{port}/0"}})
    client = create_app(settings, build_services(settings)).test_client()
    try:
        assert client.get("/readyz").status_code == 200
        server.stop()
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json["checks"]["redis"] == "unavailable"
        assert any(f"127.0.0.1:{port}" in r and "unreachable" in r for r in down.json["reasons"])
        assert client.get("/healthz").status_code == 200  # the process itself is fine
        server.start()
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "readyz did not recover after Redis came back"
            time.sleep(0.2)
    finally:
        server.stop()


def test_readyz_names_an_unreachable_sql_database(make_settings) -> None:
    settings = make_settings({"stores": {"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}})
    client = create_app(settings, build_services(settings)).test_client()
    down = client.get("/readyz")
    assert down.status_code == 503
    assert (down.json["checks"]["redis"], down.json["checks"]["sql"]) == ("ok", "unavailable")
    assert any("DATABASE_URL" in r for r in down.json["reasons"])
