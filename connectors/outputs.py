"""The output properties leadsync owns, described once for every CRM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from connectors.base import OutputField

#: The outputs sync planning compares with a new result. Reads select only these: `reasons` and
#: `changes` (long text) and `scored_at` are written, never read back.
PLANNING_OUTPUTS: tuple[str, ...] = (
    "fit",
    "interest",
    "score",
    "grade",
    "label",
    "qualified",
    "model_version",
)


def output_fields(
    grades: Sequence[str], labels: Sequence[str], *, namespace: str = "", model: str = ""
) -> tuple[OutputField, ...]:
    """Every output field; `grades` and `labels` are the enumeration options of the model. A
    further model of a kind names its outputs in its `namespace` (`pl_a_score`), labelled with
    the `model`'s name."""
    fields = _fields(grades, labels)
    if not namespace:
        return fields
    return tuple(
        replace(f, name=namespace + f.name, label=f"{f.label} ({model or namespace.rstrip('_')})")
        for f in fields
    )


def _fields(grades: Sequence[str], labels: Sequence[str]) -> tuple[OutputField, ...]:
    return (
        OutputField("fit", "Fit score", "number", description="leadsync fit score, 0-100"),
        OutputField("interest", "Interest score", "number", description="leadsync interest, 0-100"),
        OutputField("score", "Lead score", "number", description="leadsync combined score, 0-100"),
        OutputField("grade", "Fit grade", "enumeration", tuple(grades), "leadsync fit grade"),
        OutputField(
            "label", "Priority label", "enumeration", tuple(labels), "grade + interest tier"
        ),
        OutputField("qualified", "Qualified (MQL)", "bool", description="leadsync qualification"),
        OutputField("reasons", "Score reasons", "text", description="top contributions"),
        OutputField(
            "changes", "Score changes", "text", description="what changed since last score"
        ),
        OutputField("scored_at", "Scored at", "datetime", description="when leadsync last scored"),
        OutputField("model_version", "Model version", "string", description="scoring model hash"),
    )
