"""The Redis rate limiter: all of a send's limits in one Lua call, all or nothing (real Redis)."""

from __future__ import annotations

import threading

import pytest
import redis

from connectors._ratelimit import Rate, RateLimited, RedisRateLimiter

pytestmark = pytest.mark.integration  # real Redis


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _limiter(client: redis.Redis, clock: Clock, waits: list[float] | None = None) -> RedisRateLimiter:
    return RedisRateLimiter(client, "test:rl", sleep=(waits if waits is not None else []).append, clock=clock)


PER_CHAT, OVERALL = Rate(1, 60), Rate(1, 1)


def test_when_the_overall_limit_is_full_the_per_chat_budget_is_not_spent(redis_client):
    clock = Clock()
    limiter = _limiter(redis_client, clock)
    limiter.acquire([(PER_CHAT, "{telegram:1}"), (OVERALL, "overall")], max_wait=0)  # spends the overall slot
    with pytest.raises(RateLimited, match="'overall' is full") as info:
        limiter.acquire([(PER_CHAT, "{telegram:2}"), (OVERALL, "overall")], max_wait=0)
    assert info.value.retry_after == pytest.approx(1.0)
    assert redis_client.llen(limiter.key(PER_CHAT, "{telegram:2}")) == 0  # nothing taken
    clock.now += 1.5  # the overall window moved on; chat 2's own minute never started
    assert limiter.acquire([(PER_CHAT, "{telegram:2}"), (OVERALL, "overall")], max_wait=0) == 0.0
    clock.now += 1.5
    with pytest.raises(RateLimited, match="telegram:2"):  # now its per-chat slot is spent
        limiter.acquire([(PER_CHAT, "{telegram:2}"), (OVERALL, "overall")], max_wait=0)


def test_racing_sends_spend_no_per_chat_slot_when_refused_overall(redis_client):
    """8 threads race for 1 overall slot: the 7 refused sends keep their per-chat budget."""
    clock = Clock()
    limiter = _limiter(redis_client, clock)
    overall = Rate(1, 60)
    start = threading.Barrier(8)
    taken: list[int] = []

    def send(chat: int) -> None:
        start.wait()
        try:
            limiter.acquire([(PER_CHAT, f"{{telegram:{chat}}}"), (overall, "overall")], max_wait=0)
            taken.append(chat)
        except RateLimited:
            pass

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(taken) == 1, taken
    for chat in range(8):
        spent = redis_client.llen(limiter.key(PER_CHAT, f"{{telegram:{chat}}}"))
        assert spent == (1 if chat in taken else 0), chat


def test_a_short_wait_is_slept_and_the_longest_wait_is_reported(redis_client):
    clock = Clock()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.now += seconds

    limiter = RedisRateLimiter(redis_client, "test:rl", sleep=sleep, clock=clock)
    chat, overall = (Rate(2, 1), "{telegram:7}"), (Rate(3, 10), "overall")
    limiter.acquire([chat, overall], max_wait=0)
    limiter.acquire([chat, overall], max_wait=0)
    clock.now += 0.25
    # chat frees up in 0.75 s (then 0.01 s more: a hit exactly one window old still counts)
    assert limiter.acquire([chat, overall], max_wait=2) == pytest.approx(0.76)
    assert waits == [pytest.approx(0.75), pytest.approx(0.01)]
    # overall holds 3 hits since t0: full until t0 + 10 s, beyond max_wait, so nothing is slept
    with pytest.raises(RateLimited, match="'overall'") as info:
        limiter.acquire([chat, overall], max_wait=5)
    assert info.value.retry_after == pytest.approx(10 - 1.01)
    assert len(waits) == 2


def test_keys_share_one_hash_tag_and_expire(redis_client):
    limiter = _limiter(redis_client, Clock())
    limiter.acquire([(Rate(1, 3), "{telegram:9}"), (Rate(30, 1), "overall")], max_wait=0)
    keys = sorted(k.decode() for k in redis_client.keys("{test:rl}:*"))
    assert keys == ["{test:rl}:overall:30/1", "{test:rl}:{telegram:9}:1/3"]
    assert 0 < redis_client.ttl("{test:rl}:{telegram:9}:1/3") <= 3
