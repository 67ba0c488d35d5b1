"""`leadsync preview`: what would change if a candidate model replaced the live one.

Both models score the same records at the same moment with the same previous results (so
qualification hysteresis behaves as it would live); nothing is written anywhere. The comparison
keeps only counts, score lists and a few samples, so it streams through any population size.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from config.errors import UserError
from connectors.base import Connector
from revops.formatting import table
from scoring import score
from scoring.model import ScoringModel
from scoring.types import Record, ScoreResult
from sync.run import member_request, read_fields, with_accounts
from sync.state.store import StateStore

SAMPLE_KINDS = (
    "newly qualified",
    "no longer qualified",
    "label changed",
    "largest rises",
    "largest falls",
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One record's result under each model, summarised."""

    record_id: str
    before: str
    after: str
    delta: int


@dataclass(frozen=True, slots=True)
class RuleShift:
    """How much a rule adds per record, on average over the whole population, with each model
    (a record the rule does not fire on counts 0)."""

    rule: str
    before: float
    after: float
    records: int

    @property
    def delta(self) -> float:
        """Mean points per record after minus before."""
        return self.after - self.before


@dataclass
class Preview:
    """The comparison of a candidate model with the live one."""

    live_name: str
    candidate_name: str
    source: str
    label_order: tuple[str, ...]
    records: int = 0
    label_changed: int = 0
    grade_changed: int = 0
    newly_qualified: int = 0
    unqualified: int = 0
    scores_before: list[float] = field(default_factory=list)
    scores_after: list[float] = field(default_factory=list)
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    rule_shifts: list[RuleShift] = field(default_factory=list)
    samples: dict[str, list[Sample]] = field(default_factory=dict)


def _summary(result: ScoreResult) -> str:
    qualified = "qualified" if result.qualified else "not qualified"
    top = "; ".join(result.reasons[:2])
    return f"{result.score} {result.label} {qualified}" + (f" ({top})" if top else "")


class _Comparer:
    """Accumulates the comparison record by record."""

    def __init__(self, preview: Preview, samples: int) -> None:
        self.preview = preview
        self.limit = samples
        self.points_before: defaultdict[str, float] = defaultdict(float)
        self.points_after: defaultdict[str, float] = defaultdict(float)
        self.touched: Counter[str] = Counter()
        self.pool: dict[str, list[Sample]] = {kind: [] for kind in SAMPLE_KINDS}

    def add(self, record_id: str, before: ScoreResult, after: ScoreResult) -> None:
        pv = self.preview
        pv.records += 1
        pv.scores_before.append(float(before.score))
        pv.scores_after.append(float(after.score))
        pv.transitions[(before.label, after.label)] += 1
        pv.label_changed += before.label != after.label
        pv.grade_changed += before.grade != after.grade
        pv.newly_qualified += after.qualified and not before.qualified
        pv.unqualified += before.qualified and not after.qualified
        old = {c.rule: c.points for c in before.contributions}
        new = {c.rule: c.points for c in after.contributions}
        for rule in old.keys() | new.keys():
            self.points_before[rule] += old.get(rule, 0.0)
            self.points_after[rule] += new.get(rule, 0.0)
            if old.get(rule) != new.get(rule):
                self.touched[rule] += 1
        sample = Sample(record_id, _summary(before), _summary(after), after.score - before.score)
        kinds = []
        if after.qualified and not before.qualified:
            kinds.append("newly qualified")
        if before.qualified and not after.qualified:
            kinds.append("no longer qualified")
        if before.label != after.label:
            kinds.append("label changed")
        if sample.delta > 0:
            kinds.append("largest rises")
        if sample.delta < 0:
            kinds.append("largest falls")
        for kind in kinds:
            self._keep(kind, sample)

    def _keep(self, kind: str, sample: Sample) -> None:
        pool = self.pool[kind]
        if kind in ("largest rises", "largest falls"):
            pool.append(sample)
            pool.sort(key=lambda s: (-abs(s.delta), s.record_id))
            del pool[self.limit :]
        elif len(pool) < self.limit:
            pool.append(sample)

    @classmethod
    def for_models(
        cls, live: ScoringModel, candidate: ScoringModel, source: str, samples: int
    ) -> _Comparer:
        """A comparer whose label order lists the live model's labels, then the candidate's."""
        order = tuple(dict.fromkeys((*live.labels, *candidate.labels)))
        return cls(Preview(live.name, candidate.name, source, order), samples)

    def add_scored(
        self,
        record: Record,
        prior: ScoreResult | None,
        live: ScoringModel,
        candidate: ScoringModel,
        now: datetime,
    ) -> None:
        """Score `record` with both models (from the same previous result) and add the pair."""
        self.add(record.id, score(record, live, now, prior), score(record, candidate, now, prior))

    def finish(self, top_rules: int = 10) -> Preview:
        n = self.preview.records or 1
        shifts = [
            RuleShift(
                rule,
                self.points_before[rule] / n,
                self.points_after[rule] / n,
                self.touched[rule],
            )
            for rule in self.touched
        ]
        shifts.sort(key=lambda s: (-abs(s.delta), s.rule))
        self.preview.rule_shifts = shifts[:top_rules]
        self.preview.samples = self.pool
        return self.preview


