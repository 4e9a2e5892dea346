"""Temporary folders outside pytest's ``tmp_path`` (benchmarks, helper processes)."""

from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["temp_folder"]


def temp_folder(prefix: str = "bb-") -> Path:
    """A new empty folder under the system's temp dir; the caller removes it (or leaves it for a post-mortem)."""
    return Path(tempfile.mkdtemp(prefix=prefix))
