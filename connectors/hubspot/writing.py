"""Writing leadsync's outputs with `POST /crm/v3/objects/{type}/batch/update`, 100 a call.

Per record, never all-or-nothing:

* only owned properties are written: `leadsync_*` outputs, and `lifecyclestage` on contacts
  when the model's qualification sets it, forward only (never to an earlier stage);
* values HubSpot already holds (known from the read that preceded the write) are not sent; a
  record left with nothing to send is `ok` without a call;
* a 207 is split record by record: ids in `results` are applied, ids named in `errors[]` fail
  with HubSpot's category and message and the `WriteAction` `errors.WRITE_ACTIONS` gives it;
  records that call for a retry (INTERNAL_ERROR...) are sent once more in a later batch before
  their result stands (each result names the calls that sent its record again,
  `WriteResult.resent`: those, and a batch the retry layer sent again after a dropped
  connection or a 5xx);
* a batch HubSpot rejects whole (a 400 over one bad value) is halved by
  `connectors.batching.isolate_rejected` until the bad records are alone, so the good ones
  are still written;
* a batch that keeps failing transiently after the retries comes back as `PAUSE_OUTAGE`
  results (code `TRANSIENT`); `Unreachable` (nothing answered at all), auth, permission and
  budget errors stop the write.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any, cast

import orjson

from connectors.base import Change, OutputType, ResentCall, WriteAction, WriteResult
from connectors.batching import isolate_rejected
from connectors.errors import RequestRejected, TransientError, Unreachable
from connectors.hubspot.api import HubSpotApi, batch_path
from connectors.hubspot.errors import write_action
from connectors.hubspot.reading import ObjectSpec, batch_read_page
from connectors.hubspot.values import (
    LIFECYCLE_STAGES,
    OUTPUT_TYPES,
    TEXT_LIMIT,
    crm_name,
    format_value,
    parse_time,
    same_value,
)

__all__ = ["BATCH_SIZE", "KnownValues", "write_changes"]

BATCH_SIZE = 100
ENDPOINT = "objects.batch_update"
LIFECYCLE = "lifecyclestage"
#: Output types whose values `format_value` checks; the others take any text as it is.
_CHECKED_TYPES = frozenset({"bool", "number", "datetime"})
_ABSENT = object()


class KnownValues:
    """The owned property values most recently read or written per record (bounded LRU).

    Writes follow their reads within a few pages, so a small capacity suffices and keeps memory
    flat however many records a run reads.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        # A plain dict keeps insertion order too, and pop + set moves a key to the end faster
        # than OrderedDict's methods; the oldest key is the first one.
        self._values: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()

    def remember(self, record_id: str, values: Mapping[str, object]) -> None:
        """Record what HubSpot holds for these properties of one record."""
        self.remember_many(((record_id, values),))

    def remember_many(self, items: Iterable[tuple[str, Mapping[str, object]]]) -> None:
        """`remember` for several records under one lock acquisition."""
        with self._lock:
            stored = self._values
            pop = stored.pop
            for record_id, values in items:
                known = pop(record_id, None)
                if known is None:
                    known = dict(values)
                else:
                    known.update(values)
                stored[record_id] = known
            excess = len(stored) - self._capacity
            if excess > 0:
                for record_id in list(itertools.islice(stored, excess)):
                    del stored[record_id]

    def get(self, record_id: str) -> dict[str, object] | None:
        """The known values of one record, or None when never seen."""
        with self._lock:
            known = self._values.get(record_id)
            return dict(known) if known is not None else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)


def _stage_rank(stage: object) -> int:
    text = str(stage or "").strip().lower()
    return LIFECYCLE_STAGES.index(text) if text in LIFECYCLE_STAGES else -1


#: Canonical output name -> (HubSpot property name, output type), looked up once per value.
Outputs = Mapping[str, tuple[str, OutputType]]


def output_map(namespaces: Sequence[str] = ()) -> dict[str, tuple[str, OutputType]]:
    """The outputs leadsync owns: its own (`score` -> `leadsync_score`) and those of each
    further model's namespace (`pl_a_score` -> `leadsync_pl_a_score`)."""
    return {
        ns + key: (crm_name(ns + key), output_type)
        for ns in ("", *namespaces)
        for key, output_type in OUTPUT_TYPES.items()
    }


_OUTPUTS = output_map()


