"""Placeholders on real data: UCI Bank Marketing codes "never contacted" as `pdays` 999, a number
that reads as data. Declared as a placeholder, the rule on it measures what it should."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.model_loader import parse_model
from config.record_files import read_records
from revops import backtest as bt
from revops.outcomes import label

DATA = Path(__file__).resolve().parents[1] / "data" / "bank-additional-full.csv"
MODEL = """\
name: contacted
object: contact
fit:
  rules:
    - {name: Contacted before, if: {pdays: {exists: true}}, points: 100}
completeness: [pdays, default]
"""


def test_pdays_999_as_a_placeholder_turns_a_constant_rule_into_a_real_one() -> None:
    records = list(read_records(DATA))
    labelled = label(
        records,
        outcome="y",
        outcome_date=None,
        created=None,
        as_of=None,
        default_now=datetime(2026, 1, 1, tzinfo=UTC),
        source=str(DATA),
    )
    figures = {}
    for head in ("", "placeholders: {properties: {pdays: [999]}}\n"):
        model = parse_model(head + MODEL, "m.yaml")
        result: dict[str, Any] = bt.to_dict(bt.run(labelled, model, outcome="y"))
        rule = result["rules"][0]
        figures[bool(head)] = (
            round(result["auc"], 6),
            rule["support"],
            None if rule["rate_with"] is None else round(rule["rate_with"], 6),
            None if rule["rate_without"] is None else round(rule["rate_without"], 6),
        )
    # without it every record has pdays, so the rule fires for all 41,188 and tells nothing
    assert figures[False] == (0.5, 41188, 0.112654, None)
    # with it: 1,515 clients contacted before, 967 of whom subscribed (63.8% against 9.3%)
    assert figures[True] == (0.596706, 1515, round(967 / 1515, 6), round(3673 / 39673, 6))
