"""Scoring one page: records and their stored previous results in; the score rows to store, the
planned writes and the page's share of the plan summary out. Pure: no I/O, no run state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scoring import score, score_page
from scoring.account_link import same_account_values
from scoring.types import Record, ScoreResult
from sync.plan import plan_record
from sync.run_summary import SAMPLE_SIZE, PlanSummary
from sync.state.inputs import InputsEncoder
from sync.state.records import (
    OutboxEntry,
    PreviousRow,
    ScoreRow,
    contributions_text,
    encode_result,
    loads,
)

Scorer = Callable[[Record, Any, datetime, ScoreResult | None], ScoreResult]

#: Stored state of records as `StateStore.previous_rows` returns it.
PreviousRows = Mapping[str, PreviousRow]

_NOTHING = PreviousRow("", None, None, None)


def version_ms(updated: datetime | None) -> int | None:
    """A record's modification time as the epoch milliseconds the state store keeps."""
    return None if updated is None else round(updated.timestamp() * 1000)


def already_scored(updated: datetime | None, row: PreviousRow, model_version: str) -> bool:
    """Whether the stored result scored this version of the record with this model: the
    record has not changed since (or only by our own write, which raised `crm_version`)."""
    return version_scored(updated, row.crm_version, row.model_version, model_version)


def version_scored(
    updated: datetime | None, crm_version: int | None, stored_model: str | None, model_version: str
) -> bool:
    """`already_scored` from the stored CRM version and model version alone
    (`StateStore.scored_versions`)."""
    version = version_ms(updated)
    return (
        version is not None
        and crm_version is not None
        and stored_model == model_version
        and version <= crm_version
    )


