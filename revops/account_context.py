"""People models' `account.` rules in the model tools: each person with their account's result.

Runs and `explain` give a person the latest result their account model stored
(`sync.run.with_accounts`), and so does `preview` (it shows what the next run would do). A
backtest or a calibration must not: today's account result knows what the account's people did
after the person's outcome. So `at_cutoffs` reads the accounts of all the people once (one
`Connector.fetch` with their people, at the API's batch sizes, and their property history where
the CRM keeps it), takes each account back to each person's cutoff
(`revops.point_in_time.as_of_cutoff`: its people's events after the cutoff dropped, the scores
leadsync wrote on them counted only when written before it, its own properties at their value
then where history exists), scores it with the account model at that moment and gives the
person that result as `account.<field>` (`scoring.account_link.with_account`).

The tie between a person and their account is taken back too where the CRM keeps its history:
the person's account field (HubSpot `associatedcompanyid`, Salesforce `AccountId`) is read with
the person's other properties' history (`history_names`, no call of its own), so a person who
moved to another company after their cutoff reads the one they belonged to then. What stays
today's, and the report says so: the tie where the field has no history (Salesforce tracks a
field only when the org turned tracking on for it), and the account properties without history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from config.account_links import ACCOUNT_LINKS
from connectors.base import Connector
from connectors.history import HistoryReader
from revops.outcomes import Labelled
from revops.point_in_time import as_of_cutoff
from scoring import score
from scoring.account_link import account_id, with_account
from scoring.model import ScoringModel
from scoring.types import Record, ScoreResult
from sync.run import member_request


@dataclass(frozen=True, slots=True)
class AccountContext:
    """What the people of a backtest read through their `account.` rules."""

    account_kind: str
    account_model: str | None
    link_field: str
    with_account: int
    without_account: int
    accounts: int
    history: frozenset[str]
    without_history: tuple[str, ...]
    link_history: bool = False

    def lines(self, moment: str = "the person's own cutoff") -> list[str]:
        """What the report says about the account results the `account.` rules read (scored
        at `moment`)."""
        if self.account_model is None:
            return [
                f"account. rules: the connection scores no {self.account_kind} records, so they "
                "read no account result (as in a run)"
            ]
        out = [
            f"account. rules read each person's {self.account_kind} as scored by "
            f"{self.account_model} at {moment}, from its people's activity and "
            f"scores known then ({_people(self.with_account)} on {self.accounts:,} "
            f"{self.account_kind} record{'' if self.accounts == 1 else 's'}; "
            f"{self.without_account:,} without one)",
            f"  the person's {self.account_kind} is the one {self.link_field} named at that "
            "moment (its property history)"
            if self.link_history
            else f"  the person's {self.account_kind} is the one {self.link_field} names today",
        ]
        if self.history:
            out.append(
                f"  {self.account_kind} values from the CRM's property history: "
                + ", ".join(sorted(self.history))
            )
        if self.without_history:
            out.append(
                f"  no history in the CRM for the {self.account_kind} properties "
                + ", ".join(self.without_history)
                + " (current values used; they may have changed after the outcome)"
            )
        return out


def link_of(crm: str, kind: str, model: ScoringModel) -> tuple[str, str] | None:
    """(the person's account field, the account kind) when `model` reads `account.` fields."""
    link = ACCOUNT_LINKS.get((crm, kind))
    return link if link is not None and model.account_fields else None


def history_names(crm: str, kind: str, model: ScoringModel) -> list[str]:
    """The person properties whose history a point-in-time read asks for: the model's, and
    the account field when the model reads `account.` fields (so the tie to the account is
    taken back as well)."""
    link = link_of(crm, kind, model)
    return sorted(model.properties | ({link[0]} if link is not None else set()))


def at_cutoffs(  # noqa: PLR0913  the labelled set, where to read and the two models, keyword-only
    labelled: Labelled,
    *,
    connector: Connector,
    crm: str,
    kind: str,
    model: ScoringModel,
    account_model: ScoringModel | None,
) -> Labelled:
    """`labelled` with each person reading their account's result as of their own cutoff,
    when `model` has `account.` rules (unchanged otherwise). The records must carry the
    account field (`sync.run.read_fields`). `account_model` None: the connection scores no
    accounts, so no person has an account result (as in a run), and the report says so. Where
    `labelled.history` covers the account field, each person's account is the one it named at
    their cutoff (`history_names`)."""
    link = link_of(crm, kind, model)
    if link is None:
        return labelled
    records, context = accounts_at(
        labelled.records,
        labelled.moments(),
        connector=connector,
        crm=crm,
        kind=kind,
        model=model,
        account_model=account_model,
        link_history=link[0] in (labelled.history or ()),
    )
    return replace(labelled, records=tuple(records), account_lines=tuple(context.lines()))


def accounts_at(  # noqa: PLR0913  the people, their moments, where to read and the two models
    people: Sequence[Record],
    moments: Sequence[datetime],
    *,
    connector: Connector,
    crm: str,
    kind: str,
    model: ScoringModel,
    account_model: ScoringModel | None,
    link_history: bool = False,
) -> tuple[list[Record], AccountContext]:
    """Each person (carrying their account field) with their account's result as scored at
    their moment (`at_cutoffs`; `explain --now <past>` of one person), and what was read.
    `model` must read `account.` fields (`link_of`); `link_history`: the people's account
    field holds its value at their moment (taken from its history), not today's."""
    link = link_of(crm, kind, model)
    assert link is not None, "a model without account. rules reads no account"
    field, account_kind = link
    owners = [account_id(r.properties.get(field)) for r in people]
    if account_model is None:
        return list(people), AccountContext(
            account_kind, None, field, 0, len(owners), 0, frozenset(), (), link_history
        )
    ids = sorted({i for i in owners if i is not None})
    names = sorted(account_model.properties)
    found = {
        r.id: r
        for r in (
            connector.fetch(
                account_kind,
                ids,
                names,
                sorted(account_model.event_types),
                members=member_request(account_model),
            )
            if ids
            else []
        )
    }
    histories: dict[str, dict[str, Sequence[tuple[datetime, object]]]] = {}
    tracked: frozenset[str] = frozenset()
    if ids and names and isinstance(connector, HistoryReader):
        known = connector.property_history(account_kind, ids, names)
        histories = {k: dict(v) for k, v in known.values.items()}
        tracked = known.tracked & frozenset(names)
    scored: dict[tuple[str, datetime], ScoreResult] = {}
    records: list[Record] = []
    for record, owner, cut in zip(people, owners, moments, strict=True):
        account = found.get(owner or "")
        if account is None or owner is None:
            records.append(record)
            continue
        key = (owner, cut)
        if key not in scored:
            then, _ = as_of_cutoff(account, cut, histories.get(owner))
            scored[key] = score(then, account_model, cut)
        records.append(with_account(record, scored[key]))
    linked = sum(1 for o in owners if o is not None and o in found)
    context = AccountContext(
        account_kind,
        account_model.name,
        field,
        linked,
        len(owners) - linked,
        len(found),
        tracked,
        tuple(n for n in names if n not in tracked),
        link_history,
    )
    return records, context


def _people(count: int) -> str:
    return f"{count:,} {'person' if count == 1 else 'people'}"
