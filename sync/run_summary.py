"""What a run reports: counts, the plan's shape (reasons, samples, distribution), failures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from config.redaction import redact
from scoring.types import ScoreResult
from sync.plan import PlannedChange
from sync.state.records import RunCounts, RunStatus


@dataclass(frozen=True)
class Sample:
    """One planned change, for people to eyeball."""

    record_id: str
    old_score: object
    old_label: object
    new_score: int
    new_label: str
    reasons: tuple[str, ...]
    top_reasons: tuple[str, ...]


def shown_number(value: object) -> object:
    """`value` as people read it: a whole float as an int (Salesforce returns number fields as
    JSON numbers, `49.0`; people see `49`), anything else as it is. For display only: stored
    and written values keep their type."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: Example changes a run keeps for its report
SAMPLE_SIZE = 10
#: The longest dead-letter reason a run's summary shows (the state store keeps the whole one).
REASON_LENGTH = 200
#: Where a long reason may be cut: after a space or a closing mark, not inside a word or value.
_BREAKS = frozenset(" ,;:)]}")


def shortened(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: a longer one cut after its last space or
    punctuation that fits (in its second half; else at the limit), with `…` for the rest."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = max((i for i, c in enumerate(head) if c in _BREAKS), default=-1)
    if cut >= limit // 2:
        head = head[: cut + 1]
    return head.rstrip(" ,;:") + "…"


def dead_letter_reason(code: str | None, message: str | None) -> str:
    """`code: message` as a run's summary counts it: a reason longer than `REASON_LENGTH`
    `shortened`; secret values masked (a CRM's message is not ours to trust)."""
    return shortened(redact(f"{code or 'error'}: {message or ''}"), REASON_LENGTH)


@dataclass
class PlanSummary:
    """Bounded summary of a run's plan (memory does not grow with the number of records)."""

    sample_size: int = SAMPLE_SIZE
    by_reason: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    score_bins: Counter[int] = field(default_factory=Counter)
    qualified: int = 0
    samples: list[Sample] = field(default_factory=list)

    def add_result(self, result: ScoreResult) -> None:
        """Count one scored record in the distribution."""
        self.labels[result.label] += 1
        self.score_bins[min(result.score // 10, 9)] += 1
        self.qualified += int(result.qualified)

    def merge(self, other: PlanSummary) -> None:
        """Add the counts of another part of the run (a page scored apart) and its samples
        while there is room."""
        self.by_reason.update(other.by_reason)
        self.labels.update(other.labels)
        self.score_bins.update(other.score_bins)
        self.qualified += other.qualified
        room = self.sample_size - len(self.samples)
        if room > 0:
            self.samples.extend(other.samples[:room])

    def add_change(self, change: PlannedChange) -> None:
        """Count one planned write and keep it as a sample while there is room."""
        by_reason = self.by_reason
        for reason in change.reasons:  # Counter.update walks a tuple in Python, slower
            by_reason[reason] += 1
        if len(self.samples) < self.sample_size:
            self.samples.append(
                Sample(
                    record_id=change.record_id,
                    old_score=change.old.get("score"),
                    old_label=change.old.get("label"),
                    new_score=change.result.score,
                    new_label=change.result.label,
                    reasons=change.reasons,
                    top_reasons=change.result.reasons[:3],
                )
            )


@dataclass
class RunResult:
    """The outcome of one run of one connection and record kind.

    `status`: succeeded; interrupted (stop requested, cursor saved); paused (daily budget spent
    after some progress, cursor saved); failed (could not finish; `error` says why); busy (another
    run of the connection held the lock, nothing done).
    """

    connection: str
    kind: str
    mode: str
    dry_run: bool
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    run_id: int | None = None
    counts: RunCounts = field(default_factory=RunCounts)
    plan: PlanSummary = field(default_factory=PlanSummary)
    error: str | None = None
    error_type: str | None = None
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    pauses: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def finished(self) -> bool:
        """True when the run did its job (exit status 0)."""
        return self.status in (RunStatus.SUCCEEDED, RunStatus.INTERRUPTED, RunStatus.PAUSED)
