"""Where a person record names its account, per CRM (used by runs of people models whose rules
read `account.` fields, and by the configuration check that refuses them elsewhere).

HubSpot keeps a contact's primary company id in the contact property `associatedcompanyid`
("Primary Associated Company ID"), so reading it costs no call beyond the contact's own read.
A Salesforce Contact names its Account in `AccountId`. Salesforce Leads have no account field
(they are matched to Accounts by domain for account roll-ups only), so Lead rules cannot read
`account.` fields.
"""

from __future__ import annotations

#: (CRM, person kind) -> (the person's field holding their account's id, the account kind).
ACCOUNT_LINKS: dict[tuple[str, str], tuple[str, str]] = {
    ("hubspot", "contact"): ("associatedcompanyid", "company"),
    ("salesforce", "contact"): ("AccountId", "account"),
}


#: (CRM, account kind) -> the person kinds whose records are its members (their leadsync
#: outputs are what `score` roll-ups read).
ACCOUNT_MEMBERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("hubspot", "company"): ("contact",),
    ("salesforce", "account"): ("contact", "lead"),
}
