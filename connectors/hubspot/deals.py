"""Won deals of HubSpot companies, read as a portal keeps them.

A company's deals are its `companies -> deals` associations (v4 batch read, 1,000 companies a
call); each deal's `hs_is_closed_won` (HubSpot's calculated flag, true in a closed-won stage of
any pipeline, so custom pipelines need no stage list) and `closedate` (which HubSpot sets when a
deal moves into a closed stage) come from one objects batch read per 100 distinct deals. A
company with several won deals counts once, at its earliest close.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.associations import read_associations, read_records
from connectors.hubspot.values import parse_time

__all__ = ["DEAL_PROPERTIES", "won_deals"]

DEAL_PROPERTIES = ("closedate", "hs_is_closed_won")


def won_deals(api: HubSpotApi, company_ids: Sequence[str]) -> dict[str, datetime | None]:
    """Per company of `company_ids` with a won deal, its earliest won close date (None: none
    dated); companies without one are absent.

    Calls: `ceil(companies / 1000)` association reads and `ceil(distinct deals / 100)` batch
    reads, the minimum the API's batch sizes allow.
    """
    links = read_associations(api, "companies", "deals", company_ids)
    deal_ids = dict.fromkeys(link.to_id for found in links.values() for link in found)
    deals = read_records(api, "deals", deal_ids, DEAL_PROPERTIES)
    won: dict[str, datetime | None] = {}
    for company, found in links.items():
        for link in found:
            props = deals.get(link.to_id)
            if props is None or str(props.get("hs_is_closed_won") or "").lower() != "true":
                continue
            closed = parse_time(props.get("closedate"))
            if company not in won or (closed is not None and _earlier(closed, won[company])):
                won[company] = closed
    return won


def _earlier(closed: datetime, known: datetime | None) -> bool:
    return known is None or closed < known
