"""A contact that changed companies, explained at a past moment against the HubSpot sandbox: its
`account.` rules read the company `associatedcompanyid` named then (the property's history),
not the one it names today."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from unittest.mock import ANY

import pytest

from cli.commands.runs import open_store
from cli.main import main
from config.loader import load_config
from tests.revops.test_accounts_live import PEOPLE, Live, synced

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
MOVED = datetime(2026, 11, 25, 12, tzinfo=UTC)
RULES = ("A-grade account", "Account in market")
ACCOUNT_RULES = (
    "    - {name: A-grade account, if: {account.grade: A}, points: 10}\n"
    "    - {name: Account in market, if: {account.interest: {gte: 30}}, points: 10}\n"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("tie")
    text = PEOPLE.read_text()
    anchor = "    - {name: Free email domain,"
    assert text.count(anchor) == 1
    people = tmp / "people.yaml"
    people.write_text(text.replace(anchor, ACCOUNT_RULES + anchor))
    with synced(tmp, companies=30, people=people) as live:
        yield live


def explained(capsys: pytest.CaptureFixture[str], world: Live, contact: str, at: datetime):
    """(whether each account rule matched, the point-in-time account lines) of `explain` at
    `at`."""
    capsys.readouterr()
    code = main(
        ["explain", contact, "--config", str(world.config), "--kind", "contact",
         "--format", "json", "--now", at.isoformat()]
    )  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    matched = {r["rule"]: r["matched"] for r in data["rules"] if r["rule"] in RULES}
    return matched, data["point_in_time"]["accounts"][:2]


def test_a_contact_that_moved_reads_the_company_it_belonged_to_then(world, capsys):
    store = open_store(load_config(world.config).settings)
    try:
        ids = [str(i) for i in world.sandbox.store.table("companies").ids]
        companies = store.previous_scores("sandbox", "company", ids)
    finally:
        store.close()
    links = world.sandbox.store.associations[("contacts", "companies")]
    # the sandbox's only A-grade company, in market, and the coldest D-grade one
    contact, hot = next(
        (str(c), str(linked[0]))
        for c, linked in sorted(links.items())
        if linked and companies[str(linked[0])].grade == "A"
    )
    cold = min((i for i in ids if companies[i].grade == "D"), key=lambda i: companies[i].interest)
    assert (contact, hot, companies[hot].interest, cold, companies[cold].interest) == (
        "179",
        "20",
        32,
        "7",
        18,
    )
    tie = (
        "  the person's company is the one associatedcompanyid named at that moment "
        "(its property history)"
    )
    at_now = ({"A-grade account": True, "Account in market": False}, [ANY, tie])
    assert explained(capsys, world, contact, NOW) == at_now
    world.sandbox.move_contact(contact, cold, at=MOVED)
    # before the move it still belonged to the A-grade company (associatedcompanyid's history;
    # before, the company it names today was read at every moment)
    assert explained(capsys, world, contact, NOW) == at_now
    # after the move: the D-grade company, out of market
    assert explained(capsys, world, contact, datetime(2026, 11, 30, tzinfo=UTC)) == (
        {"A-grade account": False, "Account in market": False},
        [ANY, tie],
    )
