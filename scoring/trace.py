"""What the engine records while scoring when asked to explain (see `scoring.explain`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """One rule as evaluated.

    `points` is what the rule contributed in the end; `earned` is what it earned before its
    group's cap (after its own `max`). `note` says why a rule was skipped, capped or cut.
    """

    rule: str
    dimension: str
    group: str | None
    kind: str
    slot: int
    matched: bool
    points: float = 0.0
    earned: float = 0.0
    count: int = 0
    age_days: float | None = None
    decay: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class GroupTrace:
    name: str | None
    dimension: str
    max: float | None
    total_before_cap: float
    total: float
    first_match: bool


@dataclass(frozen=True, slots=True)
class CheckTrace:
    """A disqualifier or a grade override and whether its condition held."""

    name: str
    kind: str
    matched: bool
    effect: str


@dataclass(frozen=True, slots=True)
class QualifyTrace:
    previously: bool | None
    enter_holds: bool | None
    exit_holds: bool | None
    cooldown_held: bool
    decision: bool
    why: str


@dataclass(slots=True)
class Trace:
    """A mutable collector the engine fills when explaining; None when just scoring."""

    rules: list[RuleTrace] = field(default_factory=list)
    groups: list[GroupTrace] = field(default_factory=list)
    checks: list[CheckTrace] = field(default_factory=list)
    qualify: QualifyTrace | None = None
    grade_before_overrides: str | None = None