def _format(output_type: str, value: object) -> str:
    """`format_value`, with the common cases first, without its checks."""
    cls = value.__class__
    if cls is int and output_type == "number":
        return str(value)
    if cls is str and output_type not in _CHECKED_TYPES:
        return cast(str, value)[:TEXT_LIMIT]
    if cls is bool and output_type == "bool":
        return "true" if value else "false"
    return format_value(output_type, value)


def _plan_one(
    spec: ObjectSpec,
    record_id: str,
    values: Mapping[str, object],
    known: Mapping[str, object] | None,
    outputs: Outputs,
) -> dict[str, str] | WriteResult:
    """The properties to send for one record's change, or its final result."""
    send: dict[str, str] = {}
    for key, value in values.items():
        output = outputs.get(key)
        if output is not None:
            name, output_type = output
            try:
                formatted = _format(output_type, value)
            except ValueError as exc:
                return WriteResult(
                    record_id, WriteAction.DEAD_LETTER, "INVALID_VALUE", f"{key}: {exc}"
                )
            if known is not None:
                current = known.get(name, _ABSENT)
                if current is not _ABSENT and (
                    formatted == ""  # same_value's answer for an empty current value
                    if current is None or current == ""
                    else same_value(output_type, current, formatted)
                ):
                    continue
            send[name] = formatted
        elif key == LIFECYCLE and spec.kind == "contact":
            target = str(value or "").strip().lower()
            if _stage_rank(target) < 0:
                return WriteResult(
                    record_id,
                    WriteAction.DEAD_LETTER,
                    "INVALID_VALUE",
                    f"lifecyclestage {value!r} is not one of {', '.join(LIFECYCLE_STAGES)}",
                )
            current = (known or {}).get(LIFECYCLE)
            if _stage_rank(target) > _stage_rank(current):
                send[LIFECYCLE] = target
        else:
            return WriteResult(
                record_id,
                WriteAction.DEAD_LETTER,
                "NOT_OWNED",
                f"leadsync does not write {key!r}; it writes only its own outputs",
            )
    return send


def write_changes(  # noqa: PLR0913  the API, its pool, the object, the changes and what it owns
    api: HubSpotApi,
    pool: Executor,
    spec: ObjectSpec,
    changes: Sequence[Change],
    known: KnownValues,
    *,
    outputs: Outputs = _OUTPUTS,
) -> list[WriteResult]:
    """Write `changes` (values keyed by the canonical names of `outputs`); one `WriteResult`
    per change, in order."""
    merged: dict[str, Mapping[str, object]] = {}
    for change in changes:
        earlier = merged.get(change.record_id)
        # one change per record is the rule; a repeat adds its values to the earlier ones
        merged[change.record_id] = (
            change.values if earlier is None else {**earlier, **change.values}
        )
    needs_stage = [
        rid
        for rid, values in merged.items()
        if LIFECYCLE in values and LIFECYCLE not in (known.get(rid) or {})
    ]
    if needs_stage and spec.kind == "contact":
        _read_stages(api, spec, needs_stage, known)
    outcomes: dict[str, WriteResult] = {}
    pending: list[tuple[str, dict[str, str]]] = []
    for rid, values in merged.items():
        plan = _plan_one(spec, rid, values, known.get(rid), outputs)
        if isinstance(plan, WriteResult):
            outcomes[rid] = plan
        elif not plan:
            outcomes[rid] = WriteResult(rid, WriteAction.APPLIED, None, "unchanged")
        else:
            pending.append((rid, plan))
    retry_round = True
    # the first round's results of the records sent again in the second
    first: dict[str, WriteResult] = {}
    while pending:
        batches = [pending[i : i + BATCH_SIZE] for i in range(0, len(pending), BATCH_SIZE)]
        replies = _sent(api, pool, spec, batches)
        again: list[tuple[str, dict[str, str]]] = []
        for batch, answered in zip(batches, replies, strict=True):
            sent = dict(batch)
            written: list[tuple[str, dict[str, str]]] = []
            reply = (
                answered
                if retry_round
                else _sent_again([first[rid] for rid, _ in batch], answered)  # sent again
            )
            for result in reply:
                rid = result.record_id
                if result.action is WriteAction.RETRY and retry_round:
                    again.append((rid, sent[rid]))
                    first[rid] = result
                    continue
                outcomes[rid] = result
                if result.ok:
                    written.append((rid, sent[rid]))
            known.remember_many(written)
        pending, retry_round = again, False
    return [outcomes[c.record_id] for c in changes]


