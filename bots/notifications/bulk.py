"""Sending a CSV of notifications at a steady pace, and following them until each is accounted for.

A row of the CSV is one :class:`~bots.notifications.service.NotifyRequest` (scope ``cli``): who
(``booking``, ``customer``, or ``channel`` + ``id``), optionally ``language`` and
``prefer_channel``, and one column per variable of the kind. Row ``i`` is asked for no earlier
than ``start + i / per_second``; its idempotency key is ``<batch>:<row>``, so a run stopped
halfway (Redis or SQL down) resumes by running the same batch again without sending anything twice.
"""

from __future__ import annotations

import csv
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import BrandbotError, StoreUnavailable
from .service import IdempotencyConflict, InvalidNotification, NotifyRequest
from .store import STATES

__all__ = [
    "BadCsv",
    "Bars",
    "BulkNotifier",
    "BulkReport",
    "CsvRow",
    "NoBars",
    "new_batch_name",
    "read_csv",
    "run_bulk",
    "MAX_BATCH",
]

#: CSV columns that say who and how; every other column is one of the kind's variables.
RECIPIENT_COLUMNS = ("booking", "customer", "channel", "id")
OPTION_COLUMNS = ("language", "prefer_channel")
#: the states a notification leaves the queue in (refusals included: they are answered).
FINAL_STATES = ("sent", "delivered", "read", "failed", "refused")
MAX_BATCH = 64
#: seconds between two looks at a batch's states while ``--wait`` follows the sends.
POLL_SECONDS = 0.5


class Bars(Protocol):
    """Where a run shows its progress (rich's ``Progress`` in the CLI)."""

    def add_task(self, description: str, *, total: float | None = ...) -> Any: ...

    def advance(self, task_id: Any, advance: float = ...) -> None: ...

    def update(self, task_id: Any, *, completed: float | None = ..., total: float | None = ...) -> None: ...


class NoBars:
    """Progress shown nowhere."""

    def add_task(self, description: str, *, total: float | None = None) -> int:
        return 0

    def advance(self, task_id: Any, advance: float = 1) -> None:
        pass

    def update(self, task_id: Any, *, completed: float | None = None, total: float | None = None) -> None:
        pass


class BadCsv(BrandbotError):
    """Raised when a bulk CSV cannot be used at all (unreadable, no header, no recipient columns)."""


class BatchCounts(Protocol):
    """What a bulk run reads of its batch (:class:`~bots.notifications.store.Notifications`)."""

    def batch_counts(self, batch: str) -> dict[str, int]: ...

    def batch_reasons(self, batch: str, limit: int = 10) -> list[tuple[str, int]]: ...


class BulkNotifier(Protocol):
    """What a bulk run needs of :class:`~bots.notifications.service.Notifier`."""

    @property
    def notifications(self) -> BatchCounts: ...

    def notify(self, req: NotifyRequest, /) -> object: ...


@dataclass(frozen=True)
class CsvRow:
    """One data row of a bulk CSV (``number`` counts data rows from 1): its request, or why it has none."""

    number: int
    request: NotifyRequest | None
    problem: str | None = None


