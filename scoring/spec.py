"""The normalized, validated description of a scoring model.

`config.model_loader` turns a YAML file into a `ModelSpec` (shorthands expanded, named lists
inlined, constants coerced, text case-folded); `scoring.model.compile_model` turns the spec into a
fast `ScoringModel`. The model version is a hash of the spec, so two files that mean the same
thing get the same version whatever their formatting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Property operators and the kind of argument each takes.
OPERATORS: tuple[str, ...] = (
    "eq",
    "neq",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "matches",
    "exists",
    "missing",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "domain_in",
    "within_days",
    "older_than_days",
)

Scalar = str | float | bool
#: A leaf argument after normalization: a scalar, a tuple of scalars (in/not_in/contains any of,
#: domain_in), a (low, high) pair (between), or a bool (exists/missing).
Arg = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True, slots=True)
class Leaf:
    """One test on one property (or event attribute, or result field)."""

    prop: str
    op: str
    arg: Arg


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class NotOf:
    item: Cond


Cond = Leaf | AllOf | AnyOf | NotOf


@dataclass(frozen=True, slots=True)
class Band:
    """Points for a count (or a number of days) between `min` and `max`, both inclusive unless
    `min_open` / `max_open` (`{gt: 1}`, `{lt: 2}`: half-open bands that touch without overlap)."""

    points: float
    min: float | None = None
    max: float | None = None
    min_open: bool = field(default=False, metadata={"hash_when_set": True})
    max_open: bool = field(default=False, metadata={"hash_when_set": True})

    def holds(self, number: float) -> bool:
        """True when `number` lies in the band."""
        low, high = self.min, self.max
        if low is not None and (number <= low if self.min_open else number < low):
            return False
        return high is None or (number < high if self.max_open else number <= high)


@dataclass(frozen=True, slots=True)
class Decay:
    """How an occurrence's points fade with age: halve every `days`, or fall linearly to 0."""

    kind: Literal["none", "half_life", "linear"] = "none"
    days: float = 0.0


NO_DECAY = Decay()

