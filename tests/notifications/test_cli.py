"""``brandbot notify`` as an operator runs it: one notification, and a CSV in bulk with ``--wait``,
on real Redis and SQLite, with Twilio on (a fake API) and workers embedded in the test process.

The bulk run's summary is checked against what the fake Twilio received; the same ``--batch`` again
sends nothing; the pace (``notifications.bulk_per_second``) holds. The pacing and the stop on a store
outage are also checked on a stub notifier with a fake clock (no sleeping)."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from bots.cli import main
from bots.errors import StoreUnavailable
from bots.notifications.bulk import CsvRow, run_bulk
from bots.notifications.service import NotifyRequest
from bots.runtime import start_embedded
from bots.services import build_services
from bots.settings import load_settings
from bots.stores.sql import upgrade
from bots.web.app import create_app
from tests.conftest import REPO
from tests.connectors.conftest import DEFAULT_SID, SMS_FROM, TWILIO_TOKEN, WHATSAPP_FROM, load_fixture
from tests.connectors.test_end_to_end import wait_for
from tests.connectors.test_webhooks_http import PUBLIC, post_twilio
from tests.fakes.twilio_api import FakeTwilioAPI

pytestmark = [pytest.mark.integration]

BULK_PER_SECOND = 100


def cli_config(tmp_path: Path, redis_url: str, nlu_dir: Path, twilio_url: str) -> Path:
    """The shipped config.yaml, its paths made absolute, on the test stores, Twilio on (the fake)."""
    data = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    data["stores"].update(
        redis_url=redis_url, database_url=f"sqlite:///{tmp_path / 'brandbot.db'}", embedded_redis_dir=str(tmp_path)
    )
    data["nlu"].update(data_dir=str(REPO / data["nlu"]["data_dir"]), model_dir=str(nlu_dir))
    data["dialogue"]["domain_file"] = str(REPO / data["dialogue"]["domain_file"])
    data["dialogue"]["actions_options"]["database"] = str(tmp_path / "airline.db")
    data["channels"]["twilio"].update(
        enabled=True,
        account_sid=DEFAULT_SID,
        auth_token=TWILIO_TOKEN,
        sms_from=SMS_FROM,
        whatsapp_from=WHATSAPP_FROM,
        public_url=PUBLIC,
        api_base_url=twilio_url,
        messages_per_second=1000,
    )
    data["notifications"]["bulk_per_second"] = BULK_PER_SECOND
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def live(redis_url, redis_client, demo_nlu_dir: Path, tmp_path: Path) -> Iterator[Any]:
    """``brandbot --config FILE notify ...``, the app (for customers' STOP texts), the fake Twilio."""
    with FakeTwilioAPI() as twilio:
        config = cli_config(tmp_path, redis_url, demo_nlu_dir, twilio.base_url)
        settings = load_settings(config, env={})
        services = build_services(settings)
        upgrade(services.engine)
        client = create_app(settings, services).test_client()
        workers = start_embedded(services, 2)

        def run(*args: str) -> Result:
            return CliRunner().invoke(main, ["--config", str(config), "notify", *args])

        try:
            yield run, client, twilio
        finally:
            workers.stop(timeout=10)
            services.pipeline.close()
            services.close()


def texts_stop(client: Any, number: str, n: int) -> None:
    stop = dict(load_fixture("twilio_sms_text"), Body="STOP", From=number, MessageSid=f"SMstop{n:06d}")
    assert post_twilio(client, stop).status_code == 200


def test_one_notification_is_queued_then_sent_and_exits_0(live) -> None:
    run, _client, twilio = live
    done = run(
        "--kind", "flight_update", "--channel", "sms", "--id", "+33 6 12 34 56 78",
        "--var", "flight=NB1234", "--var", "status=delayed to 18:40", "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    shown = json.loads(done.stdout)
    assert shown["state"] == "queued" and shown["channel"] == "sms" and shown["id"].startswith("ntf_")
    [sent] = wait_for(lambda: twilio.messages(to="+33612345678"))
    assert sent["Body"].startswith("Flight NB1234 update: delayed to 18:40.")


def test_a_refused_notification_exits_1_with_the_reason(live) -> None:
    run, client, twilio = live
    texts_stop(client, "+33611112222", 1)
    refused = run(
        "--kind", "gate_change", "--channel", "sms", "--id", "+33611112222", "--var", "flight=NB1", "--var", "gate=D7"
    )
    assert refused.exit_code == 1, refused.output
    assert "refused" in refused.stdout and "opted out" in refused.stderr
    time.sleep(0.3)
    assert twilio.messages(to="+33611112222") == []


def test_an_invalid_request_exits_2_naming_the_option(live) -> None:
    run, _client, twilio = live
    no_equals = run("--kind", "flight_update", "--channel", "sms", "--id", "+33612345678", "--var", "status")
    assert no_equals.exit_code == 2 and "--var" in no_equals.stderr and "NAME=VALUE" in no_equals.stderr
    missing = run("--kind", "flight_update", "--channel", "sms", "--id", "+33612345678", "--var", "flight=NB1")
    assert missing.exit_code == 2, missing.output
    assert "--var status: is required by flight_update" in missing.stderr
    unknown = run("--kind", "gate_chnage", "--booking", "X7K9QZ")
    assert unknown.exit_code == 2 and "--kind: unknown kind 'gate_chnage'" in unknown.stderr
    half = run("--kind", "flight_update", "--channel", "sms", "--var", "flight=NB1", "--var", "status=ok")
    assert half.exit_code == 2 and "--channel and --id go together" in half.stderr
    assert twilio.messages() == []


def write_bulk_csv(path: Path, rows: int) -> tuple[list[str], list[str], list[int]]:
    """Explicit SMS recipients: every 15th texted STOP before, every 50th row has no status (invalid),
    row 7 has a field too many. Returns (numbers that should get it, opted-out numbers, invalid rows)."""
    reachable: list[str] = []
    stopped: list[str] = []
    invalid: list[int] = []
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["channel", "id", "flight", "status", "language"])
        for n in range(1, rows + 1):
            number = f"+3361{n:07d}"
            if n == 7:
                out.writerow(["sms", number, "NB7", "on time", "en", "extra"])
                invalid.append(n)
            elif n % 50 == 0:
                out.writerow(["sms", number, f"NB{n}", "", "en"])
                invalid.append(n)
            else:
                out.writerow(["sms", number, f"NB{n}", "delayed to 18:40", "fr" if n % 3 == 0 else ""])
                (stopped if n % 15 == 0 else reachable).append(number)
    return reachable, stopped, invalid


def test_a_bulk_csv_is_paced_accounted_for_and_never_sent_twice(live, tmp_path: Path) -> None:
    run, client, twilio = live
    reachable, stopped, invalid = write_bulk_csv(tmp_path / "delays.csv", 300)
    for i, number in enumerate(stopped):
        texts_stop(client, number, i)
    before = len(twilio.messages())

    started = time.monotonic()
    done = run(
        "--kind",
        "flight_update",
        "--csv",
        str(tmp_path / "delays.csv"),
        "--batch",
        "delays-1",
        "--wait",
        "60",
        "--json",
    )
    elapsed = time.monotonic() - started
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["complete"] and summary["pending"] == 0
    assert [i["row"] for i in summary["invalid"]] == invalid
    assert "variables.status: is empty" in summary["invalid"][1]["reason"]
    assert "has 6 fields" in summary["invalid"][0]["reason"]
    counts = summary["counts"]
    assert counts["refused"] == len(stopped)
    assert counts["sent"] + counts["delivered"] + counts["read"] == len(reachable)
    assert counts["failed"] == 0 and summary["accounted"] == len(reachable) + len(stopped)
    assert summary["reasons"][0]["count"] == len(stopped) and "opted out" in summary["reasons"][0]["reason"]
    # at most bulk_per_second rows a second: 300 rows take about 3 s to queue
    assert summary["enqueue_seconds"] >= (300 - 1) / BULK_PER_SECOND - 0.05 and elapsed >= 2.9
    assert summary["enqueued_per_second"] <= BULK_PER_SECOND * 1.02

    received = twilio.messages()[before:]
    assert sorted(m["To"] for m in received) == sorted(reachable)
    assert not set(stopped) & {m["To"] for m in received}
    assert any(m["Body"].startswith("Vol NB3 : delayed to 18:40") for m in received)

    again = run("--kind", "flight_update", "--csv", str(tmp_path / "delays.csv"), "--batch", "delays-1", "--wait", "5")
    assert again.exit_code == 0, again.output
    assert "delays-1" in again.stdout and "invalid rows" in again.stdout
    time.sleep(0.5)
    assert len(twilio.messages()) == before + len(reachable)


# -- the pace and a store outage, on a stub notifier with a fake clock ---------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class StubStore:
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.counts = counts

    def batch_counts(self, batch: str) -> dict[str, int]:
        return self.counts()

    def batch_reasons(self, batch: str, limit: int = 10) -> list[tuple[str, int]]:
        return []


class StubNotifier:
    """Records when each request came; raises StoreUnavailable for the row numbers in ``down``."""

    def __init__(self, clock: FakeClock, down: frozenset[int] = frozenset()) -> None:
        self.clock, self.down, self.at = clock, down, list[float]()
        self.notifications = StubStore(lambda: {"sent": len(self.at)})

    def notify(self, request: NotifyRequest) -> None:
        number = int((request.idempotency_key or "x:0").rsplit(":", 1)[1])
        if number in self.down:
            raise StoreUnavailable("Redis at redis://127.0.0.1:6379/5 does not answer")
        self.at.append(self.clock())


def requests(n: int) -> list[CsvRow]:
    return [
        CsvRow(i, NotifyRequest("flight_update", {"flight": "NB1"}, booking="X7K9QZ", idempotency_key=f"b:{i}"))
        for i in range(1, n + 1)
    ]


def test_rows_are_queued_on_a_schedule_of_per_second_and_never_faster() -> None:
    clock = FakeClock()
    notifier = StubNotifier(clock)
    report = run_bulk(
        notifier, requests(250), kind="flight_update", batch="b", per_second=100, clock=clock, sleep=clock.sleep
    )
    assert report.taken == 250 and report.complete
    assert [round(t - 1000.0, 6) for t in notifier.at] == [round(i / 100, 6) for i in range(250)]
    assert report.enqueue_seconds == pytest.approx(2.49)


def test_a_store_outage_stops_the_run_at_its_row_to_resume_from() -> None:
    clock = FakeClock()
    notifier = StubNotifier(clock, down=frozenset({5}))
    report = run_bulk(
        notifier, requests(9), kind="flight_update", batch="b", per_second=1000, clock=clock, sleep=clock.sleep
    )
    assert report.stopped_at == 5 and report.taken == 4 and not report.complete
    assert "does not answer" in (report.stop_error or "")


def test_the_summary_shows_reasons_with_brackets_as_text() -> None:
    """A reason quotes what a CSV row held ('[/x]'): shown as written, never read as table markup."""
    from bots.cli._state import render_table
    from bots.cli.notify import _summary_tables
    from bots.notifications.bulk import BulkReport

    report = BulkReport("b1", "flight_update", 2, invalid=[(1, "recipient: '[/x]' is not a Messenger id")])
    report.reasons = [("sms: [bold]no[/] consent", 1)]
    shown = "\n".join(render_table(t) for t in _summary_tables(report))
    assert "'[/x]'" in shown and "[bold]no[/] consent" in shown