@dataclass
class BulkReport:
    """What a bulk run did: rows taken, invalid rows, where it stopped, the batch's states and rates."""

    batch: str
    kind: str
    rows: int
    #: rows ``Notifier.notify`` answered (queued or refused).
    taken: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)
    #: the row a run stopped at (Redis or SQL down): rerun with the same batch from there.
    stopped_at: int | None = None
    stop_error: str | None = None
    enqueue_seconds: float = 0.0
    #: seconds from the start until the last look at the batch's states.
    accounted_seconds: float = 0.0
    waited: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pending(self) -> int:
        """Notifications of the batch still queued (not sent, failed or refused yet)."""
        return self.counts.get("queued", 0)

    @property
    def accounted(self) -> int:
        """Notifications of the batch in a final state (sent, delivered, read, failed, refused)."""
        return sum(self.counts.get(s, 0) for s in FINAL_STATES)

    @property
    def complete(self) -> bool:
        """Every valid row was taken and, when waited for, every notification accounted for."""
        return self.stopped_at is None and (self.pending == 0 if self.waited else True)

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON object (``--json``)."""
        return {
            "batch": self.batch,
            "kind": self.kind,
            "rows": self.rows,
            "taken": self.taken,
            "invalid": [{"row": n, "reason": why} for n, why in self.invalid],
            "counts": {s: self.counts.get(s, 0) for s in STATES},
            "pending": self.pending,
            "accounted": self.accounted,
            "reasons": [{"reason": r, "count": c} for r, c in self.reasons],
            "enqueue_seconds": round(self.enqueue_seconds, 3),
            "enqueued_per_second": _rate(self.taken + len(self.invalid), self.enqueue_seconds),
            "accounted_seconds": round(self.accounted_seconds, 3),
            "accounted_per_second": _rate(self.accounted, self.accounted_seconds),
            "waited": self.waited,
            "stopped_at_row": self.stopped_at,
            "stop_error": self.stop_error,
            "complete": self.complete,
        }


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


def new_batch_name(clock: Callable[[], float] = time.time) -> str:
    """``bulk-<UTC timestamp>-<6 hex>``: a fresh batch name."""
    return f"bulk-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(clock()))}-{secrets.token_hex(3)}"


# -- reading the CSV -----------------------------------------------------------------------------
_RECIPIENT_MODES = {"booking": ("booking",), "customer": ("customer",), "recipient": ("channel", "id")}


def _recipient_mode(header: Sequence[str]) -> str:
    """``booking``, ``customer`` or ``recipient``: how the header names the customer (exactly one way)."""
    named = [mode for mode, cols in _RECIPIENT_MODES.items() if any(c in header for c in cols)]
    if len(named) != 1 or not all(c in header for c in _RECIPIENT_MODES[named[0]]):
        raise BadCsv(
            "the CSV header needs exactly one way to name the customer: a 'booking' column, a 'customer' column, "
            f"or 'channel' and 'id' columns (header: {list(header)})"
        )
    return named[0]


def read_csv(path: Path, kind: str, batch: str, scope: str = "cli") -> list[CsvRow]:
    """Each data row of ``path`` as a request of ``kind`` in ``batch`` (idempotency key ``<batch>:<row>``).

    Header names (any case): ``booking`` or ``customer`` or ``channel`` + ``id``; optional ``language`` and
    ``prefer_channel``; every other column is a variable of the kind. Empty optional cells are left out.

    Raises:
        BadCsv: the file cannot be read, or its header names no recipient (or two ways).
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            lines = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadCsv(f"cannot read the CSV {path}: {exc}") from exc
    if not lines:
        raise BadCsv(f"the CSV {path} is empty: it needs a header row")
    header = [h.strip().lower() for h in lines[0]]
    if len(set(header)) != len(header) or "" in header:
        raise BadCsv(f"the CSV header has an empty or repeated column name: {lines[0]}")
    mode = _recipient_mode(header)
    rows = []
    for number, cells in enumerate(lines[1:], start=1):
        if not any(c.strip() for c in cells):
            continue  # a blank line (often the last one)
        if len(cells) != len(header):
            rows.append(CsvRow(number, None, f"row: has {len(cells)} fields, the header has {len(header)}"))
            continue
        record = dict(zip(header, cells, strict=True))
        given = {k: v for k, v in record.items() if k not in RECIPIENT_COLUMNS + OPTION_COLUMNS}
        rows.append(
            CsvRow(
                number,
                NotifyRequest(
                    kind=kind,
                    variables=given,
                    booking=record["booking"] if mode == "booking" else None,
                    customer=record["customer"] if mode == "customer" else None,
                    recipient=(record["channel"].strip(), record["id"].strip()) if mode == "recipient" else None,
                    channel=record.get("prefer_channel", "").strip() or None,
                    language=record.get("language", "").strip() or None,
                    scope=scope,
                    idempotency_key=f"{batch}:{number}",
                    batch=batch,
                ),
            )
        )
    return rows


def run_bulk(
    notifier: BulkNotifier,
    rows: Sequence[CsvRow],
    *,
    kind: str,
    batch: str,
    per_second: float,
    wait: float | None = None,
    bars: Bars | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> BulkReport:
    """Ask ``notifier`` for each row, at most ``per_second`` rows a second; then follow the batch.

    Row ``i`` (from 0) is sent no earlier than ``start + i / per_second`` (the run sleeps until then).
    An invalid row is counted with its reason and the run goes on; Redis or SQL down stops it at
    that row (``stopped_at``: the same batch run again resumes without sending anything twice).

    Args:
        wait: follow the sends until none is queued or this many seconds passed (None: do not wait).
        bars: where progress is shown (the CLI's rich progress bars; None: nowhere).

    Returns:
        The report, with the batch's counts and most common refusal/failure reasons.
    """
    report = BulkReport(batch, kind, len(rows))
    started = clock()
    bars = bars or NoBars()
    task = bars.add_task("queueing", total=len(rows))
    for i, row in enumerate(rows):
        ahead = started + i / per_second - clock()
        if ahead > 0:
            sleep(ahead)
        if row.request is None:
            report.invalid.append((row.number, row.problem or "unreadable"))
        else:
            try:
                notifier.notify(row.request)
                report.taken += 1
            except (InvalidNotification, IdempotencyConflict) as exc:
                report.invalid.append((row.number, str(exc)))
            except StoreUnavailable as exc:
                report.stopped_at, report.stop_error = row.number, str(exc)
                break
        bars.advance(task)
    report.enqueue_seconds = clock() - started
    if report.stopped_at is None and wait is not None:
        report.waited = True
        _follow(notifier, report, bars, clock() + wait, clock, sleep)
    try:
        report.counts = notifier.notifications.batch_counts(batch)
        report.reasons = notifier.notifications.batch_reasons(batch, limit=5)
    except StoreUnavailable as exc:
        if report.stopped_at is None:
            raise
        report.stop_error = f"{report.stop_error}; the counts cannot be read either: {exc}"
    report.accounted_seconds = report.accounted_seconds or clock() - started
    return report


def _follow(
    notifier: BulkNotifier,
    report: BulkReport,
    bars: Bars,
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    """Poll the batch's states until none is queued or ``deadline`` passed."""
    task = bars.add_task("sending", total=report.taken)
    started = clock() - report.enqueue_seconds
    while True:
        report.counts = notifier.notifications.batch_counts(report.batch)
        report.accounted_seconds = clock() - started
        bars.update(task, completed=report.accounted, total=max(report.taken, sum(report.counts.values())))
        left = deadline - clock()
        if report.pending == 0 or left <= 0:
            return
        sleep(min(POLL_SECONDS, left))
