"""Send retries: exponential backoff with full jitter (tenacity), honouring ``retry_after``.

Only :class:`~connectors.errors.TransientSendError` is retried (5xx, timeouts,
429). :class:`~connectors.errors.PermanentSendError` and anything else propagate
at once. After the last try the transient error propagates too; the caller
dead-letters the message.

The wait happens in the worker, so while a send backs off its shard waits:
that keeps a conversation's replies in order. With the defaults (5 tries from
0.5 s, doubling, capped at 30 s) the expected total wait is under 8 s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential
from tenacity.wait import wait_base

from connectors.errors import TransientSendError

log = logging.getLogger(__name__)

__all__ = ["RetryPolicy", "wait_retry_after_or_backoff"]

T = TypeVar("T")


class wait_retry_after_or_backoff(wait_base):
    """Wait the channel's ``retry_after`` when it gave one (capped), else exponential backoff with full jitter."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.backoff = wait_random_exponential(multiplier=initial, max=maximum)
        self.maximum = maximum

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = exc.retry_after if isinstance(exc, TransientSendError) else None
        if after is not None and after > 0:
            return min(float(after), self.maximum)
        return self.backoff(retry_state)


class RetryPolicy:
    """How a send is retried.

    Args:
        max_attempts: tries in all (1 = no retry).
        initial: first backoff ceiling in seconds (doubles each try, full jitter).
        maximum: longest single wait, also the cap of a channel's ``retry_after``.
        sleep: injected for tests.
    """

    def __init__(
        self,
        max_attempts: int,
        initial: float,
        maximum: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.max_attempts = max_attempts
        self.initial = initial
        self.maximum = maximum
        self.sleep = sleep

    @classmethod
    def from_settings(cls, pipeline, sleep: Callable[[float], None] = time.sleep) -> RetryPolicy:
        return cls(pipeline.send_max_attempts, pipeline.send_backoff_initial, pipeline.send_backoff_max, sleep)

    def call(self, fn: Callable[[], T], on_retry: Callable[[BaseException, float, int], None] | None = None) -> T:
        """Run ``fn`` until it returns, retrying on TransientSendError.

        Args:
            fn: the send.
            on_retry: called as (error, seconds to wait, attempt number) before each wait.

        Raises:
            TransientSendError: the last try failed too.
            Exception: any other error from ``fn`` at once (PermanentSendError included).
        """

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "send failed (try %d of %d): %s; retrying in %.2fs", state.attempt_number, self.max_attempts, exc, wait
            )
            if on_retry is not None and exc is not None:
                on_retry(exc, wait, state.attempt_number)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_retry_after_or_backoff(self.initial, self.maximum),
            retry=retry_if_exception_type(TransientSendError),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)