def _sent_again(earlier: Sequence[WriteResult], reply: list[WriteResult]) -> list[WriteResult]:
    """`reply`, the results of a call that sent again records whose `earlier` results called
    for a retry: each result with that call in `resent`, after the earlier call's re-sends."""
    codes = sorted({str(r.error_code) for r in earlier})
    call = ResentCall(ENDPOINT, f"failed with {', '.join(codes)}")
    return [
        replace(result, resent=(*before.resent, call, *result.resent))
        for before, result in zip(earlier, reply, strict=True)
    ]


def _sent(
    api: HubSpotApi,
    pool: Executor,
    spec: ObjectSpec,
    batches: Sequence[list[tuple[str, dict[str, str]]]],
) -> Iterable[list[WriteResult]]:
    """The results of each batch, in order, the batches sent together on the pool; one batch
    (the engine writes a part of 100 at a time) is sent from this thread instead of being
    handed to the pool and waited for (two thread switches a call, no overlap gained)."""
    if len(batches) == 1:
        return [_send(api, spec, batches[0])]
    futures = [pool.submit(_send, api, spec, batch) for batch in batches]
    return (future.result() for future in futures)


def _read_stages(api: HubSpotApi, spec: ObjectSpec, ids: list[str], known: KnownValues) -> None:
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        for item in batch_read_page(api, spec.object_type, chunk, [LIFECYCLE]):
            props = item.get("properties") or {}
            known.remember(str(item.get("id")), {LIFECYCLE: props.get(LIFECYCLE)})


def _send(
    api: HubSpotApi, spec: ObjectSpec, batch: list[tuple[str, dict[str, str]]]
) -> list[WriteResult]:
    """One batch update (halved while HubSpot refuses it whole); one result per record, with
    every call that sent the record again, those of a call then refused whole included."""
    # the calls sent again, by record, across the halves: a call refused whole after a re-send
    # leaves its re-send to the records it carried
    resent: dict[str, tuple[ResentCall, ...]] = {}

    def send(part: Sequence[tuple[str, dict[str, str]]]) -> list[WriteResult]:
        body = orjson.dumps({"inputs": [{"id": rid, "properties": props} for rid, props in part]})

        def sent_again(error: BaseException) -> None:
            call = ResentCall.after(ENDPOINT, error)
            for rid, _ in part:
                resent[rid] = (*resent.get(rid, ()), call)

        try:
            reply = api.call(
                ENDPOINT,
                api.post_json,
                batch_path(spec.object_type, "update"),
                body,
                on_resend=sent_again,
            )
        except Unreachable:
            raise  # nothing answered at all: about the address, not these records
        except TransientError as exc:  # HubSpot stayed unavailable through the retries
            return [
                WriteResult(rid, WriteAction.PAUSE_OUTAGE, "TRANSIENT", str(exc)) for rid, _ in part
            ]
        return _outcomes(part, reply.data)

    results = isolate_rejected(send, batch, _refused)
    if not resent:
        return results
    return [
        replace(result, resent=calls) if (calls := resent.get(result.record_id)) else result
        for result in results
    ]


def _refused(item: tuple[str, dict[str, str]], exc: RequestRejected) -> WriteResult:
    code = exc.code or str(exc.status)
    return WriteResult(item[0], write_action(exc.code), code, str(exc))


def _outcomes(batch: Sequence[tuple[str, dict[str, str]]], data: Any) -> list[WriteResult]:
    ids = [rid for rid, _ in batch]
    if not isinstance(data, dict):
        data = {}
    done = {
        str(r.get("id")): parse_time(r.get("updatedAt"))
        for r in data.get("results") or []
        if isinstance(r, dict)
    }
    failed: dict[str, tuple[str, str]] = {}
    unattributed: tuple[str, str] | None = None
    for error in data.get("errors") or []:
        if not isinstance(error, dict):
            continue
        category = str(error.get("category") or "ERROR")
        message = str(error.get("message") or "failed")
        context = error.get("context") or {}
        named = [str(i) for i in (context.get("ids") or context.get("id") or [])]
        for rid in named:
            failed[rid] = (category, message)
        if not named:
            unattributed = (category, message)
    out: list[WriteResult] = []
    for rid in ids:
        if rid in done and rid not in failed:
            out.append(WriteResult(rid, WriteAction.APPLIED, modified_at=done[rid]))
            continue
        category, message = (
            failed.get(rid)
            or unattributed
            or (
                "UNCONFIRMED",
                "HubSpot's reply neither confirmed nor rejected this record",
            )
        )
        out.append(WriteResult(rid, write_action(category), category, message))
    return out
