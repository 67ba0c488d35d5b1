"""A deterministic generator of HubSpot-like companies, contacts, engagement and outcomes.

Same seed and `now`, same data. Timestamps are relative to `now`. Every contact gets a hidden
fit (seniority, company size, industry, country, work email) and a recent-engagement level
(page views, forms, email clicks, sales replies, meetings, all fading with age); the chance that
the contact becomes a customer rises with both. Conversions dated before `now` show on the record
(`lifecyclestage = customer` and `hs_lifecyclestage_customer_date`); later ones stay hidden in
`Store.outcomes`, the ground truth backtests compare scores with. Dirty values are deliberate:
blank and "N/A" titles, odd casing, country spellings, unicode names, duplicate people.
"""

from __future__ import annotations

import bisect
import functools
import gc
import itertools
import math
import random
import unicodedata
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

from sandbox.hubspot import vocabulary as v
from sandbox.hubspot.schema import (
    ANALYTICS_SOURCES,
    CALL_DISPOSITIONS,
    COMPANY_INDUSTRIES,
    EMPLOYEE_BANDS,
)
from sandbox.hubspot.store import Outcome, Row, Store, Table

DAY = 86_400_000
T = TypeVar("T")

_BAND_LIMITS = (5, 25, 50, 100, 500, 1000)
_SIZE_CUM = tuple(itertools.accumulate((0.10, 0.18, 0.14, 0.14, 0.2, 0.1, 0.14)))
_SOURCE_CUM = tuple(itertools.accumulate((0.25, 0.12, 0.12, 0.08, 0.1, 0.05, 0.18, 0.06, 0.04)))
_DISPOSITIONS = tuple(CALL_DISPOSITIONS)


