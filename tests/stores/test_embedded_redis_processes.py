"""Who stops the embedded Redis: never a ``brandbot worker``; ``brandbot serve``, after its embedded workers."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from bots.pipeline import Ingest
from bots.settings import load_settings
from bots.stores.redis_client import EmbeddedRedis
from bots.stores.sql import make_engine, upgrade
from connectors.base import Inbound
from tests.support import (
    BRANDBOT,
    FAKE_PIPELINE,
    REPO,
    FakeChannelServer,
    free_port,
    stop_processes,
    wait_for,
    wait_http_ok,
)
from tests.support.processes import _env

from .embedded import data_folder, ping, servers_on

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def project() -> Iterator[Path]:
    with data_folder() as folder:
        (folder / "var").mkdir()
        upgrade(make_engine(f"sqlite:///{folder / 'var' / 'brandbot.db'}"))
        yield folder


def write_config(folder: Path, extra: dict[str, Any]) -> Path:
    """The default stores (embedded Redis under var/redis, SQLite under var/), ``extra`` merged on top."""
    config: dict[str, Any] = {
        "brand": {"name": "Stop Air", "languages": ["en"], "default_language": "en"},
        "server": {"host": "127.0.0.1", "port": free_port(), "embedded_workers": 0, "log_level": "WARNING"},
        "stores": {"redis_url": "", "embedded_redis_dir": "var/redis", "database_url": "sqlite:///var/brandbot.db"},
        "channels": {"webchat": {"enabled": False}},
        "pipeline": {"shards": 4, "lease_ms": 1000, "idle_poll_ms": 5},
    }
    for section, values in extra.items():
        config.setdefault(section, {}).update(values)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def worker(config: Path, log: Path, fake_url: str = "http://127.0.0.1:9") -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(
        [*BRANDBOT, "--config", str(config), "worker", "--pipeline", FAKE_PIPELINE],
        cwd=REPO,
        env=_env(REPO, {"FAKE_CHANNEL_URL": fake_url}),
        stdout=out,
        stderr=out,
    )


def send(config: Path, n: int) -> None:
    """Enqueue one inbound on the ``fake`` channel, as a webhook would."""
    settings = load_settings(config, env={})
    client = redis.Redis.from_url(EmbeddedRedis(settings.path(settings.stores.embedded_redis_dir)).url)
    Ingest(client, settings).accept(
        [Inbound(channel="fake", sender_id=f"c{n}", conversation_id=f"fake:c{n}", message_id=str(n), text=str(n))]
    )
    client.close()


def test_a_standalone_worker_never_stops_it_and_resumes_when_it_is_back(project: Path) -> None:
    config = write_config(project, {})
    redis_dir = project / "var" / "redis"
    fake = FakeChannelServer().start()
    log = project / "worker.log"
    proc = worker(config, log, fake.url)
    try:
        wait_for(lambda: b"brandbot worker" in log.read_bytes(), 60, "the worker to start")
        [pid] = servers_on(redis_dir)  # the worker launched it
        send(config, 1)
        wait_for(lambda: len(fake.sent) == 1, 20, "the first reply")
        EmbeddedRedis(redis_dir).shutdown()  # what `brandbot serve` does on exit
        time.sleep(1.0)
        assert proc.poll() is None, "the worker waits for Redis to come back"
        EmbeddedRedis(redis_dir).start()  # the next `brandbot serve`
        send(config, 2)
        wait_for(lambda: len(fake.sent) == 2, 30, "a reply once Redis is back")
        [pid] = servers_on(redis_dir)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert ping(redis_dir) and servers_on(redis_dir) == [pid], "the worker's exit left the embedded Redis up"
    finally:
        stop_processes([proc])
        fake.stop()


def test_ctrl_c_of_serve_stops_its_workers_then_the_embedded_redis_quietly(project: Path, demo_nlu_dir: Path) -> None:
    """Ctrl-C reaches serve's process group (serve and its gunicorn workers), as in a terminal."""
    config = write_config(
        project,
        {
            "brand": {"languages": ["en", "fr"]},
            "server": {"embedded_workers": 1, "web_workers": 2, "log_level": "INFO"},
            "nlu": {"data_dir": str(REPO / "bots/airline/nlu"), "model_dir": str(demo_nlu_dir)},
            "dialogue": {
                "domain_file": str(REPO / "bots/airline/domain.yml"),
                "actions_options": {"database": str(project / "var" / "airline.db")},
            },
        },
    )
    port = yaml.safe_load(config.read_text())["server"]["port"]
    redis_dir = project / "var" / "redis"
    log = project / "serve.log"
    # a standalone worker on the same folder too: serve stops Redis anyway, the worker just waits for it
    other = worker(config, project / "worker.log")
    with open(log, "ab") as out:
        serve = subprocess.Popen(
            [*BRANDBOT, "--config", str(config), "serve"],
            cwd=REPO,
            env=_env(REPO, None),
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    try:
        wait_http_ok(port, "/readyz", 60)
        client = redis.Redis(unix_socket_path=str(redis_dir / "redis.sock"))
        # the embedded workers hold their shards' leases: what they must release on a live Redis
        wait_for(lambda: len(client.keys("bb:lease:*")) >= 4, 60, "the workers to take the shards")
        client.close()
        [pid] = servers_on(redis_dir)
        os.killpg(serve.pid, signal.SIGINT)
        assert serve.wait(60) == 0
        text = log.read_text(errors="replace")
        assert "could not release shard" not in text, text
        assert not [line for line in text.splitlines() if "WARNING" in line or "ERROR" in line], text
        assert "Traceback" not in text, text
        assert not ping(redis_dir) and pid not in servers_on(redis_dir), "serve stopped the embedded Redis"
        assert other.poll() is None, "a standalone worker outlives the server and waits for it"
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        stop_processes([other])


def test_ctrl_c_while_the_web_workers_still_load_exits_at_once(project: Path) -> None:
    """Found in CI: Ctrl-C while a gevent web worker was still loading the app left it alive
    until gunicorn's graceful timeout (30 s), then "Worker was sent SIGKILL!"."""
    config = write_config(project, {"server": {"embedded_workers": 0, "web_workers": 2, "log_level": "INFO"}})
    log = project / "serve.log"
    with open(log, "ab") as out:
        serve = subprocess.Popen(
            [*BRANDBOT, "--config", str(config), "serve"],
            cwd=REPO,
            env=_env(REPO, None),
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        wait_for(lambda: log.read_text(errors="replace").count("Booting worker") >= 2, 60, "the web workers to fork")
        os.killpg(serve.pid, signal.SIGINT)  # at once: the workers are still importing and loading the app
        started = time.monotonic()
        assert serve.wait(60) == 0
        took = time.monotonic() - started
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    text = log.read_text(errors="replace")
    assert "SIGKILL" not in text and took < 15, (took, text)