def compare(  # noqa: PLR0913  the options of one analysis
    records: Iterable[Record],
    live: ScoringModel,
    candidate: ScoringModel,
    *,
    now: datetime,
    previous: Mapping[str, ScoreResult] | None = None,
    source: str,
    samples: int = 5,
) -> Preview:
    """Score `records` with both models and compare (`previous` keyed by record id)."""
    comparer = _Comparer.for_models(live, candidate, source, samples)
    known = previous or {}
    for record in records:
        comparer.add_scored(record, known.get(record.id), live, candidate, now)
    return comparer.finish()


def preview_from_crm(  # noqa: PLR0913  the options of one analysis
    connector: Connector,
    store: StateStore,
    *,
    connection: str,
    kind: str,
    live: ScoringModel,
    candidate: ScoringModel,
    now: datetime,
    samples: int = 5,
    stored_as: str | None = None,
    accounts: str | None = None,
) -> Preview:
    """Read the whole population of `kind` from the CRM and compare the two models on it, each
    record from the live model's latest result, stored under `stored_as` (a model group's
    further model, e.g. `contact:pl_b`; default `kind`). When either model reads `account.`
    fields, each person reads their account's latest stored result as a run would
    (`sync.run.with_accounts`; stored under `accounts`, default the account kind's first
    model): one store query a page, no further CRM read."""
    reader = next((m for m in (candidate, live) if m.account_fields), None)
    fields = set(live.properties | candidate.properties)
    if reader is not None:
        fields |= read_fields(reader, connector.crm, kind)
    events = sorted(live.event_types | candidate.event_types)
    source = f"{connection} ({kind} records read from the CRM)"
    comparer = _Comparer.for_models(live, candidate, source, samples)
    pages = connector.iter_pages(
        kind, sorted(fields), events, since=None, members=member_request(live, candidate)
    )
    for page in pages:
        records = page.records
        if reader is not None:
            records = with_accounts(
                records,
                reader,
                crm=connector.crm,
                kind=kind,
                store=store,
                connection=connection,
                accounts=accounts,
            )
        ids = [r.id for r in records]
        previous = store.previous_scores(connection, stored_as or kind, ids)
        for record in records:
            comparer.add_scored(record, previous.get(record.id), live, candidate, now)
    return comparer.finish()


