"""Changes to the contacts after generation, to simulate a CRM that keeps changing between syncs:
new activity on existing contacts, new contacts, and contacts deleted (archived)."""

from __future__ import annotations

import random

from sandbox.hubspot import events
from sandbox.hubspot import vocabulary as v
from sandbox.hubspot.store import Row, Store, Table

#: What a new contact copies from an existing one (who they are, not what they did).
_PROFILE = (
    "firstname",
    "lastname",
    "jobtitle",
    "company",
    "website",
    "industry",
    "numemployees",
    "annualrevenue",
    "country",
    "city",
    "hs_analytics_source",
)


#: `sourceType` of the engagement roll-ups' changes in their history.
ANALYTICS = "ANALYTICS"


def _live(table: Table) -> list[int]:
    return [i for i in table.ids if not table.rows[i].archived]


def mutate(store: Store, count: int, *, at_ms: int, rng: random.Random) -> list[str]:
    """Give `count` random live contacts new engagement at `at_ms` (a web session, often an
    email open, sometimes a form submission) and bump their modification dates to `at_ms`.
    Returns the ids touched. Caller holds the store lock."""
    table = store.table("contacts")
    live = _live(table)
    chosen = sorted(rng.sample(live, min(count, len(live))))
    for id_ in chosen:
        row = table.rows[id_]
        if id_ not in store.event_basis:
            store.event_basis[id_] = events.basis(table, row)
        added = store.extra_events.setdefault(id_, [])
        views = rng.randint(1, 5)
        pages = rng.choices(v.PAGES, [p[2] for p in v.PAGES], k=views)
        start = at_ms - 45_000 * (views - 1)
        for offset, (path, title, _, _) in enumerate(pages):
            added.append(
                events.page_view(
                    id_,
                    start + 45_000 * offset,
                    path,
                    title,
                    serial=f"m{len(added)}",
                    hs_referrer="",
                    hs_session_id=f"{id_}-m{len(added)}",
                    hs_session_source="DIRECT_TRAFFIC",
                    hs_city=table.raw(row, "city") or "",
                    hs_country=table.raw(row, "country") or "",
                )
            )
        _add(table, row, at_ms, "hs_analytics_num_page_views", views)
        _add(table, row, at_ms, "hs_analytics_num_visits", 1)
        table.record_change(row, "hs_analytics_last_visit_timestamp", at_ms, at_ms, ANALYTICS)
        if rng.random() < 0.4:
            _add(table, row, at_ms, "hs_email_open", 1)
            _add(table, row, at_ms, "hs_email_delivered", 1)
            table.record_change(row, "hs_email_last_open_date", at_ms, at_ms, ANALYTICS)
        if rng.random() < 0.2:
            form = rng.choices(v.FORMS, [f[1] for f in v.FORMS])[0][0]
            added.append(events.form_submission(id_, at_ms, form, serial=f"m{len(added)}"))
            _add(table, row, at_ms, "num_conversion_events", 1)
            if table.raw(row, "first_conversion_event_name") is None:
                table.record_change(row, "first_conversion_event_name", form, at_ms, ANALYTICS)
                table.record_change(row, "first_conversion_date", at_ms, at_ms, ANALYTICS)
            table.record_change(row, "recent_conversion_event_name", form, at_ms, ANALYTICS)
            table.record_change(row, "recent_conversion_date", at_ms, at_ms, ANALYTICS)
        table.touch(row, at_ms)
    table.version += 1
    return [str(i) for i in chosen]


def _add(table: Table, row: Row, at_ms: int, name: str, amount: int) -> None:
    current = int(table.raw(row, name) or 0)
    table.record_change(row, name, str(current + amount), at_ms, ANALYTICS)


#: `sourceType` of a change a user made in HubSpot's own screens.
CRM_UI = "CRM_UI"


def move(store: Store, contact: int, company: int, *, at_ms: int) -> None:
    """The contact changed companies at `at_ms`, as a user records it in HubSpot: its links to
    its former companies removed, `company` its primary one, `associatedcompanyid` changed (its
    history keeps the former value) and the modification date moved. Caller holds the store
    lock."""
    table = store.table("contacts")
    row = table.rows[contact]
    for former in list(store.associated("contacts", contact, "companies")):
        store.dissociate("contacts", contact, "companies", former)
    store.associate("contacts", contact, "companies", company)
    table.record_change(row, "associatedcompanyid", str(company), at_ms, CRM_UI)
    table.touch(row, at_ms)
    table.version += 1


def create(store: Store, count: int, *, at_ms: int, rng: random.Random) -> list[str]:
    """Add `count` new contacts created at `at_ms`, each with the profile of a random live
    contact (and its primary company), a fresh email, lifecycle stage `lead` and no activity
    yet. Their ids are larger than every existing id, as new HubSpot ids are. Caller holds the
    store lock."""
    table = store.table("contacts")
    live = _live(table)
    created: list[str] = []
    for _ in range(count if live else 0):
        model = table.rows[rng.choice(live)]
        row = Row(store.allocate_id(), at_ms, at_ms, [None] * len(table.columns))
        for name in _PROFILE:
            table.set_raw(row, name, table.raw(model, name))
        table.set_raw(row, "email", f"new{row.id}@{rng.choice(v.FREE_EMAIL_DOMAINS)}")
        table.set_raw(row, "lifecyclestage", "lead")
        companies = store.associated("contacts", model.id, "companies")
        if companies:
            store.associate("contacts", row.id, "companies", companies[0])
            table.set_raw(row, "associatedcompanyid", str(companies[0]))
        table.insert(row)
        created.append(str(row.id))
    return created


def archive(store: Store, count: int, *, at_ms: int, rng: random.Random) -> list[str]:
    """Delete (archive) `count` random live contacts at `at_ms`: lists show them only with
    `archived=true`, reads and searches no longer find them. Caller holds the store lock."""
    table = store.table("contacts")
    live = _live(table)
    chosen = sorted(rng.sample(live, min(count, len(live))))
    for id_ in chosen:
        row = table.rows[id_]
        row.archived = True
        table.touch(row, at_ms)
    table.version += 1
    return [str(i) for i in chosen]
