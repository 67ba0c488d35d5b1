"""Writing output values: sObject Collections packed into composite calls, or Bulk API 2.0.

Salesforce caps a `composite` call at 25 subrequests of which at most 5 may be sObject
Collections or queries, and a collection at 200 records. So one composite call carries 5 x 200 =
1,000 record updates, and N changes cost `ceil(N / 1000)` calls (a single collection of up to 200
is sent as a plain `PATCH composite/sobjects`: the same one call). Every write sends
`Sforce-Auto-Assign: FALSE` (on the call and on each subrequest) so lead assignment rules never
reassign owners because of a score.

Record-level outcomes come back as SaveResults (HTTP 200 even when records fail).
`UNABLE_TO_LOCK_ROW` and other passing codes are retried, only for the records that hit them,
through the project's retry layer; then each record's `WriteResult` carries the `WriteAction`
`errors.WRITE_ACTIONS` gives its code. A call-level transient failure repeats the whole call of
at most 1,000 records (updates set absolute values, so repeating one is harmless); a call
refused whole with a 400 is halved by `connectors.batching.isolate_rejected`. A composite call
of more than one collection is noted in the engine's `WriteJournal` before it goes; after a
kill -9 while it was in flight, the next write of its records reads them back and sends only
those it did not write (`connectors.salesforce.inflight`).

At `bulk_threshold` changes and above, one Bulk API 2.0 ingest job carries them all (create,
upload, close, poll, results: a handful of calls); rows that failed with a retryable code are
then written through collections. The job id and a digest of each row are noted in the
engine's `WriteJournal` before the upload; after a crash the next write of those records polls
the noted job (aborting it if it never left `Open`, waiting while it is `UploadComplete` or
`InProgress`) and takes the outcomes of the rows it processed instead of sending them again, so
a kill -9 mid-job repeats no Bulk write. Every status poll is an API call like any other: it is
counted against the daily share, and before a job starts the share must hold the job's calls
with as many polls as the longest wait (`bulk_max_wait_s`, backing off to one poll per 30 s)
could take.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from connectors.base import Change, ResentCall, WriteAction, WriteJournal, WriteResult
from connectors.batching import isolate_rejected
from connectors.errors import MissingPermission, PermanentError, RequestRejected, TransientError
from connectors.retry import RetryPolicy, retrying
from connectors.salesforce.client import SalesforceApi
from connectors.salesforce.errors import RETRYABLE_RECORD_CODES, write_action
from connectors.salesforce.fields import (
    LONG_TEXT,
    api_name,
    encode,
    encode_csv,
    output_keys,
    sobject_of,
)
from connectors.salesforce.inflight import is_composite_note, new_note, read_back
from connectors.salesforce.reader import Reader, pages_needed
from scoring.types import OUTPUT_NAMES

COLLECTION_SIZE = 200
COLLECTIONS_PER_COMPOSITE = 5
PER_CALL = COLLECTION_SIZE * COLLECTIONS_PER_COMPOSITE
NO_AUTO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}
BULK_CALLS = 6  # create, upload, close, first poll, successful and failed results
BULK_MAX_POLL_S = 30.0  # status polls back off from `bulk_poll_s` up to this


@dataclass(frozen=True)
class _Outcome:
    """One record's result within a call, and the calls that sent it again."""

    ok: bool
    code: str | None = None
    message: str | None = None
    resent: tuple[ResentCall, ...] = ()


#: Per record id, the calls that sent its write again so far.
_Resent = dict[str, tuple[ResentCall, ...]]


class _RecordsToRetry(TransientError):
    """Some records failed with a retryable code; the retry layer sends them again."""


