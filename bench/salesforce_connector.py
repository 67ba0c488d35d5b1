"""Salesforce connector benchmark: API calls of a full sync with the example model, against the
minimum Salesforce's batch sizes allow.

For each size (50,000 leads by default) the sandbox runs in its own process
(`leadsync sandbox serve --crm salesforce`) and the connector in another, so the connector's peak
RSS is its own. The connector process:

1. creates leadsync's fields (`ensure_schema`, apply);
2. reads every open lead with the fields and event types of the example model
   (`config/examples/models/salesforce-leads.yaml`: calls, meetings, campaign responses and email
   opens, clicks and replies; list-email results at API 67.0 where the org has them), scores
   every lead with that model and writes the results in
   chunks of 1,000 as the sync engine does (`write.chunk_size`), through composite calls;
3. counts the rows Salesforce had to return, with a separate connector whose calls are not in
   the figures: the open leads `N`, the rows of every activity object read on its own (one
   `COUNT()` each, with the reader's own filters) and the EmailStatus rows nested in the lead
   query (list-email opens, which Salesforce serves only as a subquery);
4. writes all N scores again in one `write` call above `bulk_threshold` (one Bulk API 2.0 job,
   its status polls counted).

The minimum number of query calls is `ceil((N + nested rows) / 2000)` for the lead query (child
rows count toward the 2,000 of a page, so this is `ceil(N/2000)` plus the pages the list-email
opens add) plus `ceil(rows / 2000)` per activity object (ListEmailSentResult included when the
connector reads it): the figure is the ratio of the calls
made to that minimum. Writes are judged per 1,000 records written (minimum: one composite call
of five 200-record collections). Goal (issue 12): at most 1.05x of each at 50,000 leads.

Prints the figures per size and each judged figure beside its goal, then one JSON object as the
last line (`bench.goals`). Call counts do not depend on the machine; timings are wall-clock on a
shared machine and only indicative.
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

from bench.goals import Figure, report, shared_cpu
from bench.payloads import outputs

SIZES = (50_000,)
MODEL = ROOT / "config" / "examples" / "models" / "salesforce-leads.yaml"
CHUNK = 1000  # the sync engine's default write.chunk_size
GOAL = 1.05


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


def _rows_to_read(
    info: dict[str, Any], event_types: frozenset[str], extra: Any = None
) -> tuple[int, int, dict[str, int]]:
    """(open leads, EmailStatus rows nested in the lead query, rows per activity object read on
    its own), counted with the reader's own filters through a plain simple-salesforce session
    whose calls are not in the figures; `extra` is the list-email results source the connector
    found on the org (counted at its own API version), if any."""
    import requests
    from simple_salesforce.api import Salesforce

    from connectors.salesforce.activity import sources_for
    from connectors.salesforce.queries import select, subquery

    session = requests.Session()
    session.verify = info["ca_file"]
    session.trust_env = False
    token = session.post(
        f"{info['url']}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
        },
    ).json()
    api = Salesforce(
        session_id=token["access_token"], instance_url=token["instance_url"], session=session
    )
    days = 365
    leads = int(api.query("SELECT COUNT() FROM Lead WHERE IsConverted = false")["totalSize"])
    nested = 0
    per_object: dict[str, int] = {}
    for source in sources_for(event_types, extra):
        where = source.where(event_types, days)
        if not source.direct:
            soql = select(
                "Lead",
                ["Id", subquery(["Id"], str(source.relationship), where=where, order="Id")],
                where=["IsConverted = false"],
                order="Id",
            )
            result = api.query(soql)
            while True:
                for row in result["records"]:
                    nested += int((row.get(source.relationship) or {}).get("totalSize") or 0)
                if result.get("done", True):
                    break
                result = api.query_more(result["nextRecordsUrl"], identifier_is_url=True)
            continue
        count = (
            f"SELECT COUNT() FROM {source.sobject} WHERE {source.parent_filter('Lead')} AND {where}"
        )
        at = api
        if source.version:
            at = Salesforce(
                session_id=token["access_token"],
                instance_url=token["instance_url"],
                session=session,
                version=source.version,
            )
        per_object[source.sobject] = int(at.query(count)["totalSize"])
    return leads, nested, per_object


def child(leads: int, info: dict[str, Any]) -> dict[str, Any]:
    """Run the connector against a serving sandbox; returns the figures."""
    from pydantic import SecretStr

    from config.model_loader import load_model
    from connectors.base import Change
    from connectors.outputs import output_fields
    from connectors.salesforce import SalesforceConnector, SalesforceOptions
    from scoring.evaluate import score

    def connect(**kwargs: Any) -> SalesforceConnector:
        options = SalesforceOptions(
            login_url=info["url"],
            client_id=info["client_id"],
            client_secret=SecretStr(info["client_secret"]),
            ca_bundle=info["ca_file"],
            daily_share=1.0,
            timeout=300.0,
            **kwargs,
        )
        return SalesforceConnector(options)

    model = load_model(MODEL)
    fields = output_fields(model.grades, model.labels)
    setup = connect()
    setup.ensure_schema("lead", fields, apply=True)
    setup.close()

    syncer = connect(bulk_threshold=10**9)
    now = datetime.now(UTC)
    started = time.perf_counter()
    records = events = written = failed = 0
    pending: list[Change] = []

    def flush() -> None:
        nonlocal written, failed
        results = syncer.write("lead", pending)
        written += sum(r.ok for r in results)
        failed += sum(not r.ok for r in results)
        pending.clear()

    for page in syncer.iter_pages("lead", model.properties, model.event_types, since=None):
        records += len(page.records)
        for record in page.records:
            events += len(record.events)
            result = score(record, model, now)
            pending.append(Change(record.id, result.output_values(now)))
            if len(pending) == CHUNK:
                flush()
    if pending:
        flush()
    sync_s = time.perf_counter() - started
    streaming_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    query_calls = _calls(syncer.usage, "query", "query_more")
    write_calls = _calls(syncer.usage, "composite", "composite/sobjects")

    list_email = syncer.list_email_access()
    extra = list_email.source(model.event_types)
    open_leads, nested, per_object = _rows_to_read(info, model.event_types, extra)
    lead_pages = math.ceil((open_leads + nested) / 2000)
    activity_pages = sum(math.ceil(rows / 2000) for rows in per_object.values())
    query_min = lead_pages + activity_pages

    bulk = connect(bulk_threshold=10_000, bulk_poll_s=1.0)
    ids = [r.id for p in bulk.iter_pages("lead", ["Title"], [], since=None) for r in p.records]
    started = time.perf_counter()
    before = bulk.usage.calls
    # every output field, as a full rescore writes them
    results = bulk.write("lead", [Change(i, outputs(n, now)) for n, i in enumerate(ids)])
    bulk_s = time.perf_counter() - started
    bulk_calls = bulk.usage.calls - before
    bulk_polls = bulk.usage.by_endpoint.get("jobs/ingest/info", 0)
    del ids, results

    return {
        "leads": leads,
        "open_leads": records,
        "email_status_rows_nested": nested,
        "activity_rows": per_object,
        "activity_events": events,
        "query_calls": query_calls,
        "query_calls_min": query_min,
        "query_calls_min_parts": {
            "ceil_n_over_2000": math.ceil(open_leads / 2000),
            "pages_added_by_nested_rows": lead_pages - math.ceil(open_leads / 2000),
            "activity_pages": activity_pages,
        },
        "query_ratio": round(query_calls / query_min, 4),
        "list_email": list_email.note,
        "discovery_calls": {
            "versions (not counted)": syncer.usage.by_endpoint.get("versions", 0),
            "describe": syncer.usage.by_endpoint.get("describe", 0),
        },
        "written": written,
        "write_failed": failed,
        "write_calls": write_calls,
        "write_calls_per_1000": round(write_calls / (written / 1000), 4),
        "write_calls_min": math.ceil(written / 1000),
        "sync_s": round(sync_s, 2),
        "bulk_write_calls": bulk_calls,
        "bulk_status_polls": bulk_polls,
        "bulk_write_s": round(bulk_s, 2),
        "peak_rss_mb": round(streaming_peak_kb / 1024, 1),
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
        r = json.loads(out.stdout.strip().splitlines()[-1])
        figures[str(leads)] = r
        parts = r["query_calls_min_parts"]
        print(
            f"{leads} leads ({r['open_leads']} open, {r['activity_events']} events): "
            f"{r['query_calls']} query calls against a minimum of {r['query_calls_min']} "
            f"(ceil(N/2000) = {parts['ceil_n_over_2000']}, + {parts['pages_added_by_nested_rows']}"
            f" for {r['email_status_rows_nested']} nested EmailStatus rows, + "
            f"{parts['activity_pages']} activity pages for {r['activity_rows']}): "
            f"{r['query_ratio']}x (goal <= {GOAL}x); writes {r['write_calls']} calls for "
            f"{r['written']} records (minimum {r['write_calls_min']}) = "
            f"{r['write_calls_per_1000']} per 1,000 (goal <= {GOAL}, "
            f"{r['write_failed']} failed); one Bulk 2.0 job {r['bulk_write_calls']} calls "
            f"({r['bulk_status_polls']} status polls); sync {r['sync_s']}s; "
            f"peak RSS {r['peak_rss_mb']} MB",
            flush=True,
        )
    judged = figures.get("50000") or next(iter(figures.values()))
    report(
        [
            Figure("query_calls_ratio", judged["query_ratio"], GOAL, "x", at_most=True,
                   note=f"{judged['query_calls']} calls, minimum {judged['query_calls_min']}, "
                        f"{judged['leads']:,} leads"),
            Figure("write_calls_per_1000", judged["write_calls_per_1000"], GOAL, at_most=True,
                   note=f"{judged['write_calls']} calls for {judged['written']:,} records"),
            Figure("write_failed", judged["write_failed"], 0, at_most=True),
        ],
        sizes=figures,
        bulk_write_calls=judged["bulk_write_calls"],
        **shared_cpu(),
    )  # fmt: skip


if __name__ == "__main__":
    main()
