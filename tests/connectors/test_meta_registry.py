"""Meta's connectors built from ``channels.meta``, its config mistakes, and ``brandbot doctor``'s token check."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bots.channel_registry import build_connectors, check_credentials
from bots.cli import main
from bots.errors import ConfigError
from bots.runtime import close_connectors
from connectors.base import Outbound
from connectors.meta import InstagramConnector, MessengerConnector, WhatsAppCloudConnector
from tests.fakes.graph_api import DEFAULT_PHONE_NUMBER_ID, FakeGraphAPI

from .conftest import meta_config

pytestmark = pytest.mark.integration  # real Redis and the fake Graph API

WIDE = {"COLUMNS": "300"}  # one table row per line


def test_each_configured_account_gets_its_connector(make_settings, redis_client, fake_graph: FakeGraphAPI) -> None:
    conns = build_connectors(make_settings({"channels": {"meta": meta_config(fake_graph)}}), redis_client)
    try:
        assert isinstance(conns["messenger"], MessengerConnector)
        assert isinstance(conns["instagram"], InstagramConnector)
        assert isinstance(conns["whatsapp_cloud"], WhatsAppCloudConnector)
        assert all(c.channel == name for name, c in conns.items())
        assert all(check_credentials(c) is None for c in conns.values())
    finally:
        close_connectors(conns)


def test_only_the_products_with_an_id_are_on(make_settings, redis_client, fake_graph: FakeGraphAPI) -> None:
    cfg = meta_config(fake_graph, page_id="", instagram_account_id="")
    assert set(build_connectors(make_settings({"channels": {"meta": cfg}}), redis_client)) == {"whatsapp_cloud"}


def test_whatsapp_templates_come_from_the_settings(make_settings, redis_client, fake_graph: FakeGraphAPI) -> None:
    templates = {"reply": {"name": "service_reply", "language": "fr", "variables": ["{text}"]}}
    cfg = meta_config(fake_graph, whatsapp={"templates": templates})
    conns = build_connectors(make_settings({"channels": {"meta": cfg}}), redis_client)
    cloud = conns["whatsapp_cloud"]
    assert isinstance(cloud, WhatsAppCloudConnector) and cloud.template_kinds() == ("reply",)
    cloud.send(Outbound("whatsapp_cloud", "+33612345678", "Bonjour"))  # nobody wrote: the window is closed
    [sent] = fake_graph.sends(DEFAULT_PHONE_NUMBER_ID)
    assert sent["template"]["name"] == "service_reply" and sent["template"]["language"] == {"code": "fr"}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"app_secret": ""}, "META_APP_SECRET"),
        ({"verify_token": ""}, "META_VERIFY_TOKEN"),
        ({"access_token": ""}, "META_ACCESS_TOKEN"),
        ({"page_id": "", "instagram_account_id": "", "whatsapp_phone_number_id": ""}, "META_PAGE_ID"),
        ({"page_id": "my-page"}, "page_id"),
        ({"whatsapp": {"templates": {"reply": {"name": "Has Spaces"}}}}, "name"),
        ({"whatsapp": {"templates": {"reply": {"name": "ok", "variables": ["{booking}"]}}}}, "booking"),
    ],
)
def test_a_config_mistake_names_the_key_or_the_variable(make_settings, redis_client, fake_graph, change, named) -> None:
    with pytest.raises(ConfigError, match=named):
        build_connectors(make_settings({"channels": {"meta": meta_config(fake_graph, **change)}}), redis_client)


def test_doctor_checks_the_token_against_the_api(write_config, redis_url, sqlite_url, fake_graph) -> None:
    stores = {"redis_url": redis_url, "database_url": sqlite_url}
    good = write_config({"stores": stores, "channels": {"meta": meta_config(fake_graph)}}, name="good.yaml")
    result = CliRunner().invoke(main, ["--config", str(good), "doctor"], env=WIDE)
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") >= 4}
    for channel in ("messenger", "instagram", "whatsapp_cloud"):
        assert "ok" in rows[f"channel {channel}"], result.output
    bad = write_config(
        {"stores": stores, "channels": {"meta": meta_config(fake_graph, access_token="EAAexpired")}}, name="bad.yaml"
    )
    result = CliRunner().invoke(main, ["--config", str(bad), "doctor"], env=WIDE)
    assert result.exit_code == 1
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") >= 4}
    assert "FAIL" in rows["channel messenger"] and "190" in result.output, result.output
