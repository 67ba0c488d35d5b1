"""Won deals on accounts (and on Salesforce Contacts): the outcome a backtest predicts.

A company buys when a deal associated with it is won. Backtests and calibration of account models
(`revops.crm_outcomes`) ask a connector that can for the accounts with a won deal and when it
closed. A Salesforce Contact has no outcome on the record either: it bought when it holds a
contact role on a won Opportunity, which the Salesforce connector reads the same way (kind
`contact`). Records of other kinds have their own outcomes on the record itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

#: Per account id with at least one won deal: the earliest close date of its won deals (None
#: when no won deal has one). Accounts without a won deal are absent.
WonDeals = Mapping[str, datetime | None]


@runtime_checkable
class WonDealReader(Protocol):
    """A connector that can read the won deals of accounts (or of people, where the CRM ties
    people to deals)."""

    def won_deals(self, kind: str, ids: Sequence[str]) -> WonDeals:
        """The accounts of `kind` among `ids` with a won deal, and when the first one closed."""
        ...
