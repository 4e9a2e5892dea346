"""gunicorn's gevent worker, quiet on Ctrl-C.

A Ctrl-C in the terminal reaches every process of ``brandbot serve``. gunicorn's gevent
worker then leaves through ``sys.exit`` inside a greenlet, which gevent reports with a
traceback on every stop of ``make run``. This worker does the same quick exit (open event
streams are cut at once, as before; they reconnect to another process) without the noise.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import gevent
from gevent.monkey import MonkeyPatchWarning
from gunicorn.workers.ggevent import GeventWorker

__all__ = ["QuietGeventWorker"]


class QuietGeventWorker(GeventWorker):
    def patch(self) -> None:
        # the master imported redis.asyncio (and with it ssl) before the fork; the web path uses
        # only the synchronous Redis client, so gevent's "ssl was imported first" warning is noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MonkeyPatchWarning)
            super().patch()

    def handle_quit(self, sig: int, frame: Any) -> None:
        gevent.spawn(self._quit)

    def _quit(self) -> None:
        self.alive = False
        self.cfg.worker_int(self)
        gevent.sleep(0.1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
