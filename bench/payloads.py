"""Realistic write payloads for the connector benches: every output a sync writes."""

from __future__ import annotations

from datetime import datetime

GRADES = ("A", "B", "C", "D")
LABELS = tuple(g + t for g in GRADES for t in "123")


def outputs(number: int, stamp: datetime) -> dict[str, object]:
    """Every output value of a scored record (canonical names), varied by `number`: numbers,
    grade and label options, the qualified flag, five reason lines and two change lines (the
    long texts a real run writes), the scoring time and the model version."""
    fit, interest = (number * 7) % 101, (number * 13) % 101
    grade = GRADES[min(3, (100 - fit) // 25)]
    return {
        "fit": fit,
        "interest": interest,
        "score": (fit + interest + 1) // 2,
        "grade": grade,
        "label": grade + "123"[min(2, (100 - interest) // 34)],
        "qualified": fit >= 50 and interest >= 40,
        "reasons": "+30 C-level\n+25 1000+\n+20 Recent conversion\n+15 Industry\n+10 Country",
        "changes": "Grade B -> A\n+15 since last score: Pricing page",
        "scored_at": stamp,
        "model_version": "3f9c2a17b0de",
    }