def preview_from_state(  # noqa: PLR0913  the options of one analysis
    store: StateStore,
    *,
    connection: str,
    kind: str,
    live: ScoringModel,
    candidate: ScoringModel,
    now: datetime,
    samples: int = 5,
    stored_as: str | None = None,
) -> Preview:
    """Compare the two models on the records kept in the state store: each record rebuilt from
    the inputs the live model read at its last sync, its stored result as the previous one
    (the live model's results are stored under `stored_as`, default `kind`).

    Raises `UserError` when the store cannot answer for the whole population: an account model
    (the snapshots hold an account's own inputs, not its people, so its roll-ups would score
    0), a model with `account.` rules (the snapshots do not say whose account), the candidate
    reads properties or event types the live model does not (they were never stored), some
    results were stored by another model version or before input snapshots existed, or there is
    nothing stored yet. A full sync with the live model makes every snapshot current.
    """
    if live.account_fields or candidate.account_fields:
        raise UserError(
            f"--from-state: the state store keeps each {kind}'s own inputs, not which account "
            "it belongs to, so the account. rules cannot read their account's result from it; "
            "preview without --from-state to read the records from the CRM"
        )
    if live.rollup is not None or candidate.rollup is not None:
        raise UserError(
            f"--from-state: the state store keeps each {kind}'s own inputs, not its people, so "
            "the roll-ups cannot be rescored from it; preview without --from-state to read the "
            f"{kind} records and their people from the CRM"
        )
    missing = sorted(
        {f"property {p}" for p in candidate.properties - live.properties}
        | {f"event type {e}" for e in candidate.event_types - live.event_types}
    )
    if missing:
        raise UserError(
            f"--from-state: the candidate model reads {', '.join(missing)}, which the live "
            "model does not, so the state store does not hold them; preview without "
            "--from-state to read them from the CRM"
        )
    where = stored_as or kind
    total, with_inputs = store.latest_count(connection, where)
    if total == 0:
        raise UserError(
            f"--from-state: no {kind} scores are stored for {connection}; run `leadsync sync` first"
        )
    if with_inputs < total:
        raise UserError(
            f"--from-state: {total - with_inputs:,} of {total:,} stored {kind} scores of "
            f"{connection} have no stored inputs (scored before this leadsync version); run "
            "`leadsync sync --full` once, or preview without --from-state"
        )
    source = f"{connection} ({kind} records from the state store)"
    comparer = _Comparer.for_models(live, candidate, source, samples)
    stale = 0
    for record, prior in store.iter_latest(connection, where):
        if prior.model_version != live.version:
            stale += 1
            continue
        comparer.add_scored(record, prior, live, candidate, now)
    if stale:
        raise UserError(
            f"--from-state: {stale:,} of {total:,} stored {kind} scores of {connection} come "
            "from another version of the live model, whose inputs may differ; run "
            "`leadsync sync --full` once, or preview without --from-state"
        )
    return comparer.finish()


#: Column headers of the rule table (terminal and HTML report).
RULE_SHIFT_HEADERS = (
    "rule",
    "mean points per record, live",
    "candidate",
    "change",
    "records whose points changed",
)


def rule_shift_rows(shifts: Sequence[RuleShift]) -> list[list[object]]:
    """The rule table's rows: means with two decimals, the change signed."""
    return [
        [r.rule, f"{r.before:.2f}", f"{r.after:.2f}", f"{r.delta:+.2f}", f"{r.records:,}"]
        for r in shifts
    ]


def render(pv: Preview) -> str:
    """The preview summary for the terminal."""
    n = pv.records
    lines = [
        f"preview of {pv.candidate_name} against {pv.live_name} on {n:,} records from "
        f"{pv.source}; nothing was written",
        f"label changes {pv.label_changed:,}  grade changes {pv.grade_changed:,}  "
        f"newly qualified {pv.newly_qualified:,}  no longer qualified {pv.unqualified:,}",
    ]
    if n:
        before = sorted(pv.scores_before)
        after = sorted(pv.scores_after)
        median, top = n // 2, (9 * n) // 10
        lines.append(
            f"score median {before[median]:.0f} -> {after[median]:.0f}, "
            f"90th percentile {before[top]:.0f} -> {after[top]:.0f}"
        )
    moves = [(k, v) for k, v in pv.transitions.most_common() if k[0] != k[1]][:10]
    if moves:
        lines.append("")
        lines.append(table(["label move", "records"], [[f"{a} -> {b}", v] for (a, b), v in moves]))
    if pv.rule_shifts:
        lines.append("")
        lines.append(
            table(
                list(RULE_SHIFT_HEADERS),
                rule_shift_rows(pv.rule_shifts),
            )
        )
    for kind, samples in pv.samples.items():
        if samples:
            lines.append("")
            lines.append(f"{kind}:")
            lines.extend(f"  {s.record_id}: {s.before}  ->  {s.after}" for s in samples)
    return "\n".join(lines)