class Writer:
    """Writes `Change`s for one connector."""

    def __init__(  # noqa: PLR0913  collaborators, settings and test seams (clock, sleep)
        self,
        api: SalesforceApi,
        reader: Reader,
        *,
        bulk_threshold: int,
        sleep: Callable[[float], None],
        policy: RetryPolicy | None = None,
        bulk_poll_s: float = 2.0,
        bulk_max_wait_s: float = 3600.0,
        output_namespaces: Sequence[str] = (),
    ) -> None:
        self.api = api
        #: the output keys it writes (a further model's `pl_a_score`) -> canonical output name
        self.outputs = output_keys(OUTPUT_NAMES, output_namespaces)
        self.reader = reader
        self.bulk_threshold = bulk_threshold
        self._sleep = sleep
        self._policy = policy or RetryPolicy()
        self._bulk_poll_s = bulk_poll_s
        self._bulk_max_wait_s = bulk_max_wait_s
        self.bulk_jobs = 0
        self._reconciled_jobs: dict[str, dict[str, _Outcome]] = {}
        # Bulk jobs and composite calls this writer noted: their outcomes were taken as they
        # came, so they are never reconciled (read back, or their results fetched again)
        self._own_notes: set[str] = set()
        # The budget holds every call a job may take, its status polls included, so a job is
        # never left half-read because the share ran out while it was processing.
        self.bulk_calls = BULK_CALLS + bulk_polls(bulk_poll_s, bulk_max_wait_s)

    def write_parts(self, changes: Sequence[Change]) -> list[Sequence[Change]]:
        """`changes` as `write` sends them: one Bulk job from `bulk_threshold` distinct records,
        else collections of `PER_CALL`."""
        if len({change.record_id for change in changes}) >= self.bulk_threshold:
            return [changes]
        return [changes[i : i + PER_CALL] for i in range(0, len(changes), PER_CALL)]

    def write(
        self, kind: str, changes: Sequence[Change], *, journal: WriteJournal | None = None
    ) -> list[WriteResult]:
        """One `WriteResult` per change, in order. Changes a job noted in `journal` already
        wrote (same record, same row) take that job's outcome and are not sent again."""
        sobject = sobject_of(kind)
        if not changes:
            return []
        fields = self._writable(sobject, changes)
        latest = {change.record_id: change for change in changes}  # absolute values: last wins
        unique = list(latest.values())
        outcomes: dict[str, _Outcome] = {}
        if journal is not None:
            outcomes = self._reconciled(sobject, unique, fields, journal)
            unique = [c for c in unique if c.record_id not in outcomes]
        use_bulk = len(unique) >= self.bulk_threshold
        needed = self.bulk_calls if use_bulk else pages_needed(len(unique), PER_CALL)
        if unique:
            self.api.budget.require(needed, f"writing {len(unique)} changes")
        to_collections = unique
        resent: _Resent = {}
        if use_bulk:
            bulk = self._bulk(sobject, unique, fields, journal)
            outcomes.update(bulk)
            to_collections = [
                c
                for c in unique
                if not bulk[c.record_id].ok and bulk[c.record_id].code in RETRYABLE_RECORD_CODES
            ]
            resent = {c.record_id: bulk[c.record_id].resent for c in to_collections}
        for start in range(0, len(to_collections), PER_CALL):
            chunk = to_collections[start : start + PER_CALL]
            if use_bulk:  # rows the job failed with a retryable code, sent again
                again = ResentCall(
                    _endpoint(len(chunk)), "failed in the Bulk API job with a retryable code"
                )
                for change in chunk:
                    resent[change.record_id] += (again,)
            if journal is not None and len(chunk) > COLLECTION_SIZE:
                # durable before the call goes: a crash while it is in flight leaves it findable
                note = new_note()
                journal.started(note, {c.record_id: _digest(c, fields) for c in chunk})
                self._own_notes.add(note)
            outcomes.update(self._packed(sobject, chunk, fields, resent))
        results = []
        for change in changes:
            outcome = outcomes[change.record_id]
            action = WriteAction.APPLIED if outcome.ok else write_action(outcome.code)
            results.append(
                WriteResult(
                    change.record_id,
                    action,
                    outcome.code,
                    outcome.message,
                    resent=outcome.resent,
                )
            )
        return results

    # -- field checks and encoding ------------------------------------------------------------

    def _writable(self, sobject: str, changes: Sequence[Change]) -> dict[str, dict[str, Any]]:
        wanted = {name for change in changes for name in change.values}
        unknown = wanted - set(self.outputs)
        if unknown:
            raise ValueError(f"not leadsync outputs: {sorted(unknown)}")
        visible = self.reader.visible_fields(sobject)
        fields = {c: visible.get(api_name(c).lower()) for c in wanted}
        blocked = sorted(
            api_name(c) for c, f in fields.items() if f is None or not f.get("updateable")
        )
        if blocked:
            raise MissingPermission(
                f"Salesforce {sobject} field(s) {', '.join(blocked)} are missing or not editable "
                "by the integration user: run `leadsync setup --apply`, which creates them and "
                "grants edit access through the Leadsync_Integration permission set"
            )
        return {c: f for c, f in fields.items() if f is not None}

    def _record(
        self, sobject: str, change: Change, fields: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        record: dict[str, Any] = {"attributes": {"type": sobject}, "id": change.record_id}
        for key, value in change.values.items():
            field = fields[key]
            record[field["name"]] = encode(
                self.outputs[key], value, max_length=int(field.get("length") or LONG_TEXT)
            )
        return record

    # -- composite ------------------------------------------------------------------------------

    def _packed(
        self,
        sobject: str,
        chunk: list[Change],
        fields: dict[str, dict[str, Any]],
        resent: _Resent,
    ) -> dict[str, _Outcome]:
        """Write up to 1,000 changes in one call, retrying retryable records; each outcome
        with the calls that sent its record again (`resent`, added to as they go)."""
        results: dict[str, _Outcome] = {}
        pending = chunk

        def again(error: BaseException) -> None:
            # the records still pending go again in a call of their own
            call = ResentCall.after(_endpoint(len(pending)), error)
            for change in pending:
                resent[change.record_id] = (*resent.get(change.record_id, ()), call)

        try:
            for attempt in retrying(self._policy, sleep=self._sleep, on_resend=again):
                with attempt:
                    sent = isolate_rejected(
                        lambda part: self._send(sobject, list(part), fields, resent),
                        pending,
                        _refused,
                    )
                    still = []
                    for change, outcome in zip(pending, sent, strict=True):
                        results[change.record_id] = outcome
                        if outcome.ok:
                            self.reader.written(change.record_id)
                        elif outcome.code in RETRYABLE_RECORD_CODES:
                            still.append(change)
                    pending = still
                    if pending:
                        codes = sorted({str(results[c.record_id].code) for c in pending})
                        raise _RecordsToRetry(
                            f"{len(pending)} records failed with {', '.join(codes)}"
                        )
        except _RecordsToRetry:
            pass  # retries used up: those records keep their last failure
        return {
            record_id: replace(outcome, resent=resent.get(record_id, ()))
            for record_id, outcome in results.items()
        }

    def _send(
        self,
        sobject: str,
        changes: list[Change],
        fields: dict[str, dict[str, Any]],
        resent: _Resent,
    ) -> list[_Outcome]:
        records = [self._record(sobject, change, fields) for change in changes]
        collections = [
            records[i : i + COLLECTION_SIZE] for i in range(0, len(records), COLLECTION_SIZE)
        ]
        endpoint = _endpoint(len(records))

        def again(error: BaseException) -> None:
            # the retry layer sends this very call again: every record of it
            call = ResentCall.after(endpoint, error)
            for change in changes:
                resent[change.record_id] = (*resent.get(change.record_id, ()), call)

        if len(collections) == 1:
            body = self.api.rest(
                endpoint,
                "composite/sobjects",
                method="PATCH",
                body={"allOrNone": False, "records": collections[0]},
                headers=NO_AUTO_ASSIGN,
                on_resend=again,
            )
            return _save_results(body, len(records))
        url = f"/services/data/v{self.api.version}/composite/sobjects"
        request = {
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "PATCH",
                    "url": url,
                    "referenceId": f"collection{index}",
                    "body": {"allOrNone": False, "records": collection},
                    "httpHeaders": NO_AUTO_ASSIGN,
                }
                for index, collection in enumerate(collections)
            ],
        }
        body = self.api.rest(
            endpoint,
            "composite",
            method="POST",
            body=request,
            headers=NO_AUTO_ASSIGN,
            on_resend=again,
        )
        answers = {
            str(r.get("referenceId")): r for r in (body or {}).get("compositeResponse") or []
        }
        outcomes: list[_Outcome] = []
        for index, collection in enumerate(collections):
            answer = answers.get(f"collection{index}")
            if answer is None:
                raise PermanentError(
                    f"Salesforce composite: no answer for subrequest collection{index}"
                )
            status = int(answer.get("httpStatusCode") or 0)
            if status == 200:
                outcomes.extend(_save_results(answer.get("body"), len(collection)))
                continue
            code, message = _first(answer.get("body"))
            if status >= 500:
                code = code if code in RETRYABLE_RECORD_CODES else "SERVER_UNAVAILABLE"
            outcomes.extend([_Outcome(False, code, message)] * len(collection))
        return outcomes

    # -- Bulk API 2.0 -------------------------------------------------------------------------

    def _bulk(
        self,
        sobject: str,
        changes: list[Change],
        fields: dict[str, dict[str, Any]],
        journal: WriteJournal | None,
    ) -> dict[str, _Outcome]:
        columns = sorted(fields)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["Id", *(fields[c]["name"] for c in columns)])
        for change in changes:
            writer.writerow(
                [
                    change.record_id,
                    *(
                        encode_csv(
                            self.outputs[c],
                            change.values[c],
                            max_length=int(fields[c].get("length") or LONG_TEXT),
                        )
                        if c in change.values
                        else ""
                        for c in columns
                    ),
                ]
            )
        job = self.api.rest(
            "jobs/ingest",
            "jobs/ingest",
            method="POST",
            body={
                "object": sobject,
                "operation": "update",
                "contentType": "CSV",
                "lineEnding": "LF",
                "columnDelimiter": "COMMA",
            },
        )
        job_id = str(job["id"])
        self.bulk_jobs += 1
        if journal is not None:  # durable before the data goes: a crash leaves it findable
            journal.started(job_id, {c.record_id: _digest(c, fields) for c in changes})
            self._own_notes.add(job_id)
        uploads: list[ResentCall] = []
        self.api.upload_csv(
            f"jobs/ingest/{job_id}/batches",
            out.getvalue().encode("utf-8"),
            on_resend=lambda error: uploads.append(ResentCall.after("jobs/ingest/batches", error)),
        )
        self.api.rest(
            "jobs/ingest/state",
            f"jobs/ingest/{job_id}",
            method="PATCH",
            body={"state": "UploadComplete"},
        )
        self._wait(job_id)
        outcomes = self._results(sobject, job_id)
        for change in changes:
            outcomes.setdefault(
                change.record_id,
                _Outcome(False, "UNPROCESSED", "not processed by the Bulk API job"),
            )
            if outcomes[change.record_id].ok:
                self.reader.written(change.record_id)
        if uploads:  # every row of the job went again with each upload sent again
            return {i: replace(o, resent=tuple(uploads)) for i, o in outcomes.items()}
        return outcomes

    def _results(self, sobject: str, job_id: str) -> dict[str, _Outcome]:
        """A finished job's outcome per record id, from its successful and failed results."""
        outcomes: dict[str, _Outcome] = {}
        for row in csv.DictReader(
            io.StringIO(self.api.bulk_results(sobject, job_id, "successfulResults"))
        ):
            outcomes[row["sf__Id"]] = _Outcome(True)
        for row in csv.DictReader(
            io.StringIO(self.api.bulk_results(sobject, job_id, "failedResults"))
        ):
            code, _, rest = str(row.get("sf__Error") or "").partition(":")
            message = rest.rsplit(":", 1)[0] if ":" in rest else rest
            outcomes[row.get("sf__Id") or row.get("Id") or ""] = _Outcome(
                False, code or "UNKNOWN", message
            )
        return outcomes

    # -- after a crash: jobs noted in the journal ---------------------------------------------

    def _reconciled(
        self,
        sobject: str,
        changes: list[Change],
        fields: dict[str, dict[str, Any]],
        journal: WriteJournal,
    ) -> dict[str, _Outcome]:
        """The outcomes noted jobs and composite calls already gave `changes` (same record, same
        row digest); a record a job did not process, or failed with a retryable code, or that a
        call cut short did not write, is left to send."""
        jobs = [(note, rows) for note, rows in journal.jobs() if note not in self._own_notes]
        if not jobs:
            return {}
        wanted = {c.record_id: _digest(c, fields) for c in changes}
        found: dict[str, _Outcome] = {}
        in_flight = {
            record_id
            for note, rows in jobs
            if is_composite_note(note)
            for record_id, digest in rows.items()
            if wanted.get(record_id) == digest
        }
        if in_flight:
            noted = [c for c in changes if c.record_id in in_flight]
            for record_id in read_back(self.api, sobject, noted, fields, self.outputs):
                found[record_id] = _Outcome(True)
                self.reader.written(record_id)
        for job_id, rows in jobs:
            if is_composite_note(job_id):
                continue
            mine = [i for i, digest in rows.items() if wanted.get(i) == digest and i not in found]
            if not mine:
                continue
            results = self._finished(sobject, job_id)
            for record_id in mine:
                outcome = results.get(record_id)
                if outcome is None or (not outcome.ok and outcome.code in RETRYABLE_RECORD_CODES):
                    continue
                found[record_id] = outcome
                if outcome.ok:
                    self.reader.written(record_id)
        return found

    def _finished(self, sobject: str, job_id: str) -> dict[str, _Outcome]:
        """A noted job's results once it has finished (remembered per job): an `Open` job never
        started processing, so it is aborted and gives none, nor does a job Salesforce no
        longer knows; `UploadComplete` / `InProgress` are polled to the end."""
        if job_id in self._reconciled_jobs:
            return self._reconciled_jobs[job_id]
        results: dict[str, _Outcome] = {}
        try:
            info = self.api.rest("jobs/ingest/info", f"jobs/ingest/{job_id}")
        except RequestRejected as exc:
            if exc.status != 404:
                raise
            info = {"state": "Deleted"}
        state = info.get("state")
        if state == "Open":
            self.api.rest(
                "jobs/ingest/state",
                f"jobs/ingest/{job_id}",
                method="PATCH",
                body={"state": "Aborted"},
            )
        elif state in ("UploadComplete", "InProgress", "JobComplete", "Failed", "Aborted"):
            if state in ("UploadComplete", "InProgress"):
                with contextlib.suppress(PermanentError, MissingPermission):
                    self._wait(job_id)  # a Failed job still reports the rows it processed
            results = self._results(sobject, job_id)
        self._reconciled_jobs[job_id] = results
        return results

    def _wait(self, job_id: str) -> None:
        waited = 0.0
        delay = self._bulk_poll_s
        while True:
            info = self.api.rest("jobs/ingest/info", f"jobs/ingest/{job_id}")
            state = info.get("state")
            if state == "JobComplete":
                return
            if state in ("Failed", "Aborted"):
                message = str(info.get("errorMessage") or state)
                if "Field name not found" in message:
                    raise MissingPermission(
                        f"Salesforce Bulk API job {job_id} failed: {message} (run `leadsync "
                        "setup --apply`, or grant edit access to the field)"
                    )
                raise PermanentError(f"Salesforce Bulk API job {job_id} {state}: {message}")
            if waited >= self._bulk_max_wait_s:
                raise TransientError(
                    f"Salesforce Bulk API job {job_id} still {state} after {waited:.0f}s"
                )
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, BULK_MAX_POLL_S)


