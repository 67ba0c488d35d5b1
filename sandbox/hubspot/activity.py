"""New activity on existing contacts, to simulate a CRM that keeps changing between syncs."""

from __future__ import annotations

import random

from sandbox.hubspot import events
from sandbox.hubspot import vocabulary as v
from sandbox.hubspot.store import Row, Store, Table


def mutate(store: Store, count: int, *, at_ms: int, rng: random.Random) -> list[str]:
    """Give `count` random live contacts new engagement at `at_ms` (a web session, often an
    email open, sometimes a form submission) and bump their modification dates to `at_ms`.
    Returns the ids touched. Caller holds the store lock."""
    table = store.table("contacts")
    live = [i for i in table.ids if not table.rows[i].archived]
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
        _add(table, row, "hs_analytics_num_page_views", views)
        _add(table, row, "hs_analytics_num_visits", 1)
        table.set_raw(row, "hs_analytics_last_visit_timestamp", at_ms)
        if rng.random() < 0.4:
            _add(table, row, "hs_email_open", 1)
            _add(table, row, "hs_email_delivered", 1)
            table.set_raw(row, "hs_email_last_open_date", at_ms)
        if rng.random() < 0.2:
            form = rng.choices(v.FORMS, [f[1] for f in v.FORMS])[0][0]
            added.append(events.form_submission(id_, at_ms, form, serial=f"m{len(added)}"))
            _add(table, row, "num_conversion_events", 1)
            if table.raw(row, "first_conversion_event_name") is None:
                table.set_raw(row, "first_conversion_event_name", form)
                table.set_raw(row, "first_conversion_date", at_ms)
            table.set_raw(row, "recent_conversion_event_name", form)
            table.set_raw(row, "recent_conversion_date", at_ms)
        table.touch(row, at_ms)
    table.version += 1
    return [str(i) for i in chosen]


def _add(table: Table, row: Row, name: str, amount: int) -> None:
    current = int(table.raw(row, name) or 0)
    table.set_raw(row, name, str(current + amount))
