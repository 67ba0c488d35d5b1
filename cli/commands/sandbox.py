"""`leadsync sandbox serve`: run a local HubSpot- or Salesforce-compatible CRM until Ctrl-C.

Prints one JSON line with what a client needs (base URL, credentials of the sandbox itself:
HubSpot's token and OAuth app, Salesforce's connected app and the JWT username and key file; the
CA bundle when serving TLS), then serves. The credentials are the sandbox's own throwaway ones.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import click


@click.group("sandbox")
def sandbox_group() -> None:
    """Local CRM sandboxes for demos, tests and benchmarks."""


@sandbox_group.command("serve")
@click.option(
    "--crm", type=click.Choice(["hubspot", "salesforce"]), default="hubspot", show_default=True
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="0 picks a free port.")
@click.option(
    "--contacts",
    type=click.IntRange(0),
    default=1000,
    show_default=True,
    help="Contacts to generate (Salesforce: leads).",
)
@click.option(
    "--accounts",
    type=click.IntRange(1),
    default=None,
    help="Companies (HubSpot) or Accounts (Salesforce) to generate (default: one per 20 "
    "contacts or leads).",
)
@click.option(
    "--buying-committees",
    is_flag=True,
    help="Accounts whose people engage together, a hidden won deal or opportunity per account "
    "that the breadth predicts, and (Salesforce) leads matched to accounts by domain.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same data.")
@click.option(
    "--latency-ms",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Median simulated latency per request.",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(1),
    default=None,
    help="HubSpot: requests per rolling 10 s per app (default 190). "
    "Salesforce: API requests per 24 h (default 100000).",
)
@click.option("--tls", is_flag=True, help="Serve HTTPS with a generated CA (Salesforce always).")
@click.option(
    "--max-version",
    type=click.FloatRange(31.0, 67.0),
    default=67.0,
    show_default=True,
    help="Salesforce: the newest API version the org serves (ListEmailSentResult needs 67.0).",
)
@click.option(
    "--list-email-engagement/--no-list-email-engagement",
    default=True,
    show_default=True,
    help="Salesforce: whether ListEmailSentResult has its engagement fields (an org feature).",
)
def serve_command(  # noqa: PLR0913  click passes each option as a keyword
    *,
    crm: str,
    port: int,
    contacts: int,
    accounts: int | None,
    buying_committees: bool,
    seed: int,
    latency_ms: float,
    rate_limit: int | None,
    tls: bool,
    max_version: float,
    list_email_engagement: bool,
) -> None:
    """Serve a sandbox CRM on 127.0.0.1 until interrupted."""
    try:
        server, info = _start(
            crm=crm,
            port=port,
            contacts=contacts,
            accounts=accounts,
            buying_committees=buying_committees,
            seed=seed,
            latency_ms=latency_ms,
            rate_limit=rate_limit,
            tls=tls,
            org={"max_version": max_version, "list_email_engagement": list_email_engagement},
        )
    except OSError as exc:
        raise click.BadParameter(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); "
            "pick another --port, or 0 for a free one",
            param_hint="--port",
        ) from exc
    click.echo(json.dumps(info), nl=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _start(  # noqa: PLR0913  the options of `serve`, passed on
    *,
    crm: str,
    port: int,
    contacts: int,
    accounts: int | None,
    buying_committees: bool,
    seed: int,
    latency_ms: float,
    rate_limit: int | None,
    tls: bool,
    org: dict[str, Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Start the chosen sandbox; return it with the JSON line `serve` prints (`org`: the
    Salesforce org's API versions and features, `SalesforceSandbox`'s keywords)."""
    server: Any
    if crm == "hubspot":
        from sandbox.hubspot import HubSpotSandbox

        server = HubSpotSandbox(
            contacts=contacts,
            companies=accounts,
            buying_committees=buying_committees,
            seed=seed,
            latency_ms=latency_ms,
            rate_limit_10s=rate_limit or 190,
            tls=tls,
            port=port,
        ).start()
        info = {
            "crm": crm,
            "url": server.url,
            "token": server.token,
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "refresh_token": server.refresh_token,
            "ca_file": server.ca_file,
        }
    else:
        from sandbox.salesforce import SalesforceSandbox

        server = SalesforceSandbox(
            leads=contacts,
            accounts=accounts,
            buying_committees=buying_committees,
            seed=seed,
            latency_ms=latency_ms,
            daily_api_limit=rate_limit or 100_000,
            port=port,
            **(org or {}),
        ).start()
        info = {
            "crm": crm,
            "url": server.url,
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "username": server.username,
            "private_key_file": server.private_key_file,
            "ca_file": server.ca_file,
        }
    return server, info


def register(group: click.Group) -> None:
    """Add `sandbox` to the `leadsync` group."""
    group.add_command(sandbox_group)
