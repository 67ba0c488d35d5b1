"""Core data types shared by every layer (DESIGN.md section 3).

Connectors build `Record`s and `Event`s from CRM data; `scoring.score` turns a record into a
`ScoreResult`; the sync engine compares results with the record's current output values and
writes the material changes back. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

RECORD_KINDS: tuple[str, ...] = ("contact", "lead", "company", "account")

#: Canonical event types connectors map CRM activity onto.
EVENT_TYPES: tuple[str, ...] = (
    "page_view",
    "form_submission",
    "email_open",
    "email_click",
    "email_reply",
    "meeting",
    "call",
    "campaign_response",
)

#: Canonical names of leadsync's output values; connectors map them to CRM property names.
OUTPUT_NAMES: tuple[str, ...] = (
    "fit",
    "interest",
    "score",
    "grade",
    "label",
    "qualified",
    "reasons",
    "changes",
    "scored_at",
    "model_version",
)


@dataclass(frozen=True, slots=True)
class Event:
    """One dated activity of a record, e.g. a page view or a form submission."""

    type: str
    at: datetime
    attributes: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Record:
    """A CRM record as scoring sees it.

    `properties` hold values as the CRM sent them (often strings). `outputs` hold the record's
    current leadsync output values as read from the CRM, keyed by the canonical names in
    `OUTPUT_NAMES` (raw CRM values; absent when never written). `members` are an account's
    people, each with their own properties, events and leadsync outputs.
    """

    id: str
    kind: str
    properties: Mapping[str, object]
    events: Sequence[Event] = ()
    updated_at: datetime | None = None
    outputs: Mapping[str, object] = field(default_factory=dict)
    #: An account's people (contacts, leads) as read with it for an account model's roll-ups.
    members: Sequence[Record] = ()
    #: For a member: how the person was tied to the account (`Contact.AccountId`, `Lead: email
    #: domain acme.com`), shown by `explain`; None when the CRM links them directly.
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Contribution:
    """One rule that fired: its points after decay and caps, and a short human detail."""

    rule: str
    dimension: Literal["fit", "interest"]
    points: float
    detail: str = ""
    group: str | None = None
    age_days: float | None = None


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The outcome of scoring one record.

    `fit_raw` and `interest_raw` are the sums of the contributions of each dimension before
    clamping to `[0, max]`; `fit`, `interest` and `score` are the clamped, rounded values written to
    the CRM. `qualified_at` is when the qualification state last changed (for the cooldown).
    """

    fit: int
    interest: int
    score: int
    grade: str
    tier: str
    label: str
    qualified: bool
    disqualified_reason: str | None
    contributions: tuple[Contribution, ...]
    reasons: tuple[str, ...]
    completeness: float
    model_version: str
    fit_raw: float = 0.0
    interest_raw: float = 0.0
    changes: tuple[str, ...] = ()
    qualified_at: datetime | None = None

    def output_values(self, scored_at: datetime) -> dict[str, object]:
        """The values leadsync writes, keyed by the canonical names in `OUTPUT_NAMES`."""
        return {
            "fit": self.fit,
            "interest": self.interest,
            "score": self.score,
            "grade": self.grade,
            "label": self.label,
            "qualified": self.qualified,
            "reasons": "\n".join(self.reasons),
            "changes": "\n".join(self.changes),
            "scored_at": scored_at,
            "model_version": self.model_version,
        }

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form, the inverse of `from_dict`."""
        return {
            "fit": self.fit,
            "interest": self.interest,
            "score": self.score,
            "grade": self.grade,
            "tier": self.tier,
            "label": self.label,
            "qualified": self.qualified,
            "disqualified_reason": self.disqualified_reason,
            "contributions": [
                {
                    "rule": c.rule,
                    "dimension": c.dimension,
                    "points": c.points,
                    "detail": c.detail,
                    "group": c.group,
                    "age_days": c.age_days,
                }
                for c in self.contributions
            ],
            "reasons": list(self.reasons),
            "completeness": self.completeness,
            "model_version": self.model_version,
            "fit_raw": self.fit_raw,
            "interest_raw": self.interest_raw,
            "changes": list(self.changes),
            "qualified_at": self.qualified_at.isoformat() if self.qualified_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ScoreResult:
        """Rebuild a result stored with `to_dict` (a full rescore rebuilds every record's
        previous result, hence the slot constructors)."""
        raw_contributions = data.get("contributions") or []
        assert isinstance(raw_contributions, list)
        contributions = tuple(
            [
                new_contribution(
                    str(c["rule"]),
                    "fit" if c["dimension"] == "fit" else "interest",
                    float(c["points"]),
                    str(c.get("detail") or ""),
                    c.get("group"),
                    None if c.get("age_days") is None else float(c["age_days"]),
                )
                for c in raw_contributions
            ]
        )
        qualified_at = data.get("qualified_at")
        reason = data.get("disqualified_reason")
        reasons = cast(Iterable[object], data.get("reasons") or [])
        changes = cast(Iterable[object], data.get("changes") or [])
        return new_result(
            int(str(data["fit"])),
            int(str(data["interest"])),
            int(str(data["score"])),
            str(data["grade"]),
            str(data["tier"]),
            str(data["label"]),
            bool(data["qualified"]),
            None if reason is None else str(reason),
            contributions,
            tuple([str(r) for r in reasons]),
            float(str(data["completeness"])),
            str(data["model_version"]),
            float(str(data.get("fit_raw", 0.0))),
            float(str(data.get("interest_raw", 0.0))),
            tuple([str(r) for r in changes]),
            datetime.fromisoformat(qualified_at) if isinstance(qualified_at, str) else None,
        )


def slots_constructor(cls: type) -> Callable[..., Any]:
    """A faster equivalent of a frozen slots dataclass's `__init__` taking every field
    positionally. The generated `__init__` goes through `object.__setattr__` per field; here
    the fields are stored into an instance of a mutable twin class with the very same slots
    (plain attribute stores) whose class is then set to `cls`, which Python allows between
    classes of one layout: about a third of the time for a 16-field result. Should the layouts
    ever differ, the slots are set through their descriptors instead."""
    fields = list(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    assert not hasattr(cls, "__post_init__"), cls
    slots = tuple(cls.__dict__.get("__slots__", ()))
    twin = type(f"_Mutable{cls.__name__}", (), {"__slots__": slots})
    ns: dict[str, Any] = {"NEW": object.__new__, "CLS": cls, "TWIN": twin}
    swapped = ["result = NEW(TWIN)"]
    swapped += [f"result.{name} = {name}" for name in fields]
    swapped.append("result.__class__ = CLS")
    described = ["result = NEW(CLS)"]
    for index, name in enumerate(fields):
        ns[f"S{index}"] = getattr(cls, name).__set__
        described.append(f"S{index}(result, {name})")
    make = _define_make(cls, fields, swapped, ns)
    try:
        make(*[None] * len(fields))
    except TypeError:  # `__class__` assignment refused: not the same layout
        make = _define_make(cls, fields, described, ns)
    return make


def _define_make(
    cls: type, fields: Sequence[str], body: Sequence[str], ns: Mapping[str, Any]
) -> Callable[..., Any]:
    lines = [f"def make({', '.join(fields)}):", *("    " + line for line in body)]
    lines.append("    return result")
    namespace = dict(ns)
    exec(compile("\n".join(lines), f"<leadsync {cls.__name__}>", "exec"), namespace)
    return cast(Callable[..., Any], namespace["make"])


#: `Contribution(rule, dimension, points, detail, group, age_days)`, every field given.
new_contribution: Callable[..., Contribution] = slots_constructor(Contribution)
#: `ScoreResult(...)` with all 16 fields given in order.
new_result: Callable[..., ScoreResult] = slots_constructor(ScoreResult)
#: `Record(id, kind, properties, events, updated_at, outputs, members, link)`, every field
#: given (connectors build one per record read).
new_record: Callable[..., Record] = slots_constructor(Record)
#: `Event(type, at, attributes)`, every field given.
new_event: Callable[..., Event] = slots_constructor(Event)
