"""Outcomes read from the CRM itself, for `leadsync backtest --config F`.

What "converted" means per CRM and object, and the date it happened (for the point-in-time
guard):

- HubSpot contacts and companies: converted when `lifecyclestage` reached opportunity, customer
  or evangelist; the outcome date is the earliest `hs_lifecyclestage_<stage>_date` of those.
- Salesforce leads: converted when `IsConverted` is true; the date is `ConvertedDate`. With the
  outcome `won`: converted and the opportunity created by the conversion won
  (`ConvertedOpportunity.IsWon`, read through the lead's `ConvertedOpportunityId` in the same
  SOQL query); a lost or still open opportunity, or a conversion without one, is not won. The
  date stays `ConvertedDate`: activity after the conversion belongs to the sales cycle, and
  scoring with it would leak the outcome. Conversion moves a lead's activity to its new
  Contact; the connector reads it there for converted leads (`connectors.salesforce.converted`).

- HubSpot companies with the outcome `won` (the default for account models): a won deal
  associated with the company; the date is the earliest close date of its won deals. The
  connector reads them (`connectors.won_deals.WonDealReader`): association and deal batch reads
  at the API's batch sizes, after the companies.
- Salesforce Accounts with the outcome `won` (their default): an Opportunity on the Account
  (`AccountId`) with `IsWon` true; the date is the earliest `CloseDate` of those. The connector
  reads the won Opportunities in one query at 2,000 rows a page.
- Salesforce Contacts with the outcome `won` (their default, and their only one: a Contact is
  not converted, it is what a conversion makes): an `OpportunityContactRole` of the Contact on
  an Opportunity with `IsWon` true, any role, primary or not (lead conversion makes the new
  Contact the primary role of its Opportunity; sales adds the buying committee's people); the
  date is the earliest `CloseDate` among those Opportunities. The connector reads the won
  roles in one query at 2,000 rows a page (`connectors.salesforce.won`).

HubSpot moves a contact to customer when one of its deals is won (the default lifecycle
automation), so a won deal shows on contacts without reading deals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from config.errors import UserError
from connectors.base import Connector
from connectors.history import HistoryReader, PropertyHistories
from connectors.won_deals import WonDealReader
from revops.account_context import history_names
from revops.outcomes import Labelled, label, parse_outcome
from revops.point_in_time import CutoffPolicy
from scoring.coerce import to_bool, to_datetime, to_text
from scoring.model import ScoringModel
from scoring.types import Record
from sync.run import member_request, read_fields

#: Names of the synthetic properties that carry the outcome into `revops.outcomes.label`.
OUTCOME = "leadsync_backtest_outcome"
OUTCOME_DATE = "leadsync_backtest_outcome_date"
CREATED = "leadsync_backtest_created"
#: The CRM field holding each record's creation date (for the cutoff of records without an
#: outcome date), per CRM.
CREATED_FIELD = {"hubspot": "createdate", "salesforce": "CreatedDate"}

HUBSPOT_REACHED = ("opportunity", "customer", "evangelist")
#: `backtest --config --outcome NAME`: what counts as a positive outcome.
OUTCOMES = ("converted", "won")


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """Which CRM fields hold the outcome and how to read them."""

    fields: tuple[str, ...]
    read: Callable[[Mapping[str, object]], tuple[bool, datetime | None]]
    description: str
    #: The outcome is a won deal on the account, read by the connector after the records.
    won_deals: bool = False


def _hubspot(properties: Mapping[str, object]) -> tuple[bool, datetime | None]:
    stage = to_text(properties.get("lifecyclestage"))
    dates = [to_datetime(properties.get(f"hs_lifecyclestage_{s}_date")) for s in HUBSPOT_REACHED]
    known = [d for d in dates if d is not None]
    return stage in HUBSPOT_REACHED, min(known) if known else None


def _salesforce_lead(properties: Mapping[str, object]) -> tuple[bool, datetime | None]:
    return bool(to_bool(properties.get("IsConverted"))), to_datetime(
        properties.get("ConvertedDate")
    )


def _salesforce_won(properties: Mapping[str, object]) -> tuple[bool, datetime | None]:
    converted, when = _salesforce_lead(properties)
    won = converted and bool(to_bool(properties.get("ConvertedOpportunity.IsWon")))
    return won, when


def _deal_marked(properties: Mapping[str, object]) -> tuple[bool, datetime | None]:
    return parse_outcome(properties.get(OUTCOME)) is True, to_datetime(properties.get(OUTCOME_DATE))


#: Kinds whose outcome is by default a won deal or opportunity: on the account, or (Salesforce
#: Contacts) through the Contact's roles on opportunities.
WON_KINDS = (("hubspot", "company"), ("salesforce", "account"), ("salesforce", "contact"))


def default_outcome(crm: str, kind: str) -> str:
    """`won` for HubSpot companies, Salesforce Accounts (a won deal or opportunity on the
    account) and Salesforce Contacts (a contact role on a won opportunity), `converted`
    otherwise."""
    return "won" if (crm, kind) in WON_KINDS else "converted"


def outcome_rule(crm: str, kind: str, outcome: str = "converted") -> OutcomeRule:
    """The outcome definition for `crm` and `kind`; a UserError when there is none."""
    if outcome not in OUTCOMES:
        raise UserError(
            f"--outcome {outcome!r} is not a CRM outcome; with --config use one of "
            f"{', '.join(OUTCOMES)}"
        )
    if outcome == "won":
        if crm == "hubspot" and kind == "company":
            return OutcomeRule(
                (), _deal_marked, "a won deal associated with the company", won_deals=True
            )
        if crm == "salesforce" and kind == "account":
            return OutcomeRule(
                (), _deal_marked, "a won opportunity on the account (IsWon)", won_deals=True
            )
        if crm == "salesforce" and kind == "contact":
            return OutcomeRule(
                (),
                _deal_marked,
                "a contact role on a won opportunity (OpportunityContactRole, IsWon)",
                won_deals=True,
            )
        if crm == "salesforce" and kind == "lead":
            return OutcomeRule(
                ("IsConverted", "ConvertedDate", "ConvertedOpportunity.IsWon"),
                _salesforce_won,
                "converted lead whose opportunity was won",
            )
        raise UserError(
            f"--outcome won is for Salesforce leads, contacts and accounts and HubSpot "
            f"companies; for "
            f"{crm} {kind} "
            "records use --outcome converted (HubSpot moves a contact to customer when one of "
            "its deals is won)"
        )
    if crm == "hubspot" and kind in ("contact", "company"):
        fields = ("lifecyclestage", *(f"hs_lifecyclestage_{s}_date" for s in HUBSPOT_REACHED))
        return OutcomeRule(fields, _hubspot, "lifecycle stage reached opportunity or customer")
    if crm == "salesforce" and kind == "lead":
        return OutcomeRule(("IsConverted", "ConvertedDate"), _salesforce_lead, "converted lead")
    if crm == "salesforce" and kind == "contact":
        raise UserError(
            "--outcome converted is for Salesforce leads: a Contact is what a conversion makes; "
            "for contact records use --outcome won (a contact role on a won opportunity, the "
            "default)"
        )
    raise UserError(
        f"backtest --config has no outcome for {crm} {kind} records (it knows HubSpot contacts "
        "and companies, and Salesforce leads, contacts and accounts); export the records with "
        "an outcome column and run backtest --model M --input FILE --outcome COLUMN"
    )


def labelled_from_crm(  # noqa: PLR0913  the options of one analysis
    connector: Connector,
    crm: str,
    kind: str,
    model: ScoringModel,
    *,
    as_of: datetime | None,
    now: datetime,
    outcome: str | None = None,
    policy: CutoffPolicy | None = None,
    history: HistoryReader | None = None,
) -> Labelled:
    """Read every record of `kind` with its outcome (one of `OUTCOMES`, by default
    `default_outcome`) and take each as it was at its cutoff (`revops.point_in_time`), with the
    property history `history` reads. People whose model reads `account.` fields come with
    their account field (`sync.run.read_fields`), for `revops.account_context.at_cutoffs`."""
    rule = outcome_rule(crm, kind, outcome or default_outcome(crm, kind))
    created = CREATED_FIELD.get(crm, "createdate")
    fields = sorted(read_fields(model, crm, kind) | set(rule.fields) | {created})
    records = []
    pages = connector.iter_pages(
        kind, fields, sorted(model.event_types), since=None, members=member_request(model)
    )
    for page in pages:
        for record in page.records:
            converted, when = rule.read(record.properties)
            properties = {
                **record.properties,
                OUTCOME: "yes" if converted else "no",
                OUTCOME_DATE: when.isoformat() if when else "",
                CREATED: record.properties.get(created),
            }
            records.append(replace(record, properties=properties))
    if not records:
        raise UserError(f"the CRM returned no {kind} records to backtest on")
    if rule.won_deals:
        records = _with_won_deals(connector, crm, kind, records)
    known: PropertyHistories | None = None
    if history is not None:
        names = history_names(crm, kind, model)
        known = history.property_history(kind, [r.id for r in records], names)
    return label(
        records,
        outcome=OUTCOME,
        outcome_date=OUTCOME_DATE,
        created=CREATED,
        as_of=as_of,
        default_now=now,
        source=f"{crm} {kind} records ({rule.description})",
        policy=policy,
        history=None if known is None else known.values,
        history_properties=None if known is None else known.tracked,
    )


def _with_won_deals(
    connector: Connector, crm: str, kind: str, records: list[Record]
) -> list[Record]:
    """`records` with the outcome properties set from the won deals the connector reads."""
    if not isinstance(connector, WonDealReader):
        raise UserError(f"the {crm} connector cannot read won deals of {kind} records")
    won = connector.won_deals(kind, [r.id for r in records])
    out = []
    for record in records:
        dated = record.id in won
        when = won.get(record.id)
        properties = {
            **record.properties,
            OUTCOME: "yes" if dated else "no",
            OUTCOME_DATE: when.isoformat() if when else "",
        }
        out.append(replace(record, properties=properties))
    return out
