"""Bulk API 2.0 ingest jobs (`/services/data/vXX.X/jobs/ingest`).

A job is created `Open`, receives one CSV upload (`PUT .../batches`, 201), and is closed with
`PATCH {"state": "UploadComplete"}`. Salesforce then processes it asynchronously; here the first
status poll after the upload is answered `InProgress` (the rows are processed then) and later
polls `JobComplete`, so clients must really poll. An unknown or invisible column fails the whole
job (`Failed`, `InvalidBatch : Field name not found`). Per-row outcomes are served as CSV by
`successfulResults` (`sf__Id`, `sf__Created`, the row) and `failedResults` (`sf__Id`,
`sf__Error` as `CODE:message:fields`, the row). In CSV an empty value leaves a field unchanged and
`#N/A` clears it. Assignment rules run only when the job names an `assignmentRuleId`.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.httpserver import Request, Response
from sandbox.salesforce.faults import Faults
from sandbox.salesforce.rest import Call, api_error
from sandbox.salesforce.store import Store
from sandbox.salesforce.values import format_datetime

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
MAX_UPLOAD_BYTES = 150 * 1024 * 1024


@dataclass
class Job:
    """One ingest job and, once processed, its per-row results."""

    id: str
    object: str
    operation: str
    user: str
    created: int
    version: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    assignment_rule: str | None = None
    state: str = "Open"
    data: str | None = None
    error_message: str | None = None
    header: list[str] = field(default_factory=list)
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        """The job info body."""
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.user,
            "createdDate": format_datetime(self.created),
            "systemModstamp": format_datetime(self.created),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "jobType": "V2Ingest",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": len(self.successes) + len(self.failures),
            "numberRecordsFailed": len(self.failures),
            "retries": 0,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
        }
        if self.state == "Open":
            body["contentUrl"] = f"services/data/v{self.version}/jobs/ingest/{self.id}/batches"
        if self.assignment_rule:
            body["assignmentRuleId"] = self.assignment_rule
        if self.error_message:
            body["errorMessage"] = self.error_message
        return body


class BulkIngest:
    """The org's Bulk API 2.0 ingest jobs."""

    def __init__(self, store: Store, faults: Faults) -> None:
        self.store = store
        self.faults = faults
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def create(self, request: Request, call: Call) -> Response:
        """`POST jobs/ingest`."""
        try:
            body = request.json()
        except ValueError:
            return api_error(400, "JSON_PARSER_ERROR", "Unexpected character in request body")
        if not isinstance(body, dict):
            return api_error(400, "JSON_PARSER_ERROR", "expected a JSON object")
        obj = self.store.sobject(str(body.get("object") or ""))
        operation = body.get("operation")
        if obj is None:
            return api_error(
                400,
                "INVALIDENTITY",
                f"Entity '{body.get('object')}' is not supported by the Bulk API.",
            )
        if operation not in ("insert", "update"):
            return api_error(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        delimiter = str(body.get("columnDelimiter") or "COMMA")
        ending = str(body.get("lineEnding") or "LF")
        if (
            delimiter not in DELIMITERS
            or ending not in ("LF", "CRLF")
            or body.get("contentType", "CSV") != "CSV"
        ):
            return api_error(
                400, "INVALIDJOB", "InvalidJob : invalid columnDelimiter, lineEnding or contentType"
            )
        job = Job(
            id=self.store.ids.new("Job"),
            object=obj.name,
            operation=str(operation),
            user=call.user,
            created=self.store.now(),
            version=call.version,
            column_delimiter=delimiter,
            line_ending=ending,
            assignment_rule=body.get("assignmentRuleId"),
        )
        with self._lock:
            self.jobs[job.id] = job
        return Response(200, job.info())

    def _job(self, job_id: str, call: Call) -> Job | Response:
        with self._lock:
            job = self.jobs.get(job_id)
        if job is None or job.user != call.user:
            return api_error(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def upload(self, request: Request, call: Call, *, job_id: str) -> Response:
        """`PUT jobs/ingest/{id}/batches` with the CSV."""
        job = self._job(job_id, call)
        if isinstance(job, Response):
            return job
        if job.state != "Open" or job.data is not None:
            return api_error(
                400, "INVALIDJOBSTATE", "Found multiple contents for job or job is not Open"
            )
        if len(request.body) > MAX_UPLOAD_BYTES:
            return api_error(400, "INVALIDBATCH", "InvalidBatch : data exceeds 150 MB")
        job.data = request.body.decode("utf-8")
        return Response(201)

    def patch(self, request: Request, call: Call, *, job_id: str) -> Response:
        """`PATCH jobs/ingest/{id}` to `UploadComplete` or `Aborted`."""
        job = self._job(job_id, call)
        if isinstance(job, Response):
            return job
        try:
            state = request.json().get("state")
        except (ValueError, AttributeError):
            return api_error(400, "JSON_PARSER_ERROR", 'expected {"state": ...}')
        if state == "UploadComplete":
            if job.state != "Open" or job.data is None:
                return api_error(400, "INVALIDJOBSTATE", "Job has no data uploaded or is not Open")
            job.state = "UploadComplete"
        elif state == "Aborted":
            if job.state in ("JobComplete", "Failed", "Aborted"):
                return api_error(400, "INVALIDJOBSTATE", f"Job is already {job.state}")
            job.state = "Aborted"
        else:
            return api_error(400, "INVALIDJOBSTATE", f"Invalid state: {state}")
        return Response(200, job.info())

    def info(self, request: Request, call: Call, *, job_id: str) -> Response:
        """`GET jobs/ingest/{id}`: the first poll after UploadComplete processes the rows."""
        job = self._job(job_id, call)
        if isinstance(job, Response):
            return job
        if job.state == "UploadComplete":
            job.state = "InProgress"
            self._process(job)
        elif job.state == "InProgress":
            job.state = "Failed" if job.error_message else "JobComplete"
        return Response(200, job.info())

    def delete(self, request: Request, call: Call, *, job_id: str) -> Response:
        """`DELETE jobs/ingest/{id}`."""
        job = self._job(job_id, call)
        if isinstance(job, Response):
            return job
        with self._lock:
            self.jobs.pop(job.id, None)
        return Response(204)

    def results(self, request: Request, call: Call, *, job_id: str, kind: str) -> Response:
        """`GET .../successfulResults`, `failedResults` or `unprocessedrecords` as CSV."""
        job = self._job(job_id, call)
        if isinstance(job, Response):
            return job
        if job.state not in ("JobComplete", "Failed", "Aborted"):
            return api_error(400, "INVALIDJOBSTATE", "Job is not complete")
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        if kind == "successfulResults":
            writer.writerow(["sf__Id", "sf__Created", *job.header])
            writer.writerows(job.successes)
        elif kind == "failedResults":
            writer.writerow(["sf__Id", "sf__Error", *job.header])
            writer.writerows(job.failures)
        else:
            writer.writerow(job.header)
            writer.writerows(job.unprocessed)
        return Response(200, out.getvalue().encode("utf-8"), content_type="text/csv")

    def _process(self, job: Job) -> None:
        text = job.data or ""
        reader = csv.reader(
            io.StringIO(text, newline=""), delimiter=DELIMITERS[job.column_delimiter]
        )
        rows = list(reader)
        if not rows:
            job.error_message = "InvalidBatch : Empty CSV"
            return
        job.header = rows[0]
        store = self.store
        obj = store.sobject(job.object)
        assert obj is not None
        for name in job.header:
            if name.lower() == "id":
                continue
            if store.visible_field(obj, name, job.user) is None:
                job.error_message = f"InvalidBatch : Field name not found : {name}"
                job.unprocessed = rows[1:]
                return
        if job.operation == "update" and not any(h.lower() == "id" for h in job.header):
            job.error_message = "InvalidBatch : Field name not provided: Id"
            job.unprocessed = rows[1:]
            return
        auto_assign = job.assignment_rule is not None
        with store.lock:
            for row in rows[1:]:
                stamp = store.now()
                values = {
                    name: _csv_value(value)
                    for name, value in zip(job.header, row, strict=False)
                    if value != ""
                }
                if job.operation == "update":
                    record_id = str(values.pop("Id", values.pop("id", "")) or "")
                    if self.faults.lock_roll() and record_id:
                        store.locked[record_id] = store.locked.get(record_id, 0) + 1
                    errors = store.update(
                        obj.name,
                        record_id,
                        values,
                        user=job.user,
                        auto_assign=auto_assign,
                        stamp=stamp,
                    )
                    new_id = record_id
                else:
                    created, errors = store.insert(obj.name, values, user=job.user)
                    new_id = created or ""
                if errors:
                    error = errors[0]
                    fields = ",".join(error["fields"]) or "--"
                    job.failures.append(
                        [new_id, f"{error['statusCode']}:{error['message']}:{fields}", *row]
                    )
                else:
                    job.successes.append(
                        [new_id, "true" if job.operation == "insert" else "false", *row]
                    )


def _csv_value(value: str) -> Any:
    return None if value == "#N/A" else value
