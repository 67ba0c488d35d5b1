"""What the tests of several account models share: a second account model (product line B)
made from an example one, and a contact model whose rules read their account's grade."""

from __future__ import annotations

import re
from pathlib import Path

#: A contact model scoring 10 for an A-grade account, 1 for none, 0 otherwise.
LINKED = """\
name: linked
object: contact
fit:
  rules:
    - {name: A-grade account, if: {account.grade: A}, points: 10}
    - {name: No account, if: {account.grade: {missing: true}}, points: 1}
"""


def product_b(example: Path, folder: Path, name: str) -> Path:
    """A second account model from the example account model `example` (HubSpot companies or
    Salesforce Accounts): named `name`, other fit weights, a roll-up of the people's fit
    instead of their interest, and a 21-day buying-committee window instead of 14."""
    path = folder / f"{name}.yaml"
    text, named = re.subn(r"^name: .*$", f"name: {name}", example.read_text(), flags=re.M)
    assert named == 1
    for old, new in (
        ("$target_industries}}, points: 30}", "$target_industries}}, points: 5}"),
        ("$core_countries}}, points: 20}", "$core_countries}}, points: 45}"),
        ("breadth: {within_days: 14", "breadth: {within_days: 21"),
        (
            "{name: Hottest people, score: interest, aggregate: top_mean, top: 3, points: 0.6, "
            "max: 40}",
            "{name: Fittest people, score: fit, aggregate: max, points: 0.2, max: 20}",
        ),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)
    return path
