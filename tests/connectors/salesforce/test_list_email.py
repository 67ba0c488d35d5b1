"""List-email results (`ListEmailSentResult`) through the connector: read at API 67.0 with the
engagement fields the org has, left out (and said so) on orgs without them or without 67.0, and
discovered once per connector for one counted call."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter

from tests.connectors.salesforce.conftest import (
    FIELDS,
    NOW,
    expected_email_events,
    open_leads,
    read_all,
)

EMAIL = ["email_open", "email_click", "email_reply"]
SINCE = NOW - dt.timedelta(days=3650)
NOT_SERVED = (
    "ListEmailSentResult not read: the org serves API versions up to 64.0, the object needs "
    "67.0; list-email opens count only where Salesforce also keeps an EmailStatus"
)
NO_FIELDS = (
    "ListEmailSentResult not read: the org has the object at API 67.0 but none of its "
    "engagement fields (FirstOpenedDate, FirstClickedDate, HasReply); list-email opens count "
    "only where Salesforce also keeps an EmailStatus"
)
READ = (
    "ListEmailSentResult read at API 67.0 for email_click, email_open, email_reply "
    "(FirstClickedDate, FirstOpenedDate, HasReply, LastClickedDate)"
)


def _events(records) -> dict[str, list[tuple[str, dt.datetime, str]]]:
    return {r.id: sorted((e.type, e.at, e.attributes["source"]) for e in r.events) for r in records}


def _queries(sandbox) -> dict[str, int]:
    """Counted query calls by API version."""
    found: Counter[str] = Counter()
    for (name, version), count in sandbox.calls_by_version.items():
        if name in ("query", "query_more"):
            found[version] += count
    return dict(found)


def test_an_org_with_the_engagement_fields_scores_list_email_opens_clicks_and_replies(
    make_sandbox, make_connector
):
    sandbox = make_sandbox(leads=300)
    connector = make_connector(sandbox)
    full = read_all(connector, event_types=EMAIL)
    incremental = read_all(make_connector(sandbox), event_types=EMAIL, since=SINCE)
    expected = {i: expected_email_events(sandbox, i) for i in open_leads(sandbox)}
    assert _events(full) == expected == _events(incremental)
    listed = Counter(
        e.type for r in full for e in r.events if e.attributes["source"] == "ListEmailSentResult"
    )
    assert min(listed["email_open"], listed["email_click"], listed["email_reply"]) > 3
    # a send with both an opened EmailStatus and a result is one open, EmailStatus's
    store = sandbox.store
    opened_tasks = {s["TaskId"] for s in store.table("EmailStatus").values() if s["TimesOpened"]}
    twins = [
        r
        for r in store.table("ListEmailSentResult").values()
        if r["ActivityId"] in opened_tasks and r["RecipientId"] in expected
    ]
    assert twins and not any(
        (e.type, e.at, e.attributes["source"])
        == (
            "email_open",
            dt.datetime.fromtimestamp(t["FirstOpenedDate"], dt.UTC),
            "ListEmailSentResult",
        )
        for t in twins
        for r in full
        if r.id == t["RecipientId"]
        for e in r.events
    )
    assert connector.stats["list_email"] == READ
    # at 67.0: the full read's merge-joined result stream, then the incremental read's results
    # by 200 of its page's ids; everything else at the configured 62.0
    queries = _queries(sandbox)
    assert set(queries) == {"62.0", "67.0"}
    assert queries["67.0"] == 1 + math.ceil(len(expected) / 200) == 3
    assert sandbox.calls_by_version[("describe", "67.0")] == 2  # one per connector


def test_an_org_without_the_engagement_fields_reads_no_list_email_results(
    make_sandbox, make_connector
):
    sandbox = make_sandbox(leads=300, list_email_engagement=False)
    connector = make_connector(sandbox)
    records = read_all(connector, event_types=EMAIL)
    assert _events(records) == {
        i: expected_email_events(sandbox, i, list_email=False) for i in open_leads(sandbox)
    }
    assert connector.list_email_access().note == NO_FIELDS
    assert connector.stats["list_email"] == NO_FIELDS
    assert sandbox.calls_by_version[("describe", "67.0")] == 1
    assert set(_queries(sandbox)) == {"62.0"}


def test_an_org_without_api_67_reads_no_list_email_results_and_describes_nothing_more(
    make_sandbox, make_connector
):
    sandbox = make_sandbox(leads=300, max_version=64.0)
    connector = make_connector(sandbox)
    records = read_all(connector, event_types=EMAIL, since=SINCE)
    assert _events(records) == {
        i: expected_email_events(sandbox, i, list_email=False) for i in open_leads(sandbox)
    }
    assert connector.list_email_access().note == NOT_SERVED
    assert connector.usage.by_endpoint["versions"] == 1
    assert connector.usage.by_endpoint["describe"] == 1  # Lead only
    assert set(_queries(sandbox)) == {"62.0"}


def test_discovery_is_one_uncounted_versions_call_and_one_counted_describe_per_connector(
    make_sandbox, make_connector, caplog
):
    caplog.set_level(logging.INFO, logger="leadsync.salesforce")
    sandbox = make_sandbox(leads=300)
    connector = make_connector(sandbox)
    read_all(connector, event_types=EMAIL)
    read_all(connector, event_types=EMAIL, since=SINCE)
    connector.fetch("lead", open_leads(sandbox)[:5], FIELDS, EMAIL)
    read_all(connector, kind="contact", fields=["Title"], event_types=EMAIL)
    assert connector.usage.by_endpoint["versions"] == 1
    assert sandbox.calls_by_version[("describe", "67.0")] == 1
    assert sandbox.counters["versions"] == 1
    # the Versions resource is not counted, by the org or by the connector
    assert connector.usage.calls == sandbox.api_used
    # said once, in the run log
    assert [r.getMessage() for r in caplog.records if r.name == "leadsync.salesforce"] == [READ]
    quiet = make_connector(sandbox)
    read_all(quiet, event_types=["call", "meeting"])
    assert "versions" not in quiet.usage.by_endpoint
    assert quiet.stats["list_email"] is None
