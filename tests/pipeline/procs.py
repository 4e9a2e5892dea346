"""Helpers to run ``brandbot worker`` processes against a test config (moved to :mod:`tests.support`)."""

from __future__ import annotations

from tests.support import BRANDBOT, REPO, start_worker, wait_for

__all__ = ["BRANDBOT", "REPO", "start_worker", "wait_for"]
