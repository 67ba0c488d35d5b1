"""Salesforce connector benchmark against the sandbox org: API calls per read and write, memory.

For each size (50,000 and 200,000 leads) the sandbox runs in its own process
(`leadsync sandbox serve --crm salesforce`) and the connector in another, so the connector's peak
RSS is its own. The connector process:

1. creates leadsync's fields (`ensure_schema`, apply);
2. reads every open lead without activity and counts query calls (target `ceil(N/2000)`);
3. reads again with every activity type (leads plus merge-joined Task, Event and CampaignMember
   streams) and writes a changed score for every lead with EVERY output field (fit, interest,
   score, grade, label, qualified, multi-line reasons and changes, scored_at, model_version), page
   by page as the sync engine does, counting write calls (target `ceil(N/1000)`: five 200-record
   collections per composite call);
4. writes all N scores again (every output field) in one `write` call above `bulk_threshold`
   (one Bulk API 2.0 job);
5. reports its peak RSS after step 3 (memory must not grow with N: records are never all held)
   and after step 4 (a single `write` of N changes holds those N changes and the job's CSV).

Goals (issue 12): query calls of the full read at most 1.05x ceil(N/2000), write calls at most
1.05x ceil(N/1000), no write failed, peak RSS flat (largest size at most 1.25x the smallest).
Prints the figures per size and each beside its goal, then one JSON object as the last line
(`bench.goals`). Timings are wall-clock on a shared machine and only indicative.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.goals import Figure, report, shared_cpu  # noqa: E402
from bench.payloads import GRADES, LABELS, outputs  # noqa: E402

SIZES = (50_000, 200_000)
CALLS_GOAL = 1.05
RSS_GOAL = 1.25
FIELDS = ["Title", "Industry", "NumberOfEmployees", "AnnualRevenue", "Country", "LeadSource"]
EVENTS = ["email_open", "email_click", "email_reply", "call", "meeting", "campaign_response"]


def _serve(leads: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    command = [
        str(ROOT / ".venv" / "bin" / "leadsync"),
        "sandbox",
        "serve",
        "--crm",
        "salesforce",
        "--contacts",
        str(leads),
        "--rate-limit",
        "100000000",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise SystemExit(f"the sandbox with {leads} leads did not start")
    return process, json.loads(line)


def _calls(usage: Any, *endpoints: str) -> int:
    return sum(usage.by_endpoint.get(e, 0) for e in endpoints)


def child(leads: int, info: dict[str, Any]) -> dict[str, Any]:
    """Run the connector against a serving sandbox; returns the figures."""
    from pydantic import SecretStr

    from connectors.base import Change
    from connectors.outputs import output_fields
    from connectors.salesforce import SalesforceConnector, SalesforceOptions

    def connect(**kwargs: Any) -> SalesforceConnector:
        options = SalesforceOptions(
            login_url=info["url"],
            client_id=info["client_id"],
            client_secret=SecretStr(info["client_secret"]),
            ca_bundle=info["ca_file"],
            daily_share=1.0,
            timeout=120.0,
            **kwargs,
        )
        return SalesforceConnector(options)

    setup = connect()
    setup.ensure_schema("lead", output_fields(GRADES, LABELS), apply=True)
    setup.close()

    reader = connect()
    started = time.perf_counter()
    records = sum(len(p.records) for p in reader.iter_pages("lead", FIELDS, [], since=None))
    read_s = time.perf_counter() - started
    read_calls = _calls(reader.usage, "query", "query_more")

    syncer = connect(bulk_threshold=10**9)
    stamp = datetime.now(UTC)
    started = time.perf_counter()
    events = written = failed = 0
    for page in syncer.iter_pages("lead", FIELDS, EVENTS, since=None):
        events += sum(len(r.events) for r in page.records)
        changes = [Change(r.id, outputs(len(r.events), stamp)) for r in page.records]
        results = syncer.write("lead", changes)
        written += sum(r.ok for r in results)
        failed += sum(not r.ok for r in results)
    sync_s = time.perf_counter() - started
    streaming_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    write_calls = _calls(syncer.usage, "composite", "composite/sobjects")
    activity_calls = _calls(syncer.usage, "query", "query_more")

    bulk = connect(bulk_threshold=10_000)
    ids = [r.id for p in bulk.iter_pages("lead", ["Title"], [], since=None) for r in p.records]
    started = time.perf_counter()
    before = bulk.usage.calls
    results = bulk.write("lead", [Change(i, outputs(n, stamp)) for n, i in enumerate(ids)])
    bulk_s = time.perf_counter() - started
    bulk_calls = bulk.usage.calls - before
    del ids, results

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "leads": leads,
        "open_leads": records,
        "full_read_query_calls": read_calls,
        "full_read_query_calls_min": math.ceil(records / 2000),
        "full_read_s": round(read_s, 2),
        "activity_events": events,
        "read_with_activity_query_calls": activity_calls,
        "written": written,
        "write_failed": failed,
        "write_calls": write_calls,
        "write_calls_min": math.ceil(written / 1000),
        "read_and_write_s": round(sync_s, 2),
        "bulk_write_calls": bulk_calls,
        "bulk_write_s": round(bulk_s, 2),
        "peak_rss_mb": round(streaming_peak_kb / 1024, 1),
        "peak_rss_with_bulk_mb": round(peak_kb / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--info", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, json.loads(args.info))))
        return
    figures: dict[str, Any] = {}
    for leads in args.sizes:
        started = time.perf_counter()
        server, info = _serve(leads)
        print(f"sandbox with {leads} leads up in {time.perf_counter() - started:.1f}s", flush=True)
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(leads), "--info", json.dumps(info)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        figures[str(leads)] = result
        print(
            f"{leads} leads ({result['open_leads']} open): full read "
            f"{result['full_read_query_calls']} query calls "
            f"(min {result['full_read_query_calls_min']}) in {result['full_read_s']}s; "
            f"with activity {result['read_with_activity_query_calls']} query calls for "
            f"{result['activity_events']} events; writes {result['write_calls']} calls for "
            f"{result['written']} records (min {result['write_calls_min']}, "
            f"{result['write_failed']} failed); Bulk 2.0 {result['bulk_write_calls']} calls; "
            f"peak RSS {result['peak_rss_mb']} MB",
            flush=True,
        )
    judged: list[Figure] = []
    for size, result in figures.items():
        judged += [
            Figure(f"{size}_full_read_calls_ratio",
                   round(result["full_read_query_calls"] / result["full_read_query_calls_min"], 4),
                   CALLS_GOAL, "x", at_most=True),
            Figure(f"{size}_write_calls_ratio",
                   round(result["write_calls"] / max(1, result["write_calls_min"]), 4),
                   CALLS_GOAL, "x", at_most=True),
            Figure(f"{size}_write_failed", result["write_failed"], 0, at_most=True),
        ]  # fmt: skip
    peaks = [result["peak_rss_mb"] for result in figures.values()]
    judged.append(
        Figure("rss_growth", round(max(peaks) / min(peaks), 3), RSS_GOAL, "x", at_most=True,
               note=f"peak RSS {peaks} MB")
    )  # fmt: skip
    report(judged, sizes=figures, **shared_cpu())


if __name__ == "__main__":
    main()
