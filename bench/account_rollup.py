"""Benchmark: account scoring, 10,000 HubSpot companies with about 200,000 associated contacts.

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

    .venv/bin/python bench/account_rollup.py [--companies 10000] [--members 200000] [--runs 3]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.goals import Figure, median, report, shared_cpu
from config.model_loader import load_model
from connectors.base import MemberRequest
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from sandbox.hubspot import HubSpotSandbox
from scoring import score
from scoring.rollup import record_facts

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MODEL = ROOT / "config" / "examples" / "models" / "hubspot-companies.yaml"
CALLS_GOAL = 1.05
RATE_GOAL = 50_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
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
    report(
        [
            Figure("api_calls_ratio", round(ratio, 4), CALLS_GOAL, "x", at_most=True,
                   note=f"{usage.calls:,} calls, minimum {minimum:,}"),
            Figure("rollup_members_per_cpu_s", round(rate), RATE_GOAL, "members/s",
                   note=f"median of {args.runs} runs"),
        ],
        accounts=n,
        member_links=read_members,
        distinct_members=distinct,
        api_calls=usage.calls,
        api_calls_minimum=minimum,
        calls_per_account=round(usage.calls / n, 4),
        rollup_members_per_s_runs=[round(r) for r in rates],
        member_links_expected=member_links,
        **shared_cpu(),
    )  # fmt: skip


if __name__ == "__main__":
    main()
