"""Core data types shared by every layer (DESIGN.md section 3).

Connectors build `Record`s and `Event`s from CRM data; `scoring.score` turns a record into a
`ScoreResult`; the sync engine compares results with the record's current output values and
writes the material changes back. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

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
        """Rebuild a result stored with `to_dict`."""
        raw_contributions = data.get("contributions") or []
        assert isinstance(raw_contributions, list)
        contributions = tuple(
            Contribution(
                rule=str(c["rule"]),
                dimension="fit" if c["dimension"] == "fit" else "interest",
                points=float(c["points"]),
                detail=str(c.get("detail") or ""),
                group=c.get("group"),
                age_days=None if c.get("age_days") is None else float(c["age_days"]),
            )
            for c in raw_contributions
        )
        qualified_at = data.get("qualified_at")
        return cls(
            fit=int(str(data["fit"])),
            interest=int(str(data["interest"])),
            score=int(str(data["score"])),
            grade=str(data["grade"]),
            tier=str(data["tier"]),
            label=str(data["label"]),
            qualified=bool(data["qualified"]),
            disqualified_reason=(
                None
                if data.get("disqualified_reason") is None
                else str(data["disqualified_reason"])
            ),
            contributions=contributions,
            reasons=tuple(str(r) for r in data.get("reasons") or []),  # type: ignore[attr-defined]
            completeness=float(str(data["completeness"])),
            model_version=str(data["model_version"]),
            fit_raw=float(str(data.get("fit_raw", 0.0))),
            interest_raw=float(str(data.get("interest_raw", 0.0))),
            changes=tuple(str(r) for r in data.get("changes") or []),  # type: ignore[attr-defined]
            qualified_at=datetime.fromisoformat(qualified_at)
            if isinstance(qualified_at, str)
            else None,
        )
