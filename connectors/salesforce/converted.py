"""A converted Lead's activity, read from the Contact it became.

Lead conversion moves the lead's Tasks and Events (WhoId), its campaign memberships (ContactId)
and, as the sandbox assumes, its email tracking to the new Contact (docs/sandbox-fidelity.md),
so a converted Lead has no activity of its own left. Reads that ask for converted Leads
(`IsConverted` among the fields: backtests and calibration label leads by it) therefore also
select `ConvertedContactId` and, per page, read the activity of those Contacts: one query per
`IDS_PER_QUERY` Contacts (and one per activity object without a child relationship), at the
page's activity horizon. The Contact's events join the Lead's (an event both show, a campaign
membership that kept its LeadId, counts once); the backtest's point-in-time cut
(the lead's `ConvertedDate`) then drops what the Contact did after the conversion.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import replace

from connectors.base import Page
from connectors.salesforce.reader import Reader

CONVERTED_CONTACT = "ConvertedContactId"


def asks_for_converted(kind: str, fields: Collection[str], event_types: Collection[str]) -> bool:
    """True for a Lead read that includes converted Leads and wants their activity."""
    return kind == "lead" and bool(event_types) and any(f.lower() == "isconverted" for f in fields)


def with_converted_contact(fields: Collection[str]) -> tuple[list[str], bool]:
    """`fields` with `ConvertedContactId` (the Contact whose activity a converted Lead takes),
    and whether the caller asked for it (else it is dropped from the records again)."""
    asked = any(f.lower() == CONVERTED_CONTACT.lower() for f in fields)
    return sorted({*fields, CONVERTED_CONTACT}), asked


def with_contact_activity(
    reader: Reader,
    pages: Iterator[Page],
    event_types: Collection[str],
    *,
    keep_field: bool,
) -> Iterator[Page]:
    """`pages` of Leads (read with `ConvertedContactId`) with each converted Lead's events
    joined by its Contact's; `ConvertedContactId` stays in the properties only with
    `keep_field` (the caller asked for it)."""
    for page in pages:
        contact_of = {
            r.id: str(r.properties[CONVERTED_CONTACT])
            for r in page.records
            if r.properties.get(CONVERTED_CONTACT)
        }
        wanted = list(dict.fromkeys(contact_of.values()))
        found = (
            {c.id: c for c in reader.fetch("contact", wanted, (), event_types)} if wanted else {}
        )
        records = []
        for record in page.records:
            properties = record.properties
            if not keep_field:
                properties = {k: v for k, v in properties.items() if k != CONVERTED_CONTACT}
            contact = found.get(contact_of.get(record.id, ""))
            events = record.events
            if contact is not None and contact.events:
                # a campaign membership keeps its LeadId beside the new ContactId: count it once
                own = [e for e in record.events if e not in contact.events]
                events = tuple(sorted((*own, *contact.events), key=lambda e: e.at))
            records.append(replace(record, properties=properties, events=events))
        yield Page(records, page.cursor)
