"""``brandbot dlq list|show|retry`` against real Redis and SQL."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bots.cli import main
from bots.pipeline import DeadLetters, keys_for
from connectors.base import Outbound

pytestmark = pytest.mark.integration


def test_dlq_list_and_retry_all(
    make_settings, write_config, redis_client, sql_engine, redis_url, sqlite_url, monkeypatch
) -> None:
    from tests.pipeline.fake_channel import FakeChannelServer

    server = FakeChannelServer().start()
    try:
        cfg = write_config(
            {
                "stores": {"redis_url": redis_url, "database_url": sqlite_url},
                "channels": {"webchat": {"enabled": False}},
            }
        )
        settings = make_settings({"channels": {"webchat": {"enabled": False}}})
        letters = DeadLetters(redis_client, keys_for(settings))
        ob = Outbound("fake", "c1", "hello", idempotency_key="fake:9:0", conversation_id="fake:c1")
        letters.add("send", ob.to_dict(), "TransientSendError: 503", 5, "fake", "fake:c1")
        runner = CliRunner()
        out = runner.invoke(main, ["--config", str(cfg), "dlq", "list"])
        assert out.exit_code == 0, out.output
        assert "dead letters: 1" in out.output and "fake:c1" in out.output and "TransientSendError" in out.output

        from tests.pipeline.fake_channel import FakeConnector

        monkeypatch.setattr("bots.runtime.build_connectors_for", lambda services: {"fake": FakeConnector(server.url)})
        out = runner.invoke(main, ["--config", str(cfg), "dlq", "retry", "--all"])
        assert out.exit_code == 0, out.output
        assert "1 ok, 0 failed" in out.output
        assert server.keys() == ["fake:9:0"] and letters.count() == 0
        assert runner.invoke(main, ["--config", str(cfg), "dlq", "retry"]).exit_code == 2
    finally:
        server.stop()


def test_dlq_show_prints_the_reason_the_message_and_the_traceback(
    make_settings, write_config, redis_client, redis_url, sqlite_url
) -> None:
    cfg = write_config({"stores": {"redis_url": redis_url, "database_url": sqlite_url}})
    letters = DeadLetters(redis_client, keys_for(make_settings()))
    trace = 'Traceback (most recent call last):\n  File "x.py", line 1\nRuntimeError: dialogue bug\n'
    entry = letters.add(
        "turn",
        {"text": "boom", "conversation_id": "fake:c1"},
        "RuntimeError: dialogue bug",
        3,
        "fake",
        "fake:c1",
        trace,
    )
    runner = CliRunner()
    out = runner.invoke(main, ["--config", str(cfg), "dlq", "show", entry])
    assert out.exit_code == 0, out.output
    assert "RuntimeError: dialogue bug" in out.output and '"text": "boom"' in out.output
    assert (
        out.output.rstrip().endswith("RuntimeError: dialogue bug") and "Traceback (most recent call last)" in out.output
    )
    missing = runner.invoke(main, ["--config", str(cfg), "dlq", "show", "1-0"])
    assert missing.exit_code == 1 and "no dead letter with id '1-0'" in missing.output
