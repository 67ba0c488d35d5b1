"""Leakage warnings: model inputs that know the outcome instead of predicting it.

A backtest looks great when a model reads a field that is only filled in after the sale (deal
stage, tags set by sales, the duration of the sales call). The checks, each with a reason a
RevOps admin can act on:

- names: a property is *known* to be filled after the sale (a table of CRM fields below), or
  its name says sales sets it (words such as tags, quality, status, stage, disposition,
  reason, in any spelling: `Lead Quality`, `lead_quality`, `LeadQuality`);
- data, offline: a single property or rule separates converted from other records almost
  perfectly, or far better than every other property of the model, or is filled in mostly for
  the records that converted;
- data, live: the CRM's property history shows the value was mostly set after the outcome for
  converted records;
- the whole model ranks almost perfectly, which real lead data never allows.

`rules_reading` maps the warnings onto the model's rules, for `calibrate`, which never raises a
flagged rule's points without listing it, and drops flagged rules with `--exclude-leaky`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from revops.evaluation import Bools, roc_auc

#: AUC (either direction) from which one field or rule is said to separate outcomes.
SEPARATION_AUC = 0.95
#: AUC of the whole model from which the result is implausible for real lead data.
IMPLAUSIBLE_AUC = 0.97
#: A field is an outlier when its AUC reaches this and beats every other field's by `OUTLIER_GAP`.
OUTLIER_AUC = 0.8
OUTLIER_GAP = 0.15
#: A field is filled "mostly for converted records" when its fill rate among converted records
#: exceeds the rate among the others by this much (a presence AUC of 0.8).
PRESENCE_GAP = 0.6
#: Share of converted records whose value was set after their outcome from which a field leaks.
LATE_SHARE = 0.5

LeakKind = Literal[
    "outcome_column",
    "post_outcome_field",
    "sales_field",
    "separates_outcomes",
    "outlier",
    "filled_for_converted",
    "set_after_outcome",
    "too_good",
]

#: Words in a property name that say sales (not the lead) sets the value, and why it leaks.
SALES_WORDS: dict[str, str] = {
    "tag": "tags are usually set by sales after talking to the lead",
    "tags": "tags are usually set by sales after talking to the lead",
    "quality": "a quality grade is usually given by sales after working the lead",
    "status": "a status is moved by sales reps while they work the lead",
    "stage": "a stage is moved along the sales pipeline, towards the outcome",
    "disposition": "a disposition is recorded by sales after a call",
    "reason": "a reason (lost reason, close reason) is recorded once the outcome is known",
    "outcome": "an outcome field records the result itself",
    "rating": "a rating is usually given by sales after qualifying the lead",
    "notes": "notes are written by sales while working the lead",
}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_SALES_STAGE = (
    "is set when a deal moves through the sales pipeline, so it already holds the outcome the "
    "backtest tries to predict"
)

#: (pattern on the property name, why it is filled after the sale); matched case-insensitively.
POST_OUTCOME_FIELDS: tuple[tuple[str, str], ...] = (
    (r"deal_?stage|stagename|hs_deal_stage\w*", f"the deal stage {_SALES_STAGE}"),
    (
        r"lifecyclestage",
        "HubSpot moves the lifecycle stage to opportunity or customer when a deal is created or "
        "won, so it records the outcome itself; use it only to exclude existing customers and "
        "backtest without it",
    ),
    (
        r"hs_lifecyclestage_\w+_date|hs_date_entered_\w+|hs_date_exited_\w+",
        "lifecycle stage dates are stamped when the record reaches the stage, i.e. at the sale",
    ),
    (
        r"hs_lead_status|lead_?status|status",
        "the lead status is set by sales reps while they work the lead (connected, open deal, "
        "unqualified), after the moment the score should predict",
    ),
    (
        r"(\w+_)?tags?|hs_tag\w*|sales_tags?",
        "tags are typically set by sales after talking to the lead, so they describe the outcome",
    ),
    (
        r"(hs_)?(call_)?duration(_s|_seconds|_ms)?",
        "call duration is only known once the sales call is over, and long calls are the ones "
        "that close: the value leaks the result of the call",
    ),
    (
        r"isconverted|converted\w*|is_?won|is_?closed|closed_?won\w*|hs_closed_won\w*",
        "conversion and won/closed flags are the outcome itself",
    ),
    (
        r"convertedopportunityid|converteddate|convertedaccountid|convertedcontactid",
        "Salesforce fills the converted-lead fields when the lead is converted",
    ),
    (
        r"num_associated_deals|recent_deal_\w+|first_deal_created_date|total_revenue|"
        r"closedate|close_?date|amount|days_to_close",
        "deal fields exist only once sales has opened or closed a deal for the record",
    ),
)
_COMPILED = tuple((re.compile(rf"(?i)^(?:{p})$"), why) for p, why in POST_OUTCOME_FIELDS)


@dataclass(frozen=True, slots=True)
class LeakageWarning:
    """One suspected leak: what, which check found it, and what the admin should do."""

    subject: str
    kind: LeakKind
    explanation: str
    auc: float | None = None

    def __str__(self) -> str:
        auc = f" (AUC {self.auc:.3f})" if self.auc is not None else ""
        return f"{self.subject}{auc}: {self.explanation}"


def name_words(name: str) -> list[str]:
    """The lower-case words of a property name (`Lead Quality`, `lead_quality`, `LeadQuality`)."""
    return [w.lower() for w in _WORD.findall(name)]


def sales_field(name: str) -> str | None:
    """Why `name` reads as a field sales fills in, or None."""
    for word in name_words(name):
        if word in SALES_WORDS:
            return SALES_WORDS[word]
    return None


def post_outcome_fields(fields: Sequence[str], outcome: str | None = None) -> list[LeakageWarning]:
    """Warnings for fields known to be filled after the sale, fields whose name says sales sets
    them, and the outcome itself."""
    warnings = []
    for name in sorted(fields):
        if outcome is not None and name.lower() == outcome.lower():
            warnings.append(
                LeakageWarning(
                    name,
                    "outcome_column",
                    "the model reads the outcome column itself; remove the rules that use it",
                )
            )
            continue
        for pattern, why in _COMPILED:
            if pattern.match(name):
                warnings.append(
                    LeakageWarning(
                        name,
                        "post_outcome_field",
                        f"{why}. Remove it from the model, or backtest on values captured "
                        "before the outcome.",
                    )
                )
                break
        else:
            sales_why = sales_field(name)
            if sales_why is not None:
                warnings.append(
                    LeakageWarning(
                        name,
                        "sales_field",
                        f"the name says sales sets it: {sales_why}, so it may describe the outcome "
                        "rather than predict it. Check when it is filled before trusting it.",
                    )
                )
    return warnings


def _as_number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _numbers(values: Sequence[object]) -> list[float | None]:
    try:
        # Fast path: every value is a plain number or numeric text.
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return [_as_number(v) for v in values]
    return [float(v) if math.isfinite(v) else None for v in array]


def field_separation(values: Sequence[object], outcomes: Bools, folds: int = 5) -> float:
    """How well one field alone separates outcomes, as an AUC folded to [0.5, 1].

    Numeric fields are ranked by value (records without a value left out). Other fields are
    replaced by the conversion rate of their value measured on the *other* folds, so a field
    unique to every record (an id, an email) cannot look predictive.
    """
    y = np.asarray(outcomes, dtype=bool)
    keys = ["" if v is None else str(v).strip().lower() for v in values]
    filled = [v for v, key in zip(values, keys, strict=True) if key]
    probe = filled[:500]
    numeric = bool(probe) and sum(_as_number(v) is not None for v in probe) >= 0.95 * len(probe)
    numbers = _numbers(values) if numeric else []
    present = [i for i, n in enumerate(numbers) if n is not None]
    if numeric and len(present) >= 0.95 * len(filled):
        auc = roc_auc([numbers[i] or 0.0 for i in present], y[present])
        return 0.5 if auc is None else max(auc, 1.0 - auc)
    _, codes = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
    n_codes = int(codes.max()) + 1 if len(codes) else 0
    fold = np.arange(len(keys)) % folds
    base = float(y.mean()) if len(y) else 0.0
    encoded = np.empty(len(keys), dtype=float)
    for k in range(folds):
        train = fold != k
        counts = np.bincount(codes[train], minlength=n_codes)
        converted = np.bincount(codes[train], weights=y[train].astype(float), minlength=n_codes)
        test = ~train
        encoded[test] = (converted[codes[test]] + base) / (counts[codes[test]] + 1)
    auc = roc_auc(encoded, y)
    return 0.5 if auc is None else max(auc, 1.0 - auc)


def _filled(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def fill_rates(values: Sequence[object], outcomes: Bools) -> tuple[float, float]:
    """Share of converted records, and of the others, that have a value."""
    y = np.asarray(outcomes, dtype=bool)
    filled = np.array([_filled(v) for v in values], dtype=bool)
    with_y = float(filled[y].mean()) if y.any() else 0.0
    without = float(filled[~y].mean()) if (~y).any() else 0.0
    return with_y, without


def separating_fields(
    columns: Mapping[str, Sequence[object]], outcomes: Bools
) -> list[LeakageWarning]:
    """Fields that alone separate converted from other records almost perfectly, far better
    than every other field, or that are filled in mostly for converted records."""
    warnings = []
    aucs = {name: field_separation(columns[name], outcomes) for name in columns}
    for name in sorted(columns):
        auc = aucs[name]
        others = [a for other, a in aucs.items() if other != name]
        rate_with, rate_without = fill_rates(columns[name], outcomes)
        if rate_with - rate_without >= PRESENCE_GAP:
            warnings.append(
                LeakageWarning(
                    name,
                    "filled_for_converted",
                    f"filled for {100 * rate_with:.0f}% of converted records but only "
                    f"{100 * rate_without:.0f}% of the others: a field a person fills in "
                    "mostly for the records that convert is usually filled during the sale",
                    auc,
                )
            )
        elif auc < SEPARATION_AUC and others and auc >= OUTLIER_AUC:
            runner_up = max(others)
            if auc - runner_up >= OUTLIER_GAP:
                warnings.append(
                    LeakageWarning(
                        name,
                        "outlier",
                        f"this field alone separates outcomes far better than any other field "
                        f"of the model (next best AUC {runner_up:.3f}); a single field that "
                        "much ahead is often filled after the sale, so check when it is filled",
                        auc,
                    )
                )
        if auc >= SEPARATION_AUC:
            warnings.append(
                LeakageWarning(
                    name,
                    "separates_outcomes",
                    "this field alone tells converted records from the others almost "
                    "perfectly; real buying signals are never that clean, so check when it is "
                    "filled (after the sale?) before trusting the backtest",
                    auc,
                )
            )
    return warnings


def separating_rules(fired: Mapping[str, Sequence[bool]], outcomes: Bools) -> list[LeakageWarning]:
    """Rules whose firing alone separates outcomes almost perfectly."""
    warnings = []
    for rule, flags in fired.items():
        auc = roc_auc([float(f) for f in flags], outcomes)
        if auc is not None and max(auc, 1.0 - auc) >= SEPARATION_AUC:
            warnings.append(
                LeakageWarning(
                    f"rule {rule!r}",
                    "separates_outcomes",
                    "this rule fires for almost exactly the records that converted; check "
                    "whether the data it reads is filled in after the sale",
                    max(auc, 1.0 - auc),
                )
            )
    return warnings


def set_after_outcome(late: Mapping[str, tuple[int, int]]) -> list[LeakageWarning]:
    """Fields whose history shows them mostly empty until the outcome or set by it.

    `late` maps a field to (converted records whose value was empty until their outcome or was
    set at its moment, converted records with a value and a history of it): see
    `revops.point_in_time.late_values`. A field that had a value before and changed again after
    the outcome (a page-view counter) is not flagged: the backtest rewinds it.
    """
    warnings = []
    for name in sorted(late):
        after, known = late[name]
        if known and after / known >= LATE_SHARE:
            warnings.append(
                LeakageWarning(
                    name,
                    "set_after_outcome",
                    f"the CRM's history shows the value was empty before the outcome or set by "
                    f"it for {after:,} of {known:,} converted records: it records the sale, not "
                    "a sign of it",
                )
            )
    return warnings


def rules_reading(
    rule_properties: Mapping[str, frozenset[str]], warnings: Sequence[LeakageWarning]
) -> dict[str, tuple[LeakageWarning, ...]]:
    """Per rule, the warnings about the properties it reads (and about the rule itself)."""
    by_subject: dict[str, list[LeakageWarning]] = {}
    for warning in warnings:
        by_subject.setdefault(warning.subject, []).append(warning)
    out: dict[str, tuple[LeakageWarning, ...]] = {}
    for rule, props in rule_properties.items():
        found = [w for p in sorted(props) for w in by_subject.get(p, [])]
        found += by_subject.get(f"rule {rule!r}", [])
        if found:
            out[rule] = tuple(found)
    return out


def implausible_model(auc: float | None) -> list[LeakageWarning]:
    """A warning when the model as a whole ranks too well to be true."""
    if auc is None or auc < IMPLAUSIBLE_AUC:
        return []
    return [
        LeakageWarning(
            "model",
            "too_good",
            "the model ranks converted records almost perfectly; lead data never allows this "
            "without an input that is filled after the sale",
            auc,
        )
    ]


def assess(  # noqa: PLR0913  the options of one analysis
    model_properties: Sequence[str],
    records_properties: Sequence[Mapping[str, object]],
    outcomes: Bools,
    *,
    outcome: str | None,
    fired: Mapping[str, Sequence[bool]],
    auc: float | None,
    late: Mapping[str, tuple[int, int]],
) -> list[LeakageWarning]:
    """Every leakage check on one labelled set (see the module docstring)."""
    columns = {p: [props.get(p) for props in records_properties] for p in model_properties}
    return [
        *post_outcome_fields(model_properties, outcome),
        *set_after_outcome(late),
        *separating_fields(columns, outcomes),
        *separating_rules(fired, outcomes),
        *implausible_model(auc),
    ]