#: The bound on what one record may hand the scorer. Model regexes run in time linear in the
#: text (RE2) and every other test is linear too, so bounding the input bounds the time: a record
#: past it is dead-lettered with the reason instead of holding up the run. Twice the longest
#: text either CRM stores in one field (Salesforce long text areas: 131,072 characters).
MAX_VALUE_CHARS = 262_144
#: Events of one record handed to the scorer at most.
MAX_EVENTS = 100_000


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record the scorer could not or would not score: dead-lettered with the reason."""

    record_id: str
    code: str
    message: str


def over_bound(record: Record) -> str | None:
    """Why `record` is past the scoring bound, or None."""
    properties = record.properties
    for value in properties.values():  # the names only for the message: values, the cheap way
        if value.__class__ is str and len(value) > MAX_VALUE_CHARS:
            name = next(k for k, v in properties.items() if v is value)
            return (
                f"{name} holds {len(value):,} characters, more than the "
                f"{MAX_VALUE_CHARS:,} a record may hand the scorer"
            )
    if len(record.events) > MAX_EVENTS:
        return f"{len(record.events):,} events, more than the {MAX_EVENTS:,} the scorer takes"
    return None


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """A material change of one record: its outbox entry and the values to write."""

    entry: OutboxEntry
    values: Mapping[str, object]


@dataclass
class ScoredPage:
    """What one page came to: score rows to store (only those that differ from the stored
    ones), planned writes, the page's share of the plan summary, the latest modification time
    read, how many records need no write, how many were not scored again (their version was
    scored already) and the records rejected (dead-lettered, not scored)."""

    read: int
    scores: list[ScoreRow] = field(default_factory=list)
    writes: list[PlannedWrite] = field(default_factory=list)
    plan: PlanSummary = field(default_factory=PlanSummary)
    high_water: datetime | None = None
    unchanged: int = 0
    skipped: int = 0
    #: The ids of the records not scored again (a model group counts those all its models skip).
    skipped_ids: set[str] = field(default_factory=set)
    rejected: list[Rejected] = field(default_factory=list)
    #: Score rows of a group's other models, by the state kind they are stored under.
    extra_scores: dict[str, list[ScoreRow]] = field(default_factory=dict)


#: `scoring.score`: a compiled `ScoringModel` in, a `ScoreResult` out (an account model's
#: roll-ups read the people the connector read with the account, `Record.members`). With it,
#: pages are scored by `scoring.score_page` (equal results, one call per page).
default_scorer: Scorer = score


class PageScorer:
    """Scores pages for one run: one model, one scoring time, one write threshold.

    `score(..., skip_scored=True)` (incremental runs) counts and leaves alone a record whose
    version was already scored with this model; full runs score everything (interest decays
    daily). `kept` properties are stored in the input snapshots beside the model's (the
    connector's engagement gates, `connectors.engagement_gates`).
    """

    def __init__(  # noqa: PLR0913  the model and the run's settings, keyword-only
        self,
        model: Any,
        *,
        now: datetime,
        min_points_change: float,
        sample_size: int = SAMPLE_SIZE,
        scorer: Scorer = default_scorer,
        kept: frozenset[str] = frozenset(),
    ) -> None:
        self.model = model
        self.now = now
        self.min_points_change = min_points_change
        self.sample_size = sample_size
        self.scorer = scorer
        self.inputs = InputsEncoder(model.properties | kept, model.event_types)

    def score(
        self, records: Sequence[Record], previous: PreviousRows, *, skip_scored: bool = False
    ) -> ScoredPage:
        """Score `records` against their previous results and plan their writes."""
        model = self.model
        version = model.version
        lifecycle = model.qualify_lifecycle_stage
        encode = self.inputs.encode
        now = self.now
        page = ScoredPage(read=len(records), plan=PlanSummary(sample_size=self.sample_size))
        plan = page.plan
        accepted, stored_rows, high_water = self._accept(records, previous, page, skip=skip_scored)
        befores = [
            ScoreResult.from_dict(loads(stored.result)) if stored.result else None
            for stored in stored_rows
        ]
        results = self._results(accepted, befores, page.rejected)
        for record, result, before, stored in zip(
            accepted, results, befores, stored_rows, strict=True
        ):
            if result is None:
                continue
            updated = record.updated_at
            snapshot = encode(record)
            crm_version = version_ms(updated)
            encoded: str | None = None
            # a version newer than the one stored (read, or produced by our own write) is
            # someone else's change
            newer = stored.crm_version is None or (
                crm_version is not None and crm_version > stored.crm_version
            )
            if result != before or snapshot != stored.inputs or newer:
                changed = crm_version if newer else stored.changed_version
                shown = before is None or not same_account_values(result, before)
                row = ScoreRow.of(
                    record.id, result, snapshot, crm_version, changed, values_changed=shown
                )
                page.scores.append(row)
                encoded = row.result
            plan.add_result(result)
            if updated is not None and (high_water is None or updated > high_water):
                high_water = updated
            change = plan_record(
                record,
                result,
                min_points_change=self.min_points_change,
                scored_at=now,
                lifecycle_stage=lifecycle,
            )
            if change is None:
                page.unchanged += 1
                continue
            plan.add_change(change)
            entry = OutboxEntry.build(
                record.id,
                # `dumps` writes datetimes as `to_json_values` would (ISO-8601), without copies
                new=change.new,
                old=change.old,
                reasons=change.reasons,
                contributions=contributions_text(
                    encoded if encoded is not None else encode_result(result)
                ),
                model_version=version,
            )
            page.writes.append(PlannedWrite(entry, change.new))
        page.high_water = high_water
        return page

    def _accept(
        self, records: Sequence[Record], previous: PreviousRows, page: ScoredPage, *, skip: bool
    ) -> tuple[list[Record], list[PreviousRow], datetime | None]:
        """The records to score with their stored rows, and the latest modification time of
        those skipped (incremental runs leave a record alone that was scored as it is now);
        records past the scoring bound join `page.rejected`."""
        version = self.model.version
        accepted: list[Record] = []
        stored_rows: list[PreviousRow] = []
        high_water: datetime | None = None
        for record in records:
            stored = previous.get(record.id, _NOTHING)
            updated = record.updated_at
            if skip and already_scored(updated, stored, version):
                if updated is not None and (high_water is None or updated > high_water):
                    high_water = updated
                page.skipped += 1
                page.skipped_ids.add(record.id)
                page.unchanged += 1
                continue
            try:
                problem = over_bound(record)
            except Exception as exc:  # one record's failure must not fail its page
                page.rejected.append(_failed(record, exc))
                continue
            if problem is not None:
                page.rejected.append(Rejected(record.id, "input_too_large", problem))
                continue
            accepted.append(record)
            stored_rows.append(stored)
        return accepted, stored_rows, high_water

    def _results(
        self,
        records: Sequence[Record],
        befores: Sequence[ScoreResult | None],
        rejected: list[Rejected],
    ) -> list[ScoreResult | None]:
        """Each record's result: the page at once with `score_page`; one by one (to isolate
        it) when a record fails, or with an injected scorer. None for a record the scorer
        failed on, which joins `rejected`."""
        if self.scorer is score:
            try:
                return list(score_page(records, self.model, self.now, befores))
            except Exception:  # scored again one by one below, which names the record
                pass
        results: list[ScoreResult | None] = []
        for record, before in zip(records, befores, strict=True):
            try:
                results.append(self.scorer(record, self.model, self.now, before))
            except Exception as exc:  # one record's failure must not fail its page
                rejected.append(_failed(record, exc))
                results.append(None)
        return results


def _failed(record: Record, exc: Exception) -> Rejected:
    return Rejected(record.id, "scoring_failed", f"{type(exc).__name__}: {exc}"[:500])