class _Draw(random.Random):
    """`random.Random` with cheaper picks: the stdlib's `choice`, `choices` and `randrange`
    cost microseconds each, which adds up over millions of draws."""

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        if step == 1:
            return start + int(self.random() * (stop - start))
        return start + step * int(self.random() * ((stop - start) // step))


#: Small numbers as shared strings: rollup counts repeat across contacts, so one string each.
_SMALL_NUMBERS = tuple(str(n) for n in range(4096))


def _text(number: int) -> str:
    return _SMALL_NUMBERS[number] if 0 <= number < len(_SMALL_NUMBERS) else str(number)


_INDUSTRY_LABELS = {
    value: (value.replace("_", " ").title(), value.replace("_", " ").lower())
    for value in COMPANY_INDUSTRIES
}


def _cumulative(weights: Sequence[float]) -> tuple[float, ...]:
    return tuple(itertools.accumulate(weights))


def _weighted(rng: random.Random, items: Sequence[T], cumulative: Sequence[float]) -> T:
    return items[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


_COUNTRY_CUM = _cumulative([c[1] for c in v.COUNTRIES])
_SENIORITY_CUM = _cumulative([s[1] for s in v.SENIORITIES])
_FORM_CUM = _cumulative([f[1] for f in v.FORMS])


def _band(employees: int) -> str:
    for index, limit in enumerate(_BAND_LIMITS):
        if employees < limit:
            return EMPLOYEE_BANDS[index]
    return EMPLOYEE_BANDS[-1]


@functools.lru_cache(maxsize=1024)
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class _Company(NamedTuple):
    row: Row
    id_text: str
    name: str
    domain: str
    website: str
    industry: str
    employees: int
    revenue: str
    country: str
    city: str


def _setter(table: Table, values: list[Any]) -> Any:
    columns = table.columns

    def put(name: str, value: Any) -> None:
        values[columns[name]] = value

    return put


def generate(
    store: Store, *, contacts: int, companies: int | None, seed: int, archived: int = 0
) -> None:
    """Fill an empty store with `companies` companies (default one per 8 contacts), `contacts`
    live contacts with engagement, and `archived` more contacts that are archived."""
    rng = _Draw(seed)
    now = store.now_ms
    company_count = companies if companies is not None else max(1, contacts // 8)
    # Millions of long-lived objects: collections during generation only rescan them, and
    # freezing them afterwards keeps later collections (while serving) from pausing requests.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        company_rows = _companies(store, rng, company_count, now)
        _contacts(store, rng, contacts, company_rows, now, archived_count=archived)
    finally:
        if was_enabled:
            gc.enable()
    gc.freeze()


def _companies(store: Store, rng: random.Random, count: int, now: int) -> list[_Company]:
    table = store.table("companies")
    width = len(table.columns)
    rows: list[Row] = []
    out: list[_Company] = []
    domains: set[str] = set()
    for _ in range(count):
        values: list[Any] = [None] * width
        put = _setter(table, values)
        stem = rng.choice(v.COMPANY_PARTS_A) + rng.choice(v.COMPANY_PARTS_B)
        suffix = rng.choice(v.COMPANY_SUFFIXES)
        country, _, cities, tld = _weighted(rng, v.COUNTRIES, _COUNTRY_CUM)
        domain = f"{stem.lower()}.{tld}"
        serial = 2
        while domain in domains:
            domain = f"{stem.lower()}{serial}.{tld}"
            serial += 1
        domains.add(domain)
        band = _weighted(rng, range(7), _SIZE_CUM)
        low = (1, *_BAND_LIMITS)[band]
        high = (*_BAND_LIMITS, 20_000)[band]
        employees = int(math.exp(rng.uniform(math.log(low), math.log(high))))
        revenue = employees * rng.randrange(60_000, 320_000, 1000)
        row_id = store.allocate_id()
        company = _Company(
            Row(row_id, 0, 0, values),
            str(row_id),
            f"{stem} {suffix}".strip(),
            domain,
            f"https://www.{domain}",
            rng.choice(COMPANY_INDUSTRIES),
            employees,
            str(revenue),
            country,
            rng.choice(cities),
        )
        put("name", company.name)
        put("domain", domain)
        put("website", company.website)
        put("industry", company.industry)
        put("numberofemployees", str(employees))
        put("annualrevenue", company.revenue)
        put("country", country)
        put("city", company.city)
        put("lifecyclestage", "lead")
        created = now - rng.randrange(400 * DAY, 1500 * DAY)
        row = company.row
        row.created = created
        row.updated = created + rng.randrange(DAY, 300 * DAY)
        rows.append(row)
        out.append(company)
    table.bulk_load(rows)
    return out


def _title(rng: random.Random) -> tuple[str, str]:
    seniority, _, templates = _weighted(rng, v.SENIORITIES, _SENIORITY_CUM)
    title = rng.choice(templates).format(f=rng.choice(v.FUNCTIONS))
    roll = rng.random()
    if roll < 0.06:
        title = ""
    elif roll < 0.08:
        title = "N/A"
    elif roll < 0.10:
        title = title.upper()
    elif roll < 0.12:
        title = title.lower()
    elif roll < 0.13:
        title = f"  {title} "
    return seniority, title


def _contacts(  # noqa: PLR0912, PLR0913, PLR0915  the inputs of one seeded record
    store: Store,
    rng: random.Random,
    count: int,
    companies: list[_Company],
    now: int,
    *,
    archived_count: int,
) -> None:
    table = store.table("contacts")
    company_table = store.table("companies")
    width = len(table.columns)
    rows: list[Row] = []
    people: list[tuple[str, str, str, _Company | None]] = []
    contacts_per_company: dict[int, int] = {}
    meetings: list[Row] = []
    calls: list[Row] = []
    # Deleted contacts sit in the recycle bin on top of the `count` live ones: only
    # `archived=true` lists them.
    total = count + archived_count
    archived = set(rng.sample(range(total), archived_count)) if archived_count else set()
    for index in range(total):
        values: list[Any] = [None] * width
        put = _setter(table, values)
        duplicate = index > 10 and rng.random() < 0.02
        if duplicate:
            first, last, email, company = people[rng.randrange(len(people))]
            email = email.upper() if rng.random() < 0.5 else email.replace("@", "+crm@")
        else:
            first = rng.choice(v.UNICODE_FIRST_NAMES if rng.random() < 0.08 else v.FIRST_NAMES)
            last = rng.choice(v.UNICODE_LAST_NAMES if rng.random() < 0.08 else v.LAST_NAMES)
            company = rng.choice(companies) if companies and rng.random() < 0.85 else None
            handle = f"{_ascii(first)}.{_ascii(last)}"
            if company is not None:
                domain = company.domain
            else:
                domain = rng.choice(v.FREE_EMAIL_DOMAINS)
                handle += str(rng.randrange(1, 999))
            email = f"{handle}@{domain}"
            if rng.random() < 0.03:
                first, last = first.upper(), last.lower()
            people.append((first, last, email, company))
        seniority, title = _title(rng)
        put("firstname", first)
        put("lastname", last)
        put("email", email)
        put("jobtitle", title)
        fit = v.SENIORITY_FIT[seniority] * 0.4
        if company is not None:
            industry = company.industry
            employees = company.employees
            country = company.country
            put("company", company.name)
            put("website", company.website)
            put("associatedcompanyid", company.id_text)
            if rng.random() < 0.8:
                label, lower = _INDUSTRY_LABELS[industry]
                put("industry", lower if rng.random() < 0.1 else label)
            if rng.random() < 0.9:
                put("numemployees", _band(employees))
            if rng.random() < 0.7:
                put("annualrevenue", company.revenue)
            size = min(1.0, math.log10(max(employees, 1)) / 3.3)
            fit += 0.25 * size + 0.2 * v.INDUSTRY_FIT.get(industry, 0.2)
            city = company.city
        else:
            country, _, cities, _ = _weighted(rng, v.COUNTRIES, _COUNTRY_CUM)
            city = rng.choice(cities)
            fit -= 0.1
        fit += 0.15 if country in v.TARGET_COUNTRIES else 0.0
        if rng.random() < 0.05:
            country_text = ""
        elif country in v.COUNTRY_VARIANTS and rng.random() < 0.08:
            country_text = rng.choice(v.COUNTRY_VARIANTS[country])
        else:
            country_text = country
        put("country", country_text or None)
        put("city", city)
        if rng.random() < 0.5:
            put("phone", f"+1 555 {rng.randrange(1000000, 9999999)}")
        put("hs_analytics_source", _weighted(rng, ANALYTICS_SOURCES, _SOURCE_CUM))
        created = now - int(rng.expovariate(1 / 200) * DAY) - rng.randrange(DAY)
        created = max(created, now - 1500 * DAY)
        row = Row(store.allocate_id(), created, created, values)
        if company is not None:
            company_id = company.row.id
            contacts_per_company[company_id] = contacts_per_company.get(company_id, 0) + 1
            store.associate("contacts", row.id, "companies", company_id)
        fit = max(0.0, min(1.0, fit))
        engagement = _engagement(
            store, rng, row, put, now=now, fit=fit, meetings_out=meetings, calls_out=calls
        )
        _lifecycle(store, rng, row, put=put, now=now, fit=fit, engagement=engagement)
        row.archived = index in archived
        rows.append(row)
    table.bulk_load(rows)
    store.table("meetings").bulk_load(meetings)
    store.table("calls").bulk_load(calls)
    for company in companies:
        count_text = str(contacts_per_company.get(company.row.id, 0))
        company_table.set_raw(company.row, "num_associated_contacts", count_text)


def _engagement(  # noqa: PLR0913, PLR0915  the inputs of one seeded record
    store: Store,
    rng: random.Random,
    row: Row,
    put: Any,
    *,
    now: int,
    fit: float,
    meetings_out: list[Row],
    calls_out: list[Row],
) -> float:
    """Rollups, meetings and calls of one contact; returns its recent-engagement level 0..1."""
    # Every activity lies between creation and now (a contact may be minutes old).
    age_days = max(0.0, (now - row.created) / DAY)
    # Interest is only loosely tied to fit: good-fit people engage somewhat more often.
    appetite = rng.lognormvariate(-0.6 + 0.8 * fit, 0.9)
    recency_days = min(age_days, rng.expovariate(1 / 40))
    last_activity = now - int(recency_days * DAY)
    visits = int(appetite * rng.uniform(0, 6))
    signal = 0.0
    latest = row.created
    if visits:
        page_views = visits + int(visits * rng.uniform(0, 3))
        put("hs_analytics_num_visits", _text(visits))
        put("hs_analytics_num_page_views", _text(page_views))
        put("hs_analytics_last_visit_timestamp", last_activity)
        signal += min(page_views, 40) / 40 * 0.35
        latest = max(latest, last_activity)
    forms = min(int(appetite * rng.uniform(0, 1.6)), 6) if visits else 0
    if forms:
        chosen = [_weighted(rng, v.FORMS, _FORM_CUM) for _ in range(forms)]
        first_at = row.created + int(rng.uniform(0, 1) * (last_activity - row.created))
        put("num_conversion_events", _text(forms))
        put("first_conversion_event_name", chosen[0][0])
        put("first_conversion_date", first_at)
        put("recent_conversion_event_name", chosen[-1][0])
        put("recent_conversion_date", max(first_at, last_activity - rng.randrange(0, 3_600_000)))
        signal += max(intent for _, _, intent in chosen) * 0.35
    weeks = int(age_days / 7)
    delivered = int(weeks * rng.uniform(0.2, 1.0))
    if delivered:
        opens = min(delivered, int(delivered * min(0.9, rng.uniform(0, 0.4) * appetite)))
        clicks = min(opens, int(opens * rng.uniform(0, 0.35)))
        put("hs_email_delivered", _text(delivered))
        put("hs_email_open", _text(opens))
        put("hs_email_click", _text(clicks))
        if opens:
            put("hs_email_last_open_date", now - int(min(age_days, rng.expovariate(1 / 20)) * DAY))
        if clicks:
            put("hs_email_last_click_date", now - int(min(age_days, rng.expovariate(1 / 30)) * DAY))
            signal += min(clicks, 5) / 5 * 0.15
    sales_touch = 0
    if rng.random() < 0.15 + 0.3 * fit:
        sales_touch = now - int(min(age_days, rng.expovariate(1 / 30)) * DAY)
        put("notes_last_contacted", sales_touch)
        put("num_contacted_notes", _text(rng.randrange(1, 8)))
        if rng.random() < 0.2 + 0.4 * min(appetite, 1.5) / 1.5:
            replied = now - int(min(age_days, rng.expovariate(1 / 25)) * DAY)
            put("hs_sales_email_last_replied", replied)
            signal += 0.2
            sales_touch = max(sales_touch, replied)
    meetings = int(rng.random() < 0.1 + 0.25 * fit * min(appetite, 2) / 2) * rng.randrange(1, 4)
    calls = int(rng.random() < 0.08 + 0.2 * fit) * rng.randrange(1, 5)
    for _ in range(meetings):
        at = now - int(min(age_days, rng.expovariate(1 / 45)) * DAY)
        outcome = _add_meeting(store, rng, row.id, at=at, now=now, pending=meetings_out)
        if outcome == "COMPLETED":
            signal += 0.1
        sales_touch = max(sales_touch, min(at, now))
    for _ in range(calls):
        at = now - int(min(age_days, rng.expovariate(1 / 45)) * DAY)
        _add_call(store, rng, row.id, at=at, pending=calls_out)
        sales_touch = max(sales_touch, at)
    if sales_touch:
        put("hs_last_sales_activity_timestamp", sales_touch)
    latest = max(latest, sales_touch)
    decay = math.exp(-recency_days / 45)
    row.updated = min(now, max(latest, row.created) + rng.randrange(0, 3_600_000))
    return min(1.0, signal * decay + 0.1 * decay * min(appetite, 2))


def _add_meeting(  # noqa: PLR0913  the inputs of one seeded record
    store: Store, rng: random.Random, contact_id: int, *, at: int, now: int, pending: list[Row]
) -> str:
    table = store.table("meetings")
    values: list[Any] = [None] * len(table.columns)
    put = _setter(table, values)
    outcome = (
        "SCHEDULED"
        if at > now - DAY
        else rng.choice(("COMPLETED",) * 4 + ("NO_SHOW", "CANCELED", "RESCHEDULED"))
    )
    put("hs_timestamp", at)
    put("hs_meeting_title", rng.choice(v.MEETING_TITLES))
    put("hs_meeting_start_time", at)
    put("hs_meeting_end_time", at + 1_800_000 * rng.randrange(1, 3))
    put("hs_meeting_outcome", outcome)
    row = Row(store.allocate_id(), at - 3 * DAY, at + 3_600_000, values)
    pending.append(row)
    store.associate("meetings", row.id, "contacts", contact_id)
    return outcome


def _add_call(
    store: Store, rng: random.Random, contact_id: int, *, at: int, pending: list[Row]
) -> None:
    table = store.table("calls")
    values: list[Any] = [None] * len(table.columns)
    put = _setter(table, values)
    disposition = rng.choice(_DISPOSITIONS)
    connected = CALL_DISPOSITIONS[disposition] == "Connected"
    put("hs_timestamp", at)
    put("hs_call_title", rng.choice(v.CALL_TITLES))
    put("hs_call_direction", "OUTBOUND" if rng.random() < 0.8 else "INBOUND")
    put("hs_call_disposition", disposition)
    put(
        "hs_call_duration",
        str(rng.randrange(60_000, 1_800_000) if connected else rng.randrange(0, 30_000)),
    )
    put("hs_call_status", "COMPLETED")
    row = Row(store.allocate_id(), at, at + 600_000, values)
    pending.append(row)
    store.associate("calls", row.id, "contacts", contact_id)


def _lifecycle(  # noqa: PLR0913  the inputs of one seeded record
    store: Store,
    rng: random.Random,
    row: Row,
    *,
    put: Any,
    now: int,
    fit: float,
    engagement: float,
) -> None:
    """Lifecycle stage and the hidden conversion outcome."""
    chance = 1 / (1 + math.exp(-(-5.0 + 4.0 * fit + 5.0 * engagement)))
    converted = rng.random() < chance
    converted_at: int | None = None
    put("hs_lifecyclestage_lead_date", row.created)
    if converted:
        converted_at = max(row.updated, now - 120 * DAY) + rng.randrange(5 * DAY, 90 * DAY)
    if converted_at is not None and converted_at <= now:
        stage = "customer"
        put("hs_lifecyclestage_customer_date", converted_at)
        put("hs_lead_status", "OPEN_DEAL")
        row.updated = max(row.updated, converted_at)
    else:
        ladder = engagement + (0.25 if converted else 0.0) + rng.uniform(-0.15, 0.15)
        if ladder > 0.7:
            stage = "opportunity"
        elif ladder > 0.5:
            stage = "salesqualifiedlead"
        elif ladder > 0.3:
            stage = "marketingqualifiedlead"
        elif ladder > 0.05:
            stage = "lead"
        else:
            stage = "subscriber" if rng.random() < 0.8 else "other"
        if rng.random() < 0.7:
            put(
                "hs_lead_status",
                rng.choice(
                    (
                        "NEW",
                        "OPEN",
                        "IN_PROGRESS",
                        "ATTEMPTED_TO_CONTACT",
                        "CONNECTED",
                        "UNQUALIFIED",
                        "BAD_TIMING",
                    )
                ),
            )
        if stage in ("marketingqualifiedlead", "salesqualifiedlead", "opportunity"):
            put(f"hs_lifecyclestage_{stage}_date", row.updated)
    put("lifecyclestage", stage)
    store.outcomes[row.id] = Outcome(converted, converted_at, round(fit, 4), round(engagement, 4))
