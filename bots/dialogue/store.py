"""Dialogue state in Redis, behind a per-conversation lock.

Keys carry the conversation in a hash tag (``{prefix}:{<conv>}:state``) so the
lock and the state share a Redis Cluster slot and one Lua script can touch both.

A turn costs two round trips:
  1. ``lock_and_load``: ``SET lock token NX PX ttl`` and read the state;
  2. ``save_and_release``: write the state only if its version is still the one
     loaded (CAS: a worker whose lock expired cannot overwrite newer state), drop
     the lock if still ours, publish live events.
The lock's TTL frees a conversation whose worker crashed.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from ..errors import StoreUnavailable
from .errors import ConversationBusy, StaleState
from .state import DialogueState, state_from_json, state_to_json

__all__ = ["StateStore", "Lease"]

_LUA = Path(__file__).resolve().parent / "lua"


def _script(name: str) -> str:
    return (_LUA / f"{name}.lua").read_text(encoding="utf-8")


@dataclass
class Lease:
    """A held conversation lock and the state read under it."""

    conversation_id: str
    token: str
    state: DialogueState
    acquired_at: float


@contextmanager
def _redis_errors(doing: str, conversation_id: str) -> Iterator[None]:
    """Turn a Redis failure into StoreUnavailable (the pipeline then leaves the message pending)."""
    try:
        yield
    except redis.RedisError as exc:
        raise StoreUnavailable(f"Redis failed while {doing} conversation {conversation_id!r}: {exc}") from exc


def hash_tag(conversation_id: str) -> str:
    """The ``{...}`` tag for a conversation; ids with braces are hashed to stay one tag."""
    if "{" in conversation_id or "}" in conversation_id:
        return "h" + hashlib.sha1(conversation_id.encode()).hexdigest()
    return conversation_id


class StateStore:
    """Load/save dialogue states under an atomic per-conversation lock.

    Args:
        client: a redis-py client (decode_responses off or on).
        prefix: ``stores.key_prefix``.
        state_ttl: seconds a silent conversation's state is kept.
        lock_ttl: seconds after which a crashed holder's lock frees itself.
        lock_wait: seconds to wait for a busy conversation before ConversationBusy.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "bb",
        state_ttl: int = 7 * 24 * 3600,
        lock_ttl: float = 30,
        lock_wait: float = 10,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.state_ttl_ms = int(state_ttl * 1000)
        self.lock_ttl_ms = int(lock_ttl * 1000)
        self.lock_wait = lock_wait
        self.sleep = sleep
        self.live_channel = f"{prefix}:live"
        self._lock_and_load = client.register_script(_script("lock_and_load"))
        self._save = client.register_script(_script("save_and_release"))
        self._release = client.register_script(_script("release"))
        self._extend = client.register_script(_script("extend"))

    # ---- keys ------------------------------------------------------------
    def state_key(self, conversation_id: str) -> str:
        return f"{self.prefix}:{{{hash_tag(conversation_id)}}}:state"

    def lock_key(self, conversation_id: str) -> str:
        return f"{self.prefix}:{{{hash_tag(conversation_id)}}}:lock"

    # ---- operations ------------------------------------------------------
    def acquire(self, conversation_id: str) -> Lease:
        """Take the lock and load the state (one round trip when free).

        Raises:
            ConversationBusy: still locked after ``lock_wait`` seconds.
            StoreUnavailable: Redis does not answer.
        """
        token = uuid.uuid4().hex
        keys = [self.lock_key(conversation_id), self.state_key(conversation_id)]
        deadline = time.monotonic() + self.lock_wait
        delay = 0.002
        while True:
            with _redis_errors("locking", conversation_id):
                res = self._lock_and_load(keys=keys, args=[token, self.lock_ttl_ms])
            if int(res[0]) == 1:
                version = int(res[1])
                state = state_from_json(res[2], conversation_id, version)
                return Lease(conversation_id, token, state, time.monotonic())
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConversationBusy(
                    f"conversation {conversation_id!r} is locked by another worker (lock expires in "
                    f"{int(res[1])} ms); waited {self.lock_wait}s (dialogue.lock_wait_seconds)"
                )
            self.sleep(min(left, delay * (0.5 + random.random())))
            delay = min(delay * 2, 0.05)

    def save(self, lease: Lease, state: DialogueState, events: list[str] | tuple[str, ...] = ()) -> int:
        """Write ``state`` if nobody wrote since ``lease`` loaded it; release the lock; publish events.

        Returns:
            The new version.

        Raises:
            StaleState: a newer state exists (nothing written; redo the turn).
        """
        keys = [self.lock_key(lease.conversation_id), self.state_key(lease.conversation_id)]
        args = [lease.token, lease.state.version, state_to_json(state), self.state_ttl_ms, self.live_channel, *events]
        with _redis_errors("saving", lease.conversation_id):
            res = self._save(keys=keys, args=args)
        if int(res[0]) != 1:
            raise StaleState(
                f"conversation {lease.conversation_id!r}: state is at version {int(res[1])}, this turn "
                f"loaded {lease.state.version}; another worker saved first (the lock had expired)"
            )
        state.version = int(res[1])
        return state.version

    def release(self, lease: Lease) -> bool:
        """Drop the lock if it is still ours (after a failed turn)."""
        with _redis_errors("unlocking", lease.conversation_id):
            return bool(self._release(keys=[self.lock_key(lease.conversation_id)], args=[lease.token]))

    def extend(self, lease: Lease, ttl: float | None = None) -> bool:
        """Push the lock's expiry out (a long action); False if it was lost."""
        ms = int(ttl * 1000) if ttl else self.lock_ttl_ms
        with _redis_errors("extending the lock of", lease.conversation_id):
            return bool(self._extend(keys=[self.lock_key(lease.conversation_id)], args=[lease.token, ms]))

    def load(self, conversation_id: str) -> DialogueState:
        """Read a state without locking (for display only)."""
        with _redis_errors("reading", conversation_id):
            v, d = self.redis.hmget(self.state_key(conversation_id), "v", "d")
        return state_from_json(d, conversation_id, int(v or 0))

    def delete(self, conversation_id: str) -> None:
        """Forget a conversation's state (and any lock)."""
        with _redis_errors("deleting", conversation_id):
            self.redis.delete(self.state_key(conversation_id), self.lock_key(conversation_id))
