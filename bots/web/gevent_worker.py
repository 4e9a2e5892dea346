"""gunicorn's gevent worker, quiet on Ctrl-C.

A Ctrl-C in the terminal reaches every process of ``brandbot serve``. gunicorn's gevent
worker then leaves through ``sys.exit`` inside a greenlet, which gevent reports with a
traceback on every stop of ``make run``. This worker does the same quick exit (open event
streams are cut at once, as before; they reconnect to another process) without the noise,
and a worker still loading the app when Ctrl-C comes leaves at once.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import warnings
from typing import Any

import gevent
from gevent.monkey import MonkeyPatchWarning
from gunicorn.workers.ggevent import GeventWorker

__all__ = ["QuietGeventWorker", "post_fork"]

_STOPS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM)


def _leave_now(signum: int, frame: Any) -> None:
    os._exit(0)


def post_fork(arbiter: Any, worker: Any) -> None:
    """gunicorn's ``post_fork`` hook: a Ctrl-C that reaches a worker before it installs its own
    signal handlers (while gevent patches and the app loads) must still stop it.

    Until then the child runs the master's inherited handler, which only queues the signal in
    the child's copy of the arbiter: the worker would boot, serve, and be SIGKILLed by the master
    after ``graceful_timeout``. So: leave at once on a stop signal until the worker's own
    handlers take over, and leave now if one was already queued.
    """
    for sig in _STOPS:
        signal.signal(sig, _leave_now)
    while True:  # the child's copy of the master's queue (a SimpleQueue in gunicorn 23+)
        try:
            queued = arbiter.SIG_QUEUE.get_nowait()
        except queue.Empty:
            return
        if queued in _STOPS:
            os._exit(0)


class QuietGeventWorker(GeventWorker):
    def patch(self) -> None:
        # the master imported redis.asyncio (and with it ssl) before the fork; the web path uses
        # only the synchronous Redis client, so gevent's "ssl was imported first" warning is noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MonkeyPatchWarning)
            super().patch()

    def handle_quit(self, sig: int, frame: Any) -> None:
        if not self.booted:
            # still loading the app (nothing served yet): a greenlet would wait for the load to
            # yield, and the master would SIGKILL this worker after graceful_timeout
            os._exit(0)
        gevent.spawn(self._quit)

    def _quit(self) -> None:
        self.alive = False
        self.cfg.worker_int(self)
        gevent.sleep(0.1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
