"""A process's services close the connectors built for it: the Telegram connector's event loop
thread is not a daemon, so an embedded worker process left open by it never exits (seen from
outside: `brandbot serve` killed with SIGKILL left its worker child running)."""

from __future__ import annotations

import threading

from bots.services import build_services
from connectors.base import Outbound


def test_closing_the_services_closes_the_connectors_and_their_event_loop_thread(telegram, make_settings) -> None:
    services = build_services(make_settings())
    services.connectors = {"telegram": telegram}
    telegram.send(Outbound("telegram", "5123456789", "Your flight KL1234 is on time."))
    assert any(t.name == "telegram-connector" and t.is_alive() for t in threading.enumerate())
    services.close()
    assert not any(t.name == "telegram-connector" and t.is_alive() for t in threading.enumerate())
