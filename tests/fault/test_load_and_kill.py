"""The load-and-kill run of issue 14, on the default embedded config (no REDIS_URL).

``brandbot serve`` and two ``brandbot worker`` processes start on one project folder
(the worker to be killed first, so it launches the embedded Redis); 300 new customers
send a signed Twilio SMS at once; one worker is killed with SIGKILL while the messages
are handled. Every webhook must be accepted, the embedded
Redis must stay up, and every customer must get exactly one reply (counted at the fake
Twilio API). The turn is an echo (see ``load_and_kill_pipeline``) sent through the real
Twilio connector and Deliverer.
"""

from __future__ import annotations

import contextlib
import http.client
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
import redis
import yaml

from bots.pipeline import GROUP, keys_for
from bots.settings import load_settings
from bots.stores.sql import make_engine, upgrade
from tests.stores.embedded import data_folder, parent_of, ping, servers_on
from tests.support import (
    BRANDBOT,
    REPO,
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeTwilioAPI,
    ServerProcess,
    free_port,
    signed_twilio_form,
    stop_processes,
    wait_for,
)
from tests.support.processes import _env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CUSTOMERS = 300
SENDERS = 30
OUR_NUMBER = "+3120000000"
PIPELINE = "tests.fault.load_and_kill_pipeline:build"


@pytest.fixture
def project() -> Iterator[Path]:
    """A project folder of its own (short: the embedded Redis's unix socket lives in it); any Redis left is killed."""
    with data_folder() as folder:
        yield folder


