"""Scoring a page with every model of a `config.model_group.ModelGroup`.

Each model scores the page as a `PageScorer` alone would (against its own stored results and
its own outputs in the CRM, read under its namespace); their planned writes of one record are
merged into one outbox entry, so the CRM gets one write per record whatever the number of
models (HubSpot: one batch input). The merged entry's ledger payload holds every model's values
under their namespaced names and the contributions of the first model that moved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from config.model_group import ModelGroup, Slot
from scoring.types import Record
from sync.page_scoring import (
    PageScorer,
    PlannedWrite,
    PreviousRows,
    ScoredPage,
    Scorer,
    default_scorer,
)
from sync.run_summary import SAMPLE_SIZE
from sync.state.records import OutboxEntry, dumps, payload_contributions


class GroupScorer:
    """Scores pages with each model of a group; see the module docstring."""

    def __init__(
        self,
        group: ModelGroup,
        *,
        now: datetime,
        min_points_change: float,
        sample_size: int = SAMPLE_SIZE,
        scorer: Scorer = default_scorer,
    ) -> None:
        self.group = group
        self.now = now
        self.scorers = [
            PageScorer(
                slot.model,
                now=now,
                min_points_change=min_points_change,
                sample_size=sample_size,
                scorer=scorer,
            )
            for slot in group.slots
        ]

    def score(
        self,
        views: Sequence[Sequence[Record]],
        previous: Mapping[str, PreviousRows],
        *,
        skip_scored: bool = False,
    ) -> ScoredPage:
        """Score a page with every model: `views` holds the page once per model (the same
        records, with the account results that model's `account.` rules read); `previous`:
        stored rows per state kind; with `skip_scored`, each model leaves alone the records
        whose version it scored. Returns the first model's page with the merged writes, the
        other models' score rows in `extra_scores` and every record rejected by any model."""
        slots = self.group.slots
        pages = []
        for slot, scorer, page_records in zip(slots, self.scorers, views, strict=True):
            view = [replace(r, outputs=slot.own(r.outputs)) for r in page_records]
            stored = previous.get(slot.state_kind, {})
            pages.append(scorer.score(view, stored, skip_scored=skip_scored))
        first = pages[0]
        merged: dict[str, list[tuple[Slot, PlannedWrite]]] = {}
        for slot, page in zip(self.group.slots, pages, strict=True):
            for write in page.writes:
                merged.setdefault(write.entry.record_id, []).append((slot, write))
        first.writes = [_merge(record_id, parts) for record_id, parts in merged.items()]
        rejected = {r.record_id for r in first.rejected}
        for slot, page in zip(self.group.slots[1:], pages[1:], strict=True):
            first.extra_scores[slot.state_kind] = page.scores
            first.rejected += [r for r in page.rejected if r.record_id not in rejected]
            rejected |= {r.record_id for r in page.rejected}
        first.unchanged = first.read - len(rejected) - len(first.writes)
        # skipped: left alone by every model (one model may skip what another scores)
        first.skipped_ids = set.intersection(*(page.skipped_ids for page in pages))
        first.skipped = len(first.skipped_ids)
        return first


def _merge(record_id: str, parts: list[tuple[Slot, PlannedWrite]]) -> PlannedWrite:
    """One record's planned writes of several models as one."""
    if len(parts) == 1 and not parts[0][0].namespace:
        return parts[0][1]
    new: dict[str, object] = {}
    old: dict[str, object] = {}
    reasons: list[str] = []
    values: dict[str, object] = {}
    for slot, write in parts:
        data = write.entry.data()
        new.update(slot.namespaced(data["new"]))
        old.update(slot.namespaced(data["old"]))
        tag = f"{slot.model.name}: " if slot.namespace else ""
        reasons += [tag + reason for reason in data["reasons"]]
        values.update(slot.namespaced(write.values))
    head = parts[0][1]
    entry = OutboxEntry.build(
        record_id,
        new=new,
        old=old,
        reasons=reasons,
        contributions=dumps(payload_contributions(head.entry.data())),
        model_version=head.entry.model_version,
    )
    return PlannedWrite(entry, values)


def scorer_for(  # noqa: PLR0913  the model and the run's settings, keyword-only
    model: object,
    *,
    now: datetime,
    min_points_change: float,
    sample_size: int,
    scorer: Scorer,
    kept: frozenset[str] = frozenset(),
) -> PageScorer | GroupScorer:
    """The page scorer of a run: a `GroupScorer` for a `ModelGroup`, else a `PageScorer`
    (`kept`: properties its input snapshots keep beside the model's)."""
    if isinstance(model, ModelGroup):
        return GroupScorer(
            model,
            now=now,
            min_points_change=min_points_change,
            sample_size=sample_size,
            scorer=scorer,
        )
    return PageScorer(
        model,
        now=now,
        min_points_change=min_points_change,
        sample_size=sample_size,
        scorer=scorer,
        kept=kept,
    )
