"""Build a connector and run options from a connection's configuration.

This is the only place that maps configuration keys onto the connectors' option objects
(`HubSpotOptions`, `SalesforceOptions`), so a renamed or added connector option changes one
function here. Secrets pass through as `SecretStr`; only the connectors' HTTP calls reveal them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.settings import (
    MAX_CHUNK_SIZE,
    ConnectionSettings,
    HubSpotSettings,
    SalesforceSettings,
)
from connectors.base import CallMeter, Connector
from sync.account_day import DailyWindow
from sync.call_log import CallLog
from sync.engine import RunOptions
from sync.outage import OutagePolicy
from sync.state.store import StateStore

if TYPE_CHECKING:
    from connectors.hubspot.options import HubSpotOptions
    from connectors.salesforce.options import SalesforceOptions


def build_connector(
    conn: ConnectionSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    day: DailyWindow | None = None,
    meter: CallMeter | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> Connector:
    """A connector for `conn` (the vendor SDK is imported only for the CRM in use).

    `day` (normally `sync.account_day.daily_window(store, conn, now)`) seeds the connector's
    daily cap (HubSpot `daily_budget`, Salesforce `daily_share`) with the calls this
    connection already made in the CRM's current day in earlier processes, and gives a HubSpot
    connector the account's time zone an earlier process learned; without it the cap would
    restart from zero in every process. `meter` (normally a `sync.call_log.CallLog`) is told of
    every call the connector sends, to record it in the state store. `checkpoint`
    (`sync.shutdown.stop_checkpoint`) is called by the Salesforce reader before each query call.
    """
    daily_used = 0 if day is None else day.calls
    # a kind's further models write their own outputs (`pl_a_score`)
    namespaces = tuple(dict.fromkeys(o.namespace for o in conn.objects if o.namespace))
    if conn.crm == "hubspot":
        from connectors.hubspot import HubSpotConnector

        hub = conn.hubspot
        assert hub is not None  # guaranteed by ConnectionSettings validation
        options = replace(hubspot_options(hub), output_namespaces=namespaces)
        zone = None if day is None else day.given_zone
        return HubSpotConnector(options, daily_used=daily_used, zone=zone, sleep=sleep, meter=meter)
    from connectors.salesforce import SalesforceConnector

    sf = conn.salesforce
    assert sf is not None
    sf_options = replace(salesforce_options(sf), output_namespaces=namespaces)
    return SalesforceConnector(
        sf_options,
        daily_used=daily_used,
        sleep=sleep,
        meter=meter,
        checkpoint=checkpoint or (lambda: None),
    )


@contextmanager
def metered_connector(  # noqa: PLR0913  the connection and its runtime seams, keyword-only
    store: StateStore,
    conn: ConnectionSettings,
    *,
    command: str,
    sleep: Callable[[float], None] = time.sleep,
    day: DailyWindow | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> Iterator[tuple[Connector, CallLog]]:
    """`build_connector` whose every API call is recorded in `store` for `command` (the
    leadsync command's name), with the `CallLog` doing it (an `Engine` attributes its runs'
    calls through it); closed afterwards, the last calls recorded."""
    calls = CallLog(store, conn.name, command=command)
    connector = build_connector(conn, sleep=sleep, day=day, meter=calls, checkpoint=checkpoint)
    try:
        yield connector, calls
    finally:
        try:
            connector.close()
        finally:
            calls.close()


def hubspot_options(hub: HubSpotSettings) -> HubSpotOptions:
    """The HubSpot connector's options from a connection's `hubspot` section; keys the section
    leaves out take `HubSpotOptions`' defaults."""
    from connectors.hubspot.options import HubSpotOptions

    return HubSpotOptions(
        **_given(
            base_url=hub.base_url,
            access_token=hub.access_token,
            client_id=hub.client_id,
            client_secret=hub.client_secret,
            refresh_token=hub.refresh_token,
            tier=hub.tier,
            ca_bundle=_path(hub.ca_bundle),
            timeout=hub.timeout,
            daily_budget=hub.daily_budget,
        )
    )


def salesforce_options(sf: SalesforceSettings) -> SalesforceOptions:
    """The Salesforce connector's options from a connection's `salesforce` section; keys the
    section leaves out take `SalesforceOptions`' defaults."""
    from connectors.salesforce.options import SalesforceOptions

    return SalesforceOptions(
        login_url=sf.login_url,
        **_given(
            client_id=sf.client_id,
            client_secret=sf.client_secret,
            username=sf.username,
            private_key_file=_path(sf.private_key_file),
            session_id=sf.session_id,
            instance_url=sf.instance_url,
            api_version=sf.api_version,
            ca_bundle=_path(sf.ca_bundle),
            timeout=sf.timeout,
            daily_share=sf.daily_share,
            bulk_threshold=sf.bulk_threshold,
            sales_permission_set=sf.sales_permission_set,
        ),
    )


def _given(**values: Any) -> dict[str, Any]:
    """The options a configuration section sets (None: not set, the option's default holds)."""
    return {name: value for name, value in values.items() if value is not None}


def _path(path: Path | None) -> str | None:
    return None if path is None else str(path)


def run_options(conn: ConnectionSettings, *, full: bool, dry_run: bool) -> RunOptions:
    """Engine options for one run of `conn`."""
    return RunOptions(
        full=full,
        dry_run=dry_run,
        min_points_change=conn.write.min_points_change,
        overlap=conn.read.overlap,
        chunk_size=write_chunk(conn, full=full),
    )


def write_chunk(conn: ConnectionSettings, *, full: bool) -> int:
    """How many planned writes the engine hands the connector at once.

    The Salesforce connector switches to one Bulk API 2.0 job (about 7 calls whatever its size)
    when a single write has `bulk_threshold` changes, but the engine hands writes over in
    chunks, so a full rescore gets chunks of `bulk_threshold` (50,000 changes: 5 jobs instead
    of 50 composite calls). Only full runs: an incremental run holds up to 20 chunks in memory
    before writing, and dead-letter retries fetch records a chunk at a time.
    """
    size = conn.write.chunk_size
    if not full or conn.salesforce is None:
        return size
    threshold = salesforce_options(conn.salesforce).bulk_threshold
    # A full run's chunk may grow to `bulk_threshold` up to the largest `write.chunk_size`: a
    # threshold above it disables Bulk
    return max(size, threshold) if threshold <= MAX_CHUNK_SIZE else size


def outage_policy(conn: ConnectionSettings) -> OutagePolicy:
    """How long runs of `conn` ride out a CRM outage."""
    return OutagePolicy.of(conn.outage.first_pause, conn.outage.max_pause)
