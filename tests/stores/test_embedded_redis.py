"""The embedded Redis: one detached server per data folder, adopted by every process, owned by none."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from bots.errors import StoreUnavailable
from bots.stores.redis_client import EmbeddedRedis, free_port
from tests.support import REPO, wait_for

from .embedded import data_folder, parent_of, ping, servers_on

pytestmark = pytest.mark.integration

#: a process that starts (or adopts) the folder's server once ``go`` exists, prints the server's run_id, then idles.
STARTER = """
import sys, time, pathlib, redis
from bots.errors import StoreUnavailable
from bots.stores.redis_client import EmbeddedRedis
folder, go = sys.argv[1], pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
server = EmbeddedRedis(folder).start()
print(redis.Redis.from_url(server.url).info("server")["run_id"], flush=True)
time.sleep(120)
"""


def starters(folder: Path, n: int) -> list[subprocess.Popen[str]]:
    """``n`` processes that start the server on ``folder`` at the same moment (when the test writes ``go``)."""
    go = folder.parent / (folder.name + ".go")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(folder), str(go)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(n)
    ]
    time.sleep(0.5)  # every interpreter up and polling for go
    go.touch()
    return procs


def kill_all(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        if p.stdout:
            p.stdout.close()


def test_processes_starting_together_share_one_server_recorded_in_its_folder() -> None:
    with data_folder() as root:
        folder = root / "redis"
        procs = starters(folder, 4)
        try:
            run_ids = {p.stdout.readline().strip() for p in procs if p.stdout}
            assert len(run_ids) == 1 and "" not in run_ids, f"every process on one server, got {run_ids}"
            pids = servers_on(folder)
            assert len(pids) == 1, f"one redis-server on the folder, found {pids}"
            assert EmbeddedRedis(folder).pid() == pids[0], "its pid is recorded in the data folder"
        finally:
            kill_all(procs)


def test_the_server_is_no_process_child_and_outlives_a_sigkill_of_its_starter() -> None:
    with data_folder() as root:
        folder = root / "redis"
        [starter] = starters(folder, 1)
        try:
            assert starter.stdout and starter.stdout.readline().strip()
            [pid] = servers_on(folder)
            assert parent_of(pid) != starter.pid, "the server is not the starting process's child"
            assert os.getsid(pid) != os.getsid(starter.pid), "nor in its session"
            starter.send_signal(signal.SIGKILL)
            starter.wait(5)
            time.sleep(0.3)
            assert ping(folder), "the server is still up after its starter was killed"
            assert servers_on(folder) == [pid]
        finally:
            kill_all([starter])


def test_a_later_process_adopts_it_and_stop_leaves_it_to_its_users_shutdown_stops_it() -> None:
    with data_folder() as root:
        folder = root / "redis"
        first = EmbeddedRedis(folder).start()
        later = EmbeddedRedis(folder).start()
        assert first.launched and not later.launched
        run_id = redis.Redis.from_url(later.url).info("server")["run_id"]
        later.stop()  # a process that adopted the server does not stop it
        assert ping(folder)
        redis.Redis.from_url(later.url).set("kept", "1")
        later.shutdown()  # what `brandbot serve` does on exit, whoever launched it
        assert not ping(folder) and servers_on(folder) == []
        assert not (folder / "redis.pid").exists() and not (folder / "redis.sock").exists()
        again = EmbeddedRedis(folder).start()  # the next start brings it back, with the append-only data
        client = redis.Redis.from_url(again.url)
        assert client.info("server")["run_id"] != run_id and client.get("kept") == b"1"
        again.shutdown()
        later.shutdown()  # nothing running: quiet


def test_a_server_killed_hard_is_replaced_on_the_next_start() -> None:
    with data_folder() as root:
        folder = root / "redis"
        server = EmbeddedRedis(folder).start()
        pid = server.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # leaves its socket and pid file behind
        wait_for(lambda: not ping(folder), 5, "the killed server to stop answering")
        assert EmbeddedRedis(folder).start().launched
        assert ping(folder) and EmbeddedRedis(folder).pid() not in (None, pid)
        EmbeddedRedis(folder).shutdown()


def test_test_fixture_mode_on_a_port_without_persistence() -> None:
    """tests/conftest.py's use: a loopback port, no append-only file, ``stop()``."""
    with data_folder() as root:
        port = free_port()
        server = EmbeddedRedis(root / "r", port=port, persist=False).start()
        assert server.url == f"redis://127.0.0.1:{port}/0"
        assert redis.Redis.from_url(server.url).ping()
        server.stop()
        with pytest.raises(redis.ConnectionError):
            redis.Redis.from_url(server.url, socket_connect_timeout=0.5).ping()
        assert not list((root / "r").glob("*.aof"))


def test_a_port_taken_fails_fast_naming_the_log() -> None:
    with data_folder() as root, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        began = time.monotonic()
        with pytest.raises(StoreUnavailable, match=r"redis\.log"):
            EmbeddedRedis(root / "r", port=port, persist=False).start(timeout=8)
        assert time.monotonic() - began < 5
