"""The notifications store: idempotent creation, and states read from the deliveries record."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert

from bots.errors import StoreUnavailable
from bots.notifications import IdempotencyConflict, NewNotification, Notifications, delivery_key
from bots.stores.models import deliveries, notifications
from bots.stores.sql import make_engine

from .conftest import Clock


def new(
    key: str | None = "k-1",
    request_hash: str | None = "h-1",
    *,
    state: str = "queued",
    reason: str | None = None,
    batch: str | None = None,
    customer_id: str = "+33612345678",
) -> NewNotification:
    return NewNotification(
        scope="apikey:1",
        idempotency_key=key,
        request_hash=request_hash,
        kind="flight_delay",
        purpose="service",
        reference_kind="booking",
        reference="AB12CD",
        channel="sms",
        customer_id=customer_id,
        conversation_id=f"sms:{customer_id}",
        variables={"flight": "TA123", "delay": "45 min"},
        language="fr",
        state=state,
        reason=reason,
        batch=batch,
    )


def deliver(
    engine: Engine,
    key: str,
    status: str,
    *,
    at: datetime,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    """A deliveries row as the Deliverer (or a status callback) leaves it."""
    with engine.begin() as conn:
        conn.execute(
            insert(deliveries).values(
                idempotency_key=key,
                channel="sms",
                recipient="+33612345678",
                conversation_id="sms:+33612345678",
                status=status,
                error_code=error_code,
                error_message=error_message,
                created_at=at,
                updated_at=at,
            )
        )


# -- creation and idempotency ----------------------------------------------------------------------


def test_a_created_row_has_an_id_a_delivery_key_and_everything_given(store: Notifications, clock: Clock) -> None:
    row, created = store.create(new())

    assert created is True
    assert row.id.startswith("ntf_") and len(row.id) == 36
    assert row.delivery_key == delivery_key(row.id) == f"notification:{row.id}"
    assert row.variables == {"flight": "TA123", "delay": "45 min"}
    assert (row.scope, row.kind, row.purpose, row.state, row.language) == (
        "apikey:1",
        "flight_delay",
        "service",
        "queued",
        "fr",
    )
    assert row.created_at == row.updated_at == clock.now
    assert store.get(row.id) == row
    assert store.get("ntf_missing") is None


def test_the_same_key_and_request_give_back_the_first_row(store: Notifications, clock: Clock) -> None:
    first, _ = store.create(new())
    clock.now += timedelta(minutes=5)

    again, created = store.create(new())

    assert created is False and again == first


def test_the_same_key_for_another_request_is_a_conflict(store: Notifications) -> None:
    first, _ = store.create(new())

    with pytest.raises(IdempotencyConflict, match=r"'k-1' was used for a different request") as caught:
        store.create(new(request_hash="h-2"))
    assert caught.value.existing == first


def test_keys_are_per_scope_and_no_key_means_no_dedupe(store: Notifications) -> None:
    a, _ = store.create(new())
    b, created = store.create(NewNotification(**{**new().__dict__, "scope": "cli"}))
    assert created and a.id != b.id

    c, c_created = store.create(new(key=None))
    d, d_created = store.create(new(key=None))
    assert c_created and d_created and c.id != d.id


def test_concurrent_creations_with_one_key_leave_one_row(engine: Engine, clock: Clock) -> None:
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def create() -> None:
        store = Notifications(engine, clock)
        start.wait()
        try:
            row, created = store.create(new(key="race"))
            results.append((row.id, created))
        except Exception as exc:  # noqa: BLE001 - a thread's error is reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len({row_id for row_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False] * 7 + [True]


def test_a_refused_row_keeps_its_reason_and_no_delivery_key(store: Notifications) -> None:
    row, _ = store.create(new(state="refused", reason="sms: the customer opted out (STOP)"))

    assert row.delivery_key is None
    view = store.view(row.id)
    assert view is not None
    assert (view.state, view.reason) == ("refused", "sms: the customer opted out (STOP)")


def test_an_unknown_state_is_refused(store: Notifications) -> None:
    with pytest.raises(ValueError, match=r"'queued' or 'refused', not 'sent'"):
        store.create(new(state="sent"))


def test_a_database_that_does_not_answer_is_store_unavailable(tmp_path: Any, clock: Clock) -> None:
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    store = Notifications(unmigrated, clock)
    with pytest.raises(StoreUnavailable, match="cannot read notification 'ntf_x'"):
        store.get("ntf_x")
    with pytest.raises(StoreUnavailable, match="cannot write a flight_delay notification"):
        store.create(new(key=None))
    with pytest.raises(StoreUnavailable, match="cannot count"):
        store.batch_counts("b")
    unmigrated.dispose()


# -- what became of it --------------------------------------------------------------------------------


#: deliveries.status, error_code, error_message -> the state and reason the notification is seen in.
STATE_CASES: list[tuple[str | None, str | None, str | None, str, str | None]] = [
    (None, None, None, "queued", None),
    ("attempted", None, None, "queued", None),
    ("sent", None, None, "sent", None),
    ("queued", None, None, "sent", None),  # the channel's own queue: it has the message
    ("sending", None, None, "sent", None),
    ("partially_delivered", None, None, "sent", None),
    ("delivered", None, None, "delivered", None),
    ("read", None, None, "read", None),
    (
        "failed",
        "21610",
        "Attempt to send to unsubscribed recipient",
        "failed",
        "Attempt to send to unsubscribed recipient",
    ),
    ("failed", "21211", None, "failed", "error 21211"),
    ("dead", "503", "HTTP 503 from Twilio, 5 attempts", "failed", "HTTP 503 from Twilio, 5 attempts"),
    ("undelivered", "30003", None, "failed", "error 30003"),
    ("canceled", None, None, "failed", "canceled"),
    ("something_new", None, None, "failed", "something_new"),
]


def test_the_state_is_read_from_the_deliveries_row(store: Notifications, engine: Engine, clock: Clock) -> None:
    created = clock.now
    ids = []
    for i, (status, error_code, error_message, _, _) in enumerate(STATE_CASES):
        row, _ = store.create(new(key=f"k-{i}"))
        ids.append(row.id)
        if status is not None:
            assert row.delivery_key is not None
            deliver(engine, row.delivery_key, status, at=created + timedelta(seconds=30), error_code=error_code,
                    error_message=error_message)  # fmt: skip

    for row_id, (status, _, _, state, reason) in zip(ids, STATE_CASES, strict=True):
        view = store.view(row_id)
        assert view is not None
        assert (status, view.state, view.reason) == (status, state, reason)
        assert view.created_at == created
        assert view.updated_at == (created if status is None else created + timedelta(seconds=30))
    assert [(v.state, v.reason) for v in store.views(ids)] == [(c[3], c[4]) for c in STATE_CASES]


def test_the_view_is_what_the_api_shows(store: Notifications, clock: Clock) -> None:
    row, _ = store.create(new(batch="run-1"))
    view = store.view(row.id)
    assert view is not None
    assert view.to_json() == {
        "id": row.id,
        "kind": "flight_delay",
        "state": "queued",
        "reason": None,
        "channel": "sms",
        "created_at": "2026-12-02T09:00:00+00:00",
        "updated_at": "2026-12-02T09:00:00+00:00",
        "batch": "run-1",
    }
    assert store.view("ntf_missing") is None


def test_views_keep_the_order_asked_and_leave_unknown_ids_out(
    store: Notifications, engine: Engine, clock: Clock
) -> None:
    rows = [store.create(new(key=f"k-{i}"))[0] for i in range(3)]
    assert rows[1].delivery_key is not None
    deliver(engine, rows[1].delivery_key, "delivered", at=clock.now)

    views = store.views([rows[2].id, "ntf_missing", rows[1].id, rows[0].id, rows[2].id])

    assert [(v.id, v.state) for v in views] == [
        (rows[2].id, "queued"),
        (rows[1].id, "delivered"),
        (rows[0].id, "queued"),
    ]
    assert store.views([]) == []


# -- bulk runs ----------------------------------------------------------------------------------------------


def test_a_bulk_run_is_counted_by_state_with_its_most_common_reasons(
    store: Notifications, engine: Engine, clock: Clock
) -> None:
    """300 notifications of one run (and some of another run that must not count)."""
    expected = {"queued": 0, "sent": 0, "delivered": 0, "read": 0, "refused": 0, "failed": 0}
    for i in range(300):
        kind = i % 6
        if kind == 0:
            store.create(new(key=f"r-{i}", state="refused", reason="no consent for marketing", batch="run"))
            expected["refused"] += 1
            continue
        row, _ = store.create(new(key=f"q-{i}", batch="run"))
        assert row.delivery_key is not None
        status, code, message = [
            (None, None, None),
            ("sent", None, None),
            ("delivered", None, None),
            ("read", None, None),
            ("undelivered", "30003", None) if i % 12 == 5 else ("failed", "21610", "unsubscribed recipient"),
        ][kind - 1]
        if status is not None:
            deliver(engine, row.delivery_key, status, at=clock.now, error_code=code, error_message=message)
        expected[{None: "queued", "undelivered": "failed"}.get(status, status or "queued")] += 1
    for i in range(20):
        store.create(new(key=f"other-{i}", state="refused", reason="blocked", batch="other"))

    counts = store.batch_counts("run")

    assert counts == {state: n for state, n in expected.items() if n}
    assert sum(counts.values()) == 300
    reasons = store.batch_reasons("run")
    # most common first, ties by reason
    assert reasons == [("no consent for marketing", 50), ("error 30003", 25), ("unsubscribed recipient", 25)]
    assert store.batch_reasons("run", limit=1) == [("no consent for marketing", 50)]
    assert store.batch_counts("none") == {} and store.batch_reasons("none") == []


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` meanwhile."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_run_of_ten_thousand_is_read_set_based_not_row_by_row(
    store: Notifications, engine: Engine, clock: Clock
) -> None:
    rows: list[dict[str, Any]] = [
        {
            "id": f"ntf_{i:032x}",
            "scope": "cli",
            "kind": "flight_delay",
            "purpose": "service",
            "variables": "{}",
            "state": "queued",
            "delivery_key": f"notification:ntf_{i:032x}",
            "batch": "big",
            "created_at": clock.now,
            "updated_at": clock.now,
        }
        for i in range(10_000)
    ]
    with engine.begin() as conn:
        conn.execute(insert(notifications), rows)
        conn.execute(
            insert(deliveries),
            [
                {
                    "idempotency_key": r["delivery_key"],
                    "channel": "sms",
                    "recipient": "+33612345678",
                    "conversation_id": "sms:+33612345678",
                    "status": "delivered",
                    "created_at": clock.now,
                    "updated_at": clock.now,
                }
                for r in rows[::2]
            ],
        )

    with statements(engine) as seen:
        counts = store.batch_counts("big")
        reasons = store.batch_reasons("big")
        views = store.views([r["id"] for r in rows])

    assert counts == {"delivered": 5000, "queued": 5000} and reasons == []
    assert len(views) == 10_000 and views[0].state == "delivered" and views[1].state == "queued"
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) <= 4, "one query per 5,000 ids at most"
