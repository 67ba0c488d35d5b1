"""A connection's settings become the connectors' option objects with secrets still hidden."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from config.settings import (
    HubSpotSettings,
    OutageSettings,
    ReadSettings,
    SalesforceSettings,
    WriteSettings,
)
from connectors.hubspot import HubSpotOptions
from connectors.salesforce import SalesforceOptions
from sync.connections import hubspot_options, salesforce_options
from sync.engine import RunOptions
from sync.outage import OutagePolicy

TOKEN = SecretStr("token-never-shown")
SECRET = SecretStr("client-secret-never-shown")
HUBSPOT: dict[str, Any] = {"client_id": "app-1", "client_secret": SECRET, "refresh_token": TOKEN}
SALESFORCE: dict[str, Any] = {
    "login_url": "https://login.salesforce.com",
    "client_id": "3MVG9",
    "client_secret": SECRET,
    "session_id": TOKEN,
    "instance_url": "https://acme.my.salesforce.com",
}


@pytest.mark.parametrize(
    ("settings", "convert", "expected"),
    [
        (
            HubSpotSettings(**HUBSPOT, tier="enterprise", ca_bundle=Path("/etc/ca.pem")),
            hubspot_options,
            HubSpotOptions(
                base_url="https://api.hubapi.com",
                **HUBSPOT,
                tier="enterprise",
                ca_bundle="/etc/ca.pem",
            ),
        ),
        (
            SalesforceSettings(**SALESFORCE, bulk_threshold=500),
            salesforce_options,
            SalesforceOptions(**SALESFORCE, bulk_threshold=500),
        ),
    ],
)
def test_options_keep_every_secret_a_secret_str(
    settings: Any, convert: Callable[[Any], Any], expected: Any
) -> None:
    options = convert(settings)
    assert options == expected
    assert type(options.client_secret) is SecretStr
    assert SECRET.get_secret_value() not in repr(options)
    assert TOKEN.get_secret_value() not in repr(options)


@pytest.mark.parametrize("section", [HubSpotSettings, SalesforceSettings])
def test_a_connector_section_states_no_default_of_its_own(section: Any) -> None:
    # every default lives in the connector's options; None only says "not set"
    defaults = {name: f.default for name, f in section.model_fields.items() if not f.is_required()}
    assert set(defaults.values()) == {None}


def test_keys_left_out_take_the_connectors_defaults() -> None:
    assert hubspot_options(HubSpotSettings(**HUBSPOT)) == HubSpotOptions(**HUBSPOT)
    assert salesforce_options(SalesforceSettings(**SALESFORCE)) == SalesforceOptions(**SALESFORCE)
    assert HubSpotOptions().base_url == "https://api.hubapi.com"


def test_engine_defaults_are_the_configuration_defaults() -> None:
    write, read, outage = WriteSettings(), ReadSettings(), OutageSettings()
    options = RunOptions()
    assert (options.min_points_change, options.chunk_size, options.overlap) == (
        write.min_points_change,
        write.chunk_size,
        read.overlap,
    )
    assert OutagePolicy() == OutagePolicy.of(outage.first_pause, outage.max_pause)
