"""How people are tied to accounts, for `explain` of a person on a connection that scores
accounts.

A CRM that ties some people to accounts by a rule rather than a field (Salesforce Leads, matched
to Accounts by domain) says, per person, which account the rule chose and why, so the admin sees
the same decision the account roll-up made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class AccountMatcher(Protocol):
    """A connector that can say how people are tied to accounts."""

    def account_links(self, kind: str, record_ids: Sequence[str]) -> Mapping[str, str]:
        """Per person of `kind` among `record_ids`: their account and how it was found
        (`001... (email domain acme.com)`), or why none was."""
        ...
