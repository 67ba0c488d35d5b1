"""Composite calls in flight: noted before they go, read back after a crash.

A `composite` call carries up to five sObject Collections of 200 records. Salesforce applies
them one after the other whatever becomes of the process that sent the call, so a kill -9 while
it is in flight leaves some of its records written and their outbox entries still waiting. The
writer notes each call of more than one collection in the engine's `WriteJournal` (a note id
starting `composite:` and a digest of each record's values, durable before the call is sent);
a single collection is the one API batch the crash-cost bound allows to repeat, and is not
noted. The note is forgotten once every record of it has its outcome in the ledger.

A later process writing the same change of a noted record (same digest) first reads the noted
records back with the sObject Collections retrieve request (`POST composite/sobjects/{SObject}`
with `{"ids", "fields"}`, up to 2,000 ids a call: `ceil(ids / 2000)` counted calls, after a
crash only) and takes a record whose fields hold exactly the values sent as written
(`fields.held`). The rest, and records the retrieve answers `null` for, are sent. Notes made by
the same writer are never read back: it knows how its own calls ended.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import Change
from connectors.salesforce.client import SalesforceApi
from connectors.salesforce.fields import LONG_TEXT, encode, held
from connectors.salesforce.reader import pages_needed

NOTE_PREFIX = "composite:"
RETRIEVE_IDS = 2000  # the sObject Collections retrieve request's cap


def new_note() -> str:
    """A fresh note id for one composite call."""
    return NOTE_PREFIX + uuid.uuid4().hex


def is_composite_note(job: str) -> bool:
    """Whether a journal entry notes a composite call (else a Bulk API job id)."""
    return job.startswith(NOTE_PREFIX)


def read_back(
    api: SalesforceApi,
    sobject: str,
    changes: Sequence[Change],
    fields: Mapping[str, Mapping[str, Any]],
    outputs: Mapping[str, str],
) -> set[str]:
    """Ids of `changes` whose Salesforce record already holds every value the change writes.

    `fields` maps each output key to its describe entry, `outputs` each key to its canonical
    output name (how its value is encoded and compared)."""
    if not changes:
        return set()
    names = sorted({str(fields[key]["name"]) for c in changes for key in c.values})
    ids = [c.record_id for c in changes]
    api.budget.require(
        pages_needed(len(ids), RETRIEVE_IDS),
        f"reading back {len(ids)} records of a composite call cut short",
    )
    stored: dict[str, Mapping[str, Any]] = {}
    for start in range(0, len(ids), RETRIEVE_IDS):
        chunk = ids[start : start + RETRIEVE_IDS]
        rows = api.rest(
            "composite/sobjects/retrieve",
            f"composite/sobjects/{sobject}",
            method="POST",
            body={"ids": chunk, "fields": ["Id", *names]},
        )
        # One entry per id asked, in order; null for an id Salesforce does not give back.
        for record_id, row in zip(chunk, rows or [], strict=False):
            if isinstance(row, Mapping):
                stored[record_id] = row
    done = set()
    for change in changes:
        row = stored.get(change.record_id)
        if row is not None and all(
            _holds(key, value, row, fields, outputs) for key, value in change.values.items()
        ):
            done.add(change.record_id)
    return done


def _holds(
    key: str,
    value: object,
    row: Mapping[str, Any],
    fields: Mapping[str, Mapping[str, Any]],
    outputs: Mapping[str, str],
) -> bool:
    field = fields[key]
    canonical = outputs[key]
    sent = encode(canonical, value, max_length=int(field.get("length") or LONG_TEXT))
    return held(canonical, sent, row.get(str(field["name"])))
