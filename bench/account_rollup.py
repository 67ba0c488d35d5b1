"""Benchmark: account scoring, 10,000 HubSpot companies with about 200,000 associated contacts,
and Salesforce Accounts with their Contacts and domain-matched Leads.

Setup: the HubSpot sandbox in this process (no rate limit, no latency: the figure is API calls,
not seconds) with `--companies` companies and enough contacts that `--members` of them belong
to a company (the generator links 85% of contacts to a company), and the example account model
`config/examples/models/hubspot-companies.yaml`.

* calls: one full read of every company with its people (`iter_pages(..., members=...)`, what a
  full account run reads), API calls by endpoint, against the minimum at the API's batch sizes:
  `ceil(companies/100)` list pages + `ceil(companies/1000)` association batch reads (plus the
  per-result pages HubSpot returns for companies with more than 100 contacts, counted by the
  sandbox) + `ceil(distinct members/100)` contact batch reads. Goal: at most 1.05x; calls per
  account reported.
* roll-up: `record_facts` + `scoring.score` of every company with its people, on one core
  (one thread, the sandbox stopped), timed in CPU seconds of this process (`process_time`: on a
  machine shared with other work, wall time counts the time others ran) over `--runs` runs
  (median, wall time printed beside it); members per CPU second. Goal: at least 50,000.

* salesforce (`--crm salesforce` or `both`): the Salesforce sandbox in this process with
  `--sf-accounts` Accounts, `--sf-leads` leads (a quarter as many Contacts, spread over the
  Accounts) and buying committees (0-3 more Leads on each Account's domain), and the example
  model `config/examples/models/salesforce-accounts.yaml`. One full read of every Account with
  its people (what a full account run reads: Accounts, every Contact and every
  unconverted Lead, each with its activity in the roll-ups' horizon). Query calls against the
  minimum: for each object read (one query each: Account, Contact, Lead, and per activity
  object merge-joined with them), ceil(rows / 2,000) calls, subquery rows counted as Salesforce
  counts them, one call at least. Goal: at most 1.05x; calls per account reported. The rows
  are the reader's count, so the number of queries it sent is judged on its own against the
  design, worked out from the activity objects the model's events need (`salesforce_queries`:
  3 + 2 per object queried on its own). Then every Contact is retitled and an incremental
  read recomputes their Accounts (here most of the org changed, so it recomputes every Account
  from one whole read rather than page the changed lists first): its calls against the full
  read's (goal: at most). Then the
  roll-up of every Account from its people (their activity as events), members per CPU second.

    .venv/bin/python bench/account_rollup.py [--crm both] [--companies 10000] [--members 200000]
        [--runs 3] [--sf-accounts 10000] [--sf-leads 100000]
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.goals import Figure, median, report, shared_cpu
from config.model_loader import load_model
from connectors.base import MemberRequest
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from connectors.salesforce import SalesforceConnector, SalesforceOptions
from connectors.salesforce.activity import sources_for
from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from scoring import score
from scoring.rollup import record_facts
from sync.run import member_request

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MODEL = ROOT / "config" / "examples" / "models" / "hubspot-companies.yaml"
SF_MODEL = ROOT / "config" / "examples" / "models" / "salesforce-accounts.yaml"
CALLS_GOAL = 1.05
RATE_GOAL = 50_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crm", choices=("hubspot", "salesforce", "both"), default="both")
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sf-accounts", type=int, default=10_000)
    parser.add_argument("--sf-leads", type=int, default=100_000)
    args = parser.parse_args()
    figures: list[Figure] = []
    context: dict[str, Any] = {}
    for crm, section in (("hubspot", hubspot), ("salesforce", salesforce)):
        if args.crm in (crm, "both"):
            found, more = section(args)
            figures += found
            context.update(more)
    report(figures, **context, **shared_cpu())


def hubspot(args: argparse.Namespace) -> tuple[list[Figure], dict[str, Any]]:
    """Read every HubSpot company with its contacts once, then time the roll-up."""
    model = load_model(MODEL)
    assert model.rollup is not None
    contacts = round(args.members / 0.85)
    t0 = time.perf_counter()
    sb = HubSpotSandbox(
        contacts=contacts,
        companies=args.companies,
        now=NOW,
        rate_limit_10s=10_000_000,
        search_per_second=1_000_000,
        association_limit_10s=10_000_000,  # the clock stands still: no window ever slides
        buying_committees=True,
        clock=NOW.timestamp,
    ).start()
    print(
        f"sandbox: {contacts:,} contacts, {args.companies:,} companies in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    try:
        links = sb.store.associations[("companies", "contacts")]
        distinct = len({c for linked in links.values() for c in linked})
        member_links = sum(len(linked) for linked in links.values())
        extra_pages = sum(max(0, math.ceil(len(linked) / 100) - 1) for linked in links.values())
        conn = HubSpotConnector(
            HubSpotOptions(base_url=sb.url, access_token=SecretStr(sb.token), timeout=60)
        )
        request = MemberRequest(model.rollup.properties, model.rollup.event_types)
        t0 = time.perf_counter()
        accounts = [
            record
            for page in conn.iter_pages(
                "company", model.properties, (), since=None, members=request
            )
            for record in page.records
        ]
        read_s = time.perf_counter() - t0
        usage = conn.usage
        conn.close()
    finally:
        sb.stop()
    n = len(accounts)
    minimum = math.ceil(n / 100) + math.ceil(n / 1000) + extra_pages + math.ceil(distinct / 100)
    ratio = usage.calls / minimum
    read_members = sum(len(a.members) for a in accounts)
    print(
        f"read {n:,} companies with {read_members:,} member links ({distinct:,} distinct "
        f"contacts) in {read_s:.1f} s"
    )
    print(f"calls {usage.calls:,} by endpoint {dict(sorted(usage.by_endpoint.items()))}")
    print(f"minimum {minimum:,}; {usage.calls / n:.4f} calls per account")

    rates = []
    for run in range(args.runs):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for account in accounts:
            facts = record_facts(account.members, model.rollup, NOW)
            score(account, model, NOW, members=facts)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        rates.append(read_members / cpu)
        print(
            f"roll-up run {run + 1}: {read_members:,} members in {cpu:.2f} CPU s "
            f"({wall:.2f} s wall) = {rates[-1]:,.0f} members per CPU second"
        )
    rate = median(rates)
    figures = [
        Figure("api_calls_ratio", round(ratio, 4), CALLS_GOAL, "x", at_most=True,
               note=f"{usage.calls:,} calls, minimum {minimum:,}"),
        Figure("rollup_members_per_cpu_s", round(rate), RATE_GOAL, "members/s",
               note=f"median of {args.runs} runs"),
    ]  # fmt: skip
    context = {
        "accounts": n,
        "member_links": read_members,
        "distinct_members": distinct,
        "api_calls": usage.calls,
        "api_calls_minimum": minimum,
        "calls_per_account": round(usage.calls / n, 4),
        "rollup_members_per_s_runs": [round(r) for r in rates],
        "member_links_expected": member_links,
    }
    return figures, context


def salesforce(args: argparse.Namespace) -> tuple[list[Figure], dict[str, Any]]:
    """Read every Salesforce Account with its people once, as a full account run does;
    query calls against each object read once at 2,000 rows a page."""
    model = load_model(SF_MODEL)
    request = member_request(model)
    assert request is not None
    t0 = time.perf_counter()
    sb = SalesforceSandbox(
        leads=args.sf_leads,
        accounts=args.sf_accounts,
        buying_committees=True,
        now=NOW,
        daily_api_limit=10_000_000,
    ).start()
    print(
        f"salesforce sandbox: {args.sf_leads:,} leads, {args.sf_accounts:,} accounts in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    try:
        conn = SalesforceConnector(
            SalesforceOptions(
                login_url=sb.url,
                client_id=sb.client_id,
                client_secret=SecretStr(sb.client_secret),
                ca_bundle=sb.ca_file,
                timeout=120,
            )
        )
        t0 = time.perf_counter()
        accounts = [
            record
            for page in conn.iter_pages(
                "account", sorted(model.properties), (), since=None, members=request
            )
            for record in page.records
        ]
        read_s = time.perf_counter() - t0
        usage, stats = copy.deepcopy(conn.usage), conn.stats  # the full read's, kept
        full_calls = usage.calls
        # every Contact retitled a minute on: an incremental read recomputes their Accounts
        since = NOW + timedelta(seconds=sb.store.now() - sb.store.now_epoch + 60)
        sb.store.advance(120)
        with sb.store.lock:
            for contact_id in list(sb.store.table("Contact")):
                sb.store.update("Contact", contact_id, {"Title": "VP Sales"},
                                user=sb.store.sales_users[0], auto_assign=False,
                                stamp=sb.store.now())  # fmt: skip
        changed = sum(
            len(page.records)
            for page in conn.iter_pages(
                "account", sorted(model.properties), (), since=since, members=request
            )
        )
        incremental_calls = conn.usage.calls - full_calls
        # the queries the design calls for, worked out apart from the reader: Account,
        # Contact and Lead, and each activity object queried on its own (`direct`; EmailStatus
        # rides in the people's queries) once per kind of person
        extra = conn.list_email_access().source(request.event_types)
        designed = 3 + 2 * sum(s.direct for s in sources_for(request.event_types, extra))
        conn.close()
    finally:
        sb.stop()
    n = len(accounts)
    links = sum(len(a.members) for a in accounts)
    queries = usage.by_endpoint.get("query", 0) + usage.by_endpoint.get("query_more", 0)
    # the reader's own sum of ceil(rows/2,000) over the queries it sent: the query count is
    # checked against the design (`designed`) below, so an extra query cannot hide in it
    minimum = stats["query_calls_minimum"]
    ratio = queries / minimum
    print(
        f"read {n:,} accounts with {links:,} people ({stats['queries']} queries, "
        f"{stats['query_rows']:,} rows incl. activity) in {read_s:.1f} s"
    )
    print(f"calls {usage.calls:,} by endpoint {dict(sorted(usage.by_endpoint.items()))}")
    print(f"query calls {queries:,}, minimum {minimum:,}; {usage.calls / n:.4f} calls per account")
    print(f"incremental read recomputing {changed:,} accounts: {incremental_calls:,} calls")
    assert model.rollup is not None
    rates = []
    for run in range(args.runs):
        cpu0 = time.process_time()
        for account in accounts:
            score(account, model, NOW, members=record_facts(account.members, model.rollup, NOW))
        cpu = time.process_time() - cpu0
        rates.append(links / cpu)
        print(f"roll-up run {run + 1}: {links:,} people in {cpu:.2f} CPU s")
    figures = [
        Figure("salesforce_query_calls_ratio", round(ratio, 4), CALLS_GOAL, "x", at_most=True,
               note=f"{queries:,} query calls, minimum {minimum:,}"),
        Figure("salesforce_queries", stats["queries"], designed, "queries", at_most=True,
               note="Account, Contact, Lead and each activity object per kind of person"),
        Figure("salesforce_incremental_account_calls", incremental_calls, full_calls, "calls",
               at_most=True, note=f"{changed:,} accounts recomputed; goal: the full read's calls"),
        Figure("salesforce_rollup_members_per_cpu_s", round(median(rates)), RATE_GOAL,
               "members/s", note=f"median of {args.runs} runs; people with their activity"),
    ]  # fmt: skip
    context = {
        "salesforce_accounts": n,
        "salesforce_member_links": links,
        "salesforce_api_calls": usage.calls,
        "salesforce_query_calls": queries,
        "salesforce_query_calls_minimum": minimum,
        "salesforce_calls_per_account": round(usage.calls / n, 4),
        "salesforce_incremental_accounts": changed,
    }
    return figures, context


if __name__ == "__main__":
    main()
