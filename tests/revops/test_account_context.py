"""People backtests whose `account.` rules read their account as it was at each person's cutoff
(`revops.account_context.at_cutoffs`): one read of all the accounts, each scored from what its
people had done by then, its properties from their history."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from connectors.base import MemberRequest
from connectors.history import PropertyHistories
from revops import backtest as bt
from revops.account_context import at_cutoffs
from revops.outcomes import Labelled, label
from revops.point_in_time import CutoffPolicy
from scoring.types import Event, Record
from tests.scoring.helpers import model

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=60)

PEOPLE = model(
    """
    fit:
      rules:
        - {name: Account in market, if: {account.interest: {gte: 60}}, points: 10}
        - {name: A-grade account, if: {account.grade: A}, points: 20}
    """
)
ACCOUNTS = model(
    """
    object: company
    fit:
      rules:
        - {name: Software, if: {industry: software}, points: 80}
    members:
      rollup:
        - name: Engaged people
          breadth: {within_days: 14, events: [page_view]}
          bands:
            - {min: 1, points: 60}
    """
)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def person(rid: str, company: str | None, converted: bool, outcome_day: float | None) -> Record:
    return Record(
        rid,
        "contact",
        {
            "associatedcompanyid": company,
            "won": "yes" if converted else "no",
            "won_at": day(outcome_day).isoformat() if outcome_day is not None else "",
            "created": T0.isoformat(),
        },
    )


class FakeCrm:
    """Companies with their contacts, and the industry's history of company 7."""

    crm = "hubspot"

    def __init__(self) -> None:
        self.reads: list[tuple[str, list[str], MemberRequest | None]] = []
        self.history_reads: list[tuple[str, list[str], list[str]]] = []

    def fetch(
        self,
        kind: str,
        record_ids: Sequence[str],
        fields: Collection[str],
        event_types: Collection[str],
        members: MemberRequest | None = None,
    ) -> list[Record]:
        self.reads.append((kind, list(record_ids), members))
        visitor = Record("p1", "contact", {}, (Event("page_view", day(10), {}),))
        companies = {
            "7": Record("7", "company", {"industry": "software"}, members=(visitor,)),
            "8": Record("8", "company", {"industry": "software"}),
        }
        return [companies[i] for i in record_ids if i in companies]

    def property_history(
        self, kind: str, ids: Sequence[str], properties: Sequence[str]
    ) -> PropertyHistories:
        self.history_reads.append((kind, list(ids), list(properties)))
        # company 7 became a software company on day 11
        changes = [(day(0), "retail"), (day(11), "software")]
        return PropertyHistories({"7": {"industry": changes}}, frozenset({"industry"}))


def labelled_people():
    return labelled_of(
        [
            person("p1", "7", True, 12),  # after p1's own visit (day 10) and the industry change
            person("p2", "7", False, None),  # cutoff day 5: before both
            person("p3", "7", True, 10.5),  # after the visit, before the industry change
            person("p4", "8", True, 20),  # company 8: software, nobody engaged
            person("p5", None, False, None),  # no company
            person("p6", "9", False, None),  # a company the CRM does not return
        ]
    )


def labelled_of(records: list[Record], **history) -> Labelled:
    """`records` labelled as of NOW (cutoffs: outcome date, else creation plus 5 days), with
    the property `history` given (`label`'s `history` and `history_properties`)."""
    return label(
        records,
        outcome="won",
        outcome_date="won_at",
        created="created",
        as_of=NOW,
        default_now=NOW,
        policy=CutoffPolicy(window_days=5),
        **history,
    )


def test_each_person_reads_their_account_as_scored_at_their_own_cutoff():
    crm = FakeCrm()
    labelled = at_cutoffs(
        labelled_people(),
        connector=crm,  # type: ignore[arg-type]
        crm="hubspot",
        kind="contact",
        model=PEOPLE,
        account_model=ACCOUNTS,
    )
    # one read of every account named, with the people its roll-ups need, and one history read
    assert crm.reads == [
        (
            "company",
            ["7", "8", "9"],
            MemberRequest(frozenset({"jobtitle"}), frozenset({"page_view"}), 14),
        )
    ]
    assert crm.history_reads == [("company", ["7", "8", "9"], ["industry"])]
    values = [
        (r.id, r.properties.get("account.interest"), r.properties.get("account.grade"))
        for r in labelled.records
    ]
    assert values == [
        ("p1", 60, "A"),
        ("p2", 0, "D"),
        ("p3", 60, "D"),
        ("p4", 0, "A"),
        ("p5", None, None),
        ("p6", None, None),
    ]
    result = bt.run(labelled, PEOPLE, outcome="won")
    # converted: p1, p3, p4 of six; each rule fires for two converted people
    rules = {r.rule: (r.support, r.rate_with, r.rate_without, r.lift) for r in result.rules}
    assert rules == {
        "Account in market": (2, 1.0, 0.25, 4.0),
        "A-grade account": (2, 1.0, 0.25, 4.0),
    }
    assert result.point_in_time[-3:] == (
        "account. rules read each person's company as scored by test at the "
        "person's own cutoff, from its people's activity and scores known then (4 people on 2 "
        "company records; 2 without one)",
        "  the person's company is the one associatedcompanyid names today",
        "  company values from the CRM's property history: industry",
    )


def test_a_person_who_moved_after_their_cutoff_reads_the_account_of_that_moment():
    """With the history of the account field, p1 (converted on day 12, moved from company 8 to
    company 7 on day 15) reads company 8 as it was at its cutoff; p2 (no outcome, cutoff day 5)
    was created with company 7 and never moved."""
    records = [person("p1", "7", True, 12), person("p2", "7", False, None)]
    moved = {"associatedcompanyid": [(T0, "8"), (day(15), "7")]}
    stayed = {"associatedcompanyid": [(T0, "7")]}
    labelled = labelled_of(
        records,
        history={"p1": moved, "p2": stayed},
        history_properties=frozenset({"associatedcompanyid"}),
    )
    crm = FakeCrm()
    labelled = at_cutoffs(
        labelled,
        connector=crm,  # type: ignore[arg-type]
        crm="hubspot",
        kind="contact",
        model=PEOPLE,
        account_model=ACCOUNTS,
    )
    assert [r[1] for r in crm.reads] == [["7", "8"]]
    values = [
        (r.id, r.properties["associatedcompanyid"], r.properties.get("account.interest"))
        for r in labelled.records
    ]
    # company 8 has nobody engaged; company 7's visitor came on day 10, after p2's cutoff
    assert values == [("p1", "8", 0), ("p2", "7", 0)]
    assert labelled.account_lines[1] == (
        "  the person's company is the one associatedcompanyid named at that moment (its "
        "property history)"
    )