RuleKind = Literal["condition", "bands", "recency", "elapsed", "event"]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One scoring rule. Which fields matter depends on `kind`:

    - condition: `cond` and `points` (optionally decayed by the age of date property `age_from`).
    - bands: numeric `property` looked up in `bands` (first band that holds wins).
    - recency: date `property`; `bands` hold the days since that date.
    - elapsed: date `property`; `points` every `every_days` days elapsed, at most `max`.
    - event: events of type `event` matching `where` (within `within_days`), `points` each or
      `bands` on their count, decayed by `decay` (None: the dimension's decay), capped by `max`.
    """

    name: str
    kind: RuleKind
    points: float = 0.0
    cond: Cond | None = None
    property: str | None = None
    bands: tuple[Band, ...] = ()
    every_days: float | None = None
    event: str | None = None
    where: Cond | None = None
    within_days: float | None = None
    decay: Decay | None = None
    age_from: str | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """Rules that share a cap; with `first_match` only the first rule that fires counts."""

    name: str
    rules: tuple[RuleSpec, ...]
    first_match: bool = False
    max: float | None = None


@dataclass(frozen=True, slots=True)
class DimensionSpec:
    """Fit or interest: ungrouped rules, groups, the cap and (interest) the default decay."""

    max: float = 100.0
    rules: tuple[RuleSpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()
    decay: Decay = NO_DECAY

    @property
    def every_rule(self) -> tuple[RuleSpec, ...]:
        """Its ungrouped rules, then the rules of its groups in order."""
        return (*self.rules, *(r for g in self.groups for r in g.rules))


@dataclass(frozen=True, slots=True)
class DisqualifierSpec:
    name: str
    cond: Cond
    reason: str


@dataclass(frozen=True, slots=True)
class OverrideSpec:
    """Clamp the fit grade when `cond` holds: at least `at_least`, at most `at_most`."""

    name: str
    cond: Cond
    at_least: str | None = None
    at_most: str | None = None


@dataclass(frozen=True, slots=True)
class QualifySpec:
    """MQL rules on the result fields; `exit` None means "leave when `enter` stops holding"."""

    enter: Cond
    exit: Cond | None = None
    cooldown_days: float = 0.0
    #: HubSpot lifecycle stage to move a contact to when it qualifies (forward only).
    lifecycle_stage: str | None = field(default=None, metadata={"hash_when_set": True})


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """A member role of an account model: people whose properties match `cond` weigh `weight`."""

    name: str
    cond: Cond
    weight: float


RollupKind = Literal["score", "event", "breadth"]
Aggregate = Literal["sum", "max", "top_mean"]
#: The member scores a `score` roll-up can read.
MEMBER_SCORES: tuple[str, ...] = ("fit", "interest", "score")
AGGREGATES: tuple[str, ...] = ("sum", "max", "top_mean")


@dataclass(frozen=True, slots=True)
class RollupSpec:
    """One account interest rule computed from the account's people. By `kind`:

    - score: each member's `score` field (fit, interest or score) times their role weight,
      aggregated (`sum`, `max`, or the mean of the `top` highest, fewer people counting as 0),
      times `points` (a scale, default 1), capped by `max`.
    - event: each member's events of type `event` matching `where` (within `within_days`),
      `points` each decayed by age (`decay`, None: the interest decay), times the role weight,
      aggregated as above and capped by `max`.
    - breadth: the people with an event of one of `events` (any type when empty) within
      `within_days`, counted by role weight and looked up in `bands`.
    """

    name: str
    kind: RollupKind
    score: str | None = None
    #: score: whose score, the people model's name or output prefix part (None: the people
    #: model writing the unprefixed outputs); the configuration resolves it.
    model: str | None = field(default=None, metadata={"hash_when_set": True})
    event: str | None = None
    where: Cond | None = None
    events: tuple[str, ...] = ()
    within_days: float | None = None
    decay: Decay | None = None
    points: float = 1.0
    aggregate: Aggregate = "sum"
    top: int = 0
    max: float | None = None
    bands: tuple[Band, ...] = ()


@dataclass(frozen=True, slots=True)
class MembersSpec:
    """How an account model sees its people: their title, role weights and the roll-ups."""

    title: str
    roles: tuple[RoleSpec, ...] = ()
    #: Weight of a member no role matches.
    default_weight: float = 1.0
    rollups: tuple[RollupSpec, ...] = ()


#: Result fields of the member's account that contact and lead rules may read as `account.<f>`.
ACCOUNT_FIELDS: tuple[str, ...] = (
    "fit",
    "interest",
    "score",
    "grade",
    "tier",
    "label",
    "qualified",
)
ACCOUNT_PREFIX = "account."
#: Model objects that are accounts (scored from their people).
ACCOUNT_OBJECTS: tuple[str, ...] = ("company", "account")


Thresholds = tuple[tuple[str, float], ...]
DEFAULT_GRADES: Thresholds = (("A", 75.0), ("B", 50.0), ("C", 25.0), ("D", 0.0))
DEFAULT_TIERS: Thresholds = (("1", 60.0), ("2", 30.0), ("3", 0.0))


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    object: str
    fit: DimensionSpec
    interest: DimensionSpec
    description: str = ""
    weights: tuple[float, float] = (0.5, 0.5)
    #: (letter, lowest 0-100 fit score) best first; the last threshold is 0.
    grades: Thresholds = DEFAULT_GRADES
    tiers: Thresholds = DEFAULT_TIERS
    disqualify: tuple[DisqualifierSpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()
    qualify: QualifySpec | None = None
    reasons_top: int = 5
    changes_top: int = 3
    completeness: tuple[str, ...] = field(default=())
    #: Account models: roles and roll-ups over the account's people.
    members: MembersSpec | None = field(default=None, metadata={"hash_when_set": True})
    #: Case-folded values that mean "no data" in every property the model reads (`Select`).
    placeholders: tuple[str, ...] = field(default=(), metadata={"hash_when_set": True})
    #: (property, case-folded values) meaning "no data" in that property only, sorted.
    property_placeholders: tuple[tuple[str, tuple[str, ...]], ...] = field(
        default=(), metadata={"hash_when_set": True}
    )

    @property
    def every_rule(self) -> tuple[RuleSpec, ...]:
        """The rules of fit, then of interest (`DimensionSpec.every_rule`)."""
        return (*self.fit.every_rule, *self.interest.every_rule)