def write_config(folder: Path, port: int, twilio_url: str) -> Path:
    config = {
        "brand": {"name": "Load Air", "languages": ["en"], "default_language": "en"},
        "server": {"host": "127.0.0.1", "port": port, "web_workers": 1, "embedded_workers": 0, "log_level": "WARNING"},
        # the default: no Redis URL, the embedded server under var/redis
        "stores": {"redis_url": "", "embedded_redis_dir": "var/redis", "database_url": "sqlite:///var/brandbot.db"},
        "channels": {
            "webchat": {"enabled": False},
            "twilio": {
                "enabled": True,
                "account_sid": TWILIO_SID,
                "auth_token": TWILIO_TOKEN,
                "sms_from": OUR_NUMBER,
                "public_url": f"http://127.0.0.1:{port}",
                "api_base_url": twilio_url,
            },
        },
        # short timings: the killed worker's shards and entries are taken over within about a second
        "pipeline": {
            "shards": 8,
            "claim_idle_ms": 1000,
            "lease_ms": 500,
            "idle_poll_ms": 5,
            "send_backoff_initial": 0.01,
            "send_backoff_max": 0.1,
        },
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    (folder / "var").mkdir(exist_ok=True)
    return path


def start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115 - the child keeps it
    argv = [*BRANDBOT, "--config", str(config), "worker", "--concurrency", "2", "--pipeline", PIPELINE]
    return subprocess.Popen(argv, cwd=REPO, env=_env(REPO, {"LOAD_TURN_DELAY": "0.02"}), stdout=out, stderr=out)


def pending_on(redis_dir: Path, config: Path, pid: int) -> int:
    """Inbound entries delivered to the consumers of process ``pid`` and not acknowledged yet."""
    settings = load_settings(config, env={})
    client = redis.Redis(unix_socket_path=str(redis_dir / "redis.sock"))
    try:
        total = 0
        for stream in keys_for(settings).all_streams():
            with contextlib.suppress(redis.ResponseError):  # no group on this shard yet
                for consumer in client.xpending(stream, GROUP)["consumers"]:
                    if f"-{pid}-" in consumer["name"].decode():
                        total += int(consumer["pending"])
        return total
    finally:
        client.close()


def started(log: Path) -> bool:
    """True once a worker printed its banner (its Redis and SQL are reachable, its threads running)."""
    return b"brandbot worker" in log.read_bytes()


def post_sms(port: int, i: int) -> int:
    """One new customer's signed SMS webhook; the HTTP status."""
    form = {
        "MessageSid": f"SM{i:032x}",
        "AccountSid": TWILIO_SID,
        "From": f"+3161{i:07d}",
        "To": OUR_NUMBER,
        "Body": f"hello {i}",
        "NumMedia": "0",
    }
    body, headers = signed_twilio_form(TWILIO_TOKEN, f"http://127.0.0.1:{port}/webhooks/twilio", form)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/webhooks/twilio", body=body, headers=headers)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


def test_300_sms_customers_while_a_worker_is_killed_each_answered_once(project: Path) -> None:
    twilio = FakeTwilioAPI().start()
    port = free_port()
    config = write_config(project, port, twilio.base_url)
    upgrade(make_engine(f"sqlite:///{project / 'var' / 'brandbot.db'}"))  # no three-way migration race
    redis_dir = project / "var" / "redis"
    logs = project / "logs"
    logs.mkdir()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        # the worker to be killed starts first, so it is the one that launches the embedded Redis (the
        # issue's case: the server was that worker's child); then serve and the other worker together
        victim = start_worker(config, logs / "worker0.log")
        workers = [victim]
        wait_for(lambda: ping(redis_dir), 60, "the first worker to launch the embedded Redis")
        survivor = start_worker(config, logs / "worker1.log")
        workers.append(survivor)
        serve_log = open(logs / "serve.log", "ab")  # noqa: SIM115 - the child writes to it until it exits
        with serve_log, ServerProcess.brandbot_serve(config, port, stdout=serve_log, timeout=60) as serve:
            for log in (logs / "worker0.log", logs / "worker1.log"):
                wait_for(partial(started, log), 60, f"the worker logging to {log.name} to start")
            redis_pids = servers_on(redis_dir)
            assert len(redis_pids) == 1, f"one embedded Redis for the three processes, found {redis_pids}"
            assert parent_of(redis_pids[0]) != victim.pid, "the embedded Redis is not the worker's child"
            began = time.monotonic()
            with ThreadPoolExecutor(SENDERS) as pool:
                answers = pool.map(lambda i: post_sms(port, i), range(CUSTOMERS))
                wait_for(lambda: len(twilio.messages()) >= 60, 60, "60 replies before the kill")
                replied_at_kill = len(twilio.messages())
                victim.send_signal(signal.SIGKILL)
                victim.wait(5)
                held = pending_on(redis_dir, config, victim.pid)
                codes = Counter(answers)
            wait_for(lambda: len({m["To"] for m in twilio.messages()}) >= CUSTOMERS, 60, "every customer answered")
            took = time.monotonic() - began
            time.sleep(1.5)  # longer than claim_idle_ms: a late duplicate would show up now
            per_customer = Counter(m["To"] for m in twilio.messages())
            duplicates = sum(n - 1 for n in per_customer.values() if n > 1)
            missing = CUSTOMERS - len(per_customer)
            embedded_up = ping(redis_dir) and servers_on(redis_dir) == redis_pids
            print(
                f"\nload-and-kill: {CUSTOMERS} signed SMS webhooks from {CUSTOMERS} customers ({SENDERS} at a time), "
                f"answers {dict(codes)}; worker pid {victim.pid} killed (SIGKILL) after {replied_at_kill} replies, "
                f"holding {held} unacknowledged entries (claimed by the other worker); "
                f"embedded Redis up: {embedded_up} (pid {redis_pids[0]}); {len(per_customer)} answered, "
                f"{duplicates} duplicates, {missing} missing; all answered {took:.1f}s after the first webhook"
            )
            assert codes == {200: CUSTOMERS}, f"every webhook accepted: {dict(codes)}"
            assert embedded_up, "the embedded Redis outlived the killed worker"
            assert duplicates == 0, [(to, n) for to, n in per_customer.items() if n > 1]
            assert missing == 0
            assert all(m["Body"].startswith("echo: hello ") for m in twilio.messages())
            stop_processes([survivor])
            assert survivor.returncode == 0
            assert ping(redis_dir), "a standalone worker's exit leaves the embedded Redis up"
            serve_proc = serve.proc
        assert serve_proc is not None and serve_proc.returncode == 0
        assert not ping(redis_dir) and servers_on(redis_dir) == [], (
            "brandbot serve stopped the embedded Redis on SIGTERM"
        )
    finally:
        stop_processes(workers)
        twilio.stop()
