"""Settings of the delivery pipeline: inbound stream, workers, retries."""

from __future__ import annotations

from pydantic import Field

from ._base import Section


class PipelineSettings(Section):
    #: approximate cap of the inbound stream (XADD MAXLEN ~).
    stream_maxlen: int = Field(default=100_000, ge=100)
    #: seconds a message's id is remembered for dedupe.
    dedupe_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    #: a pending message is claimed from a silent worker after this many ms.
    claim_idle_ms: int = Field(default=30_000, ge=100)
    send_max_attempts: int = Field(default=5, ge=1, le=20)