def bulk_polls(poll_s: float, max_wait_s: float) -> int:
    """Status polls after the first that `Writer._wait` may make before giving up."""
    polls, waited, delay = 0, 0.0, poll_s
    while waited < max_wait_s:
        waited += delay
        delay = min(delay * 2, BULK_MAX_POLL_S)
        polls += 1
    return polls


def _digest(change: Change, fields: dict[str, dict[str, Any]]) -> str:
    """A digest of the row a change uploads (its record id and encoded cells), to tell after a
    crash whether a noted job wrote exactly this change."""
    cells = sorted(
        (
            str(fields[c]["name"]),
            encode_csv(c, v, max_length=int(fields[c].get("length") or LONG_TEXT)),
        )
        for c, v in change.values.items()
    )
    text = "\x1f".join([change.record_id, *(f"{name}={cell}" for name, cell in cells)])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def _endpoint(records: int) -> str:
    """The endpoint that carries `records` updates: one collection, or a composite call."""
    return "composite/sobjects" if records <= COLLECTION_SIZE else "composite"


def _refused(change: Change, exc: RequestRejected) -> _Outcome:
    return _Outcome(False, exc.code or f"HTTP_{exc.status}", str(exc))


def _first(body: Any) -> tuple[str, str]:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorCode") or "UNKNOWN"), str(body[0].get("message") or "")
    return "UNKNOWN", str(body)[:200]


def _save_results(body: Any, expected: int) -> list[_Outcome]:
    if not isinstance(body, list) or len(body) != expected:
        raise PermanentError(
            f"Salesforce returned {len(body) if isinstance(body, list) else 'no'} SaveResults "
            f"for {expected} records"
        )
    outcomes = []
    for result in body:
        if result.get("success"):
            outcomes.append(_Outcome(True))
            continue
        errors = result.get("errors") or [{}]
        first = errors[0]
        outcomes.append(
            _Outcome(
                False, str(first.get("statusCode") or "UNKNOWN"), str(first.get("message") or "")
            )
        )
    return outcomes
