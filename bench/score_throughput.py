# ruff: noqa: E501  (the embedded model YAML keeps one rule per line)
"""Scoring throughput on one core, judged against the team's goals.

Workloads:
- properties: a 25-rule properties-only model over HubSpot-like string properties
  (goal: at least 100,000 records/s);
- events: records carrying 50 events each under 12 event rules (goal: at least 20,000 records/s).

Every pass scores FRESH records (generated for that pass, never reused, cold coercion memos) and
keeps every result; a figure is the median of the passes' rates. Each pass times:
- `score_page` in pages of 100, as the sync engine calls it (the judged figure);
- `score` record by record (the same results, one call per record);
- for the properties model, `handwritten`: the same model written by hand in plain Python (the
  reference the issue compares with; it uses the same coercion functions and the same regex
  test, RE2 remembered per text, so only the engine's overhead differs); its outputs (fit, interest, score, grade, label, qualified,
  reasons) must equal `score`'s for every record, and the ratio page/hand-written is reported.

Rates are records per CPU-second of this process (`time.process_time`): on the shared 2-core VM
wall time also counts the time other processes hold the core; the wall-clock medians are in the
JSON too. Last line: one JSON object (`bench.goals`).

    .venv/bin/python bench/score_throughput.py [--passes 9] [--records 5000] [--event-records 1000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.goals import Figure, median, report, shared_cpu
from config.model_loader import parse_model
from scoring import ScoringModel, score, score_page
from scoring.coerce import MISSING_TOKENS, clear_memos, to_datetime, to_domain, to_number
from scoring.patterns import compile_matcher
from scoring.types import Event, Record, ScoreResult

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PAGE = 100
PROPERTIES_GOAL = 100_000
EVENTS_GOAL = 20_000

PROPERTIES_MODEL = r"""
name: bench-properties
object: contact
lists:
  free_email: [gmail.com, yahoo.com, outlook.com, hotmail.com, aol.com, icloud.com]
  target_industries: [COMPUTER_SOFTWARE, INTERNET, FINANCIAL_SERVICES, INFORMATION_TECHNOLOGY_AND_SERVICES]
  countries: [United States, Canada, United Kingdom, Germany, France]
fit:
  groups:
    - name: Seniority
      first_match: true
      rules:
        - {name: C-level, if: {jobtitle: {matches: '\b(chief|ceo|cto|cmo|cfo|founder)\b'}}, points: 30}
        - {name: VP, if: {jobtitle: {matches: '\b(vp|vice president)\b'}}, points: 25}
        - {name: Director, if: {jobtitle: {matches: '\b(director|head of)\b'}}, points: 20}
        - {name: Manager, if: {jobtitle: {contains: manager}}, points: 10}
    - name: Size
      first_match: true
      rules:
        - {name: 1000+, if: {numemployees: {gte: 1000}}, points: 25}
        - {name: 500+, if: {numemployees: {gte: 500}}, points: 20}
        - {name: 100+, if: {numemployees: {gte: 100}}, points: 15}
        - {name: 25+, if: {numemployees: {gte: 25}}, points: 5}
    - name: Source
      max: 10
      rules:
        - {name: Organic, if: {hs_analytics_source: ORGANIC_SEARCH}, points: 10}
        - {name: Referral, if: {hs_analytics_source: REFERRALS}, points: 10}
        - {name: Paid, if: {hs_analytics_source: [PAID_SEARCH, PAID_SOCIAL]}, points: 5}
  rules:
    - {name: Industry, if: {industry: {in: $target_industries}}, points: 15}
    - {name: Country, if: {country: {in: $countries}}, points: 10}
    - {name: Revenue, if: {annualrevenue: {gte: 10000000}}, points: 10}
    - {name: Free email, if: {email: {domain_in: $free_email}}, points: -10}
    - {name: Has phone, if: {phone: {exists: true}}, points: 2}
    - {name: Has website, if: {website: {exists: true}}, points: 2}
    - {name: Lifecycle, if: {lifecyclestage: {in: [marketingqualifiedlead, salesqualifiedlead]}}, points: 5}
interest:
  rules:
    - name: Opens
      property: hs_email_open
      bands: [{min: 1, max: 5, points: 5}, {min: 6, max: 10, points: 10}, {min: 11, points: 15}]
    - name: Clicks
      property: hs_email_click
      bands: [{min: 1, max: 3, points: 10}, {min: 4, points: 20}]
    - name: Page views
      property: hs_analytics_num_page_views
      bands: [{min: 5, max: 20, points: 5}, {min: 21, points: 10}]
    - name: Recent visit
      property: hs_analytics_last_visit_timestamp
      recency: [{within_days: 7, points: 15}, {within_days: 30, points: 5}]
    - name: Recent conversion
      if: {recent_conversion_date: {within_days: 30}}
      points: 20
    - name: Demo form
      if: {recent_conversion_event_name: {contains: demo}}
      points: 25
    - name: Recent click
      if: {hs_email_last_click_date: {within_days: 14}}
      points: 10
disqualify:
  - {name: Student, if: {jobtitle: {matches: '\bstudent\b'}}}
qualify:
  enter: {grade: [A, B], interest: {gte: 40}}
  exit: {interest: {lt: 25}}
"""

EVENTS_MODEL = """
name: bench-events
object: contact
interest:
  decay: {half_life_days: 30}
  rules:
    - {name: Demo, event: form_submission, where: {form: {contains: demo}}, points: 50}
    - {name: Contact, event: form_submission, where: {form: {contains: contact}}, points: 30}
    - {name: Newsletter, event: form_submission, where: {form: {contains: newsletter}}, points: 10, max: 10}
    - {name: Pricing, event: page_view, where: {url: {contains: /pricing}}, points: 10, max: 40}
    - {name: Blog, event: page_view, where: {url: {contains: /blog}}, points: 2, max: 10}
    - {name: Case studies, event: page_view, where: {url: {contains: /case-studies}}, points: 5, max: 20}
    - {name: Careers, event: page_view, where: {url: {contains: /careers}}, points: -5, max: 20}
    - {name: Opens, event: email_open, within_days: 90, decay: none, bands: [{min: 1, max: 5, points: 5}, {min: 6, points: 10}]}
    - {name: Clicks, event: email_click, points: 10, max: 30}
    - {name: Replies, event: email_reply, points: 20, max: 40}
    - {name: Meetings, event: meeting, points: 40, max: 80, decay: {lifespan_days: 120}}
    - {name: Calls, event: call, where: {outcome: {in: [connected, interested]}}, points: 15, max: 30}
"""

TITLES = [
    "CEO",
    "VP Sales",
    "Director of IT",
    "Marketing Manager",
    "Engineer",
    "",
    "N/A",
    "Student",
]
SIZES = ["1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+", ""]
SOURCES = ["ORGANIC_SEARCH", "PAID_SEARCH", "REFERRALS", "DIRECT_TRAFFIC", "OFFLINE", ""]
URLS = ["/pricing", "/blog/a", "/blog/b", "/", "/product", "/case-studies/x", "/careers", "/docs"]


def _properties(rnd: random.Random) -> dict[str, object]:
    last_visit = NOW - timedelta(days=rnd.uniform(0, 60))
    return {
        "email": f"p{rnd.randrange(10**6)}@{rnd.choice(['gmail.com', 'acme.example', 'globex.example'])}",
        "jobtitle": rnd.choice(TITLES),
        "numemployees": rnd.choice(SIZES),
        "industry": rnd.choice(["COMPUTER_SOFTWARE", "RETAIL", "INTERNET", ""]),
        "country": rnd.choice(["United States", "Germany", "Brazil", "India", ""]),
        "annualrevenue": rnd.choice(["1000000", "25000000", "", "12,500,000"]),
        "hs_analytics_source": rnd.choice(SOURCES),
        "lifecyclestage": rnd.choice(["lead", "subscriber", "marketingqualifiedlead"]),
        "phone": rnd.choice(["", "+1 555 0100"]),
        "website": rnd.choice(["", "https://www.acme.example"]),
        "hs_email_last_click_date": rnd.choice(
            ["", "2026-11-15T08:00:00.000Z", "2026-09-01T08:00:00Z"]
        ),
        "hs_email_open": str(rnd.randrange(0, 30)),
        "hs_email_click": str(rnd.randrange(0, 6)),
        "hs_analytics_num_page_views": str(rnd.randrange(0, 40)),
        "hs_analytics_last_visit_timestamp": last_visit.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "recent_conversion_date": str(
            int((NOW - timedelta(days=rnd.uniform(0, 90))).timestamp() * 1000)
        ),
        "recent_conversion_event_name": rnd.choice(["Request a demo", "Newsletter", ""]),
    }


def _events(rnd: random.Random, count: int) -> tuple[Event, ...]:
    events = []
    for _ in range(count):
        at = NOW - timedelta(days=rnd.uniform(0, 180))
        kind = rnd.choice(
            ["page_view"] * 5
            + ["email_open"] * 3
            + ["email_click", "form_submission", "meeting", "call", "email_reply"]
        )
        if kind == "page_view":
            attrs: dict[str, object] = {
                "url": "https://www.example.com" + rnd.choice(URLS),
                "title": "Page",
            }
        elif kind == "form_submission":
            attrs = {"form": rnd.choice(["Request a Demo", "Contact us", "Newsletter signup"])}
        elif kind == "call":
            attrs = {"outcome": rnd.choice(["Connected", "No answer"]), "duration_s": 120}
        else:
            attrs = {"email": "Update"}
        events.append(Event(kind, at, attrs))
    return tuple(events)


# --- the properties model written by hand -----------------------------------------------------

# The model's own regex test (RE2, remembered per text), so that only the engine's overhead differs
_C_LEVEL = compile_matcher(r"\b(chief|ceo|cto|cmo|cfo|founder)\b")
_VP = compile_matcher(r"\b(vp|vice president)\b")
_DIRECTOR = compile_matcher(r"\b(director|head of)\b")
_STUDENT = compile_matcher(r"\bstudent\b")
_FREE = frozenset(["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "aol.com", "icloud.com"])
_FREE_SUFFIXES = tuple("." + d for d in sorted(_FREE))
_INDUSTRIES = frozenset(
    ["computer_software", "internet", "financial_services", "information_technology_and_services"]
)
_COUNTRIES = frozenset(["united states", "canada", "united kingdom", "germany", "france"])
_STAGES = frozenset(["marketingqualifiedlead", "salesqualifiedlead"])
_size = itemgetter(0)

#: (fit, interest, score, grade, label, qualified, reasons): what leadsync writes to the CRM.
Outputs = tuple[int, int, int, str, str, bool, tuple[str, ...]]


def _text(raw: object) -> str | None:
    if raw.__class__ is str:
        text = raw.strip().casefold()
        return None if text in MISSING_TOKENS else text
    return None if raw is None else (str(raw).strip().casefold() or None)


def _age(raw: object, now: datetime) -> float | None:
    when = to_datetime(raw)
    return None if when is None else (now - when).total_seconds() / 86400.0


def handwritten(props: Mapping[str, object], now: datetime) -> Outputs:
    """PROPERTIES_MODEL scored by hand: plain Python, one `if` per rule, no engine. Uses the same
    coercion functions, so it gives the same outputs as `score` on any record."""
    get = props.get
    fired: list[tuple[int, str]] = []  # (negated size, reason line), in rule order
    add = fired.append
    fit = 0
    title_raw = get("jobtitle")
    title = _text(title_raw)
    subject = title_raw if title_raw.__class__ is str else title
    if subject is not None and _C_LEVEL(subject):
        fit += 30
        add((-30, "+30 C-level"))
    elif subject is not None and _VP(subject):
        fit += 25
        add((-25, "+25 VP"))
    elif subject is not None and _DIRECTOR(subject):
        fit += 20
        add((-20, "+20 Director"))
    elif title is not None and "manager" in title:
        fit += 10
        add((-10, "+10 Manager"))
    size = to_number(get("numemployees"))
    if size is not None:
        if size >= 1000:
            fit += 25
            add((-25, "+25 1000+"))
        elif size >= 500:
            fit += 20
            add((-20, "+20 500+"))
        elif size >= 100:
            fit += 15
            add((-15, "+15 100+"))
        elif size >= 25:
            fit += 5
            add((-5, "+5 25+"))
    source = _text(get("hs_analytics_source"))
    if source == "organic_search":
        fit += 10
        add((-10, "+10 Organic"))
    elif source == "referrals":
        fit += 10
        add((-10, "+10 Referral"))
    elif source in ("paid_search", "paid_social"):
        fit += 5
        add((-5, "+5 Paid"))
    if _text(get("industry")) in _INDUSTRIES:
        fit += 15
        add((-15, "+15 Industry"))
    if _text(get("country")) in _COUNTRIES:
        fit += 10
        add((-10, "+10 Country"))
    revenue = to_number(get("annualrevenue"))
    if revenue is not None and revenue >= 10_000_000:
        fit += 10
        add((-10, "+10 Revenue"))
    domain = to_domain(get("email"))
    if domain is not None and (domain in _FREE or domain.endswith(_FREE_SUFFIXES)):
        fit -= 10
        add((-10, "-10 Free email"))
    if _text(get("phone")) is not None:
        fit += 2
        add((-2, "+2 Has phone"))
    if _text(get("website")) is not None:
        fit += 2
        add((-2, "+2 Has website"))
    if _text(get("lifecyclestage")) in _STAGES:
        fit += 5
        add((-5, "+5 Lifecycle"))

    interest = 0
    opens = to_number(get("hs_email_open"))
    if opens is not None:
        if 1 <= opens <= 5:
            interest += 5
            add((-5, "+5 Opens"))
        elif 6 <= opens <= 10:
            interest += 10
            add((-10, "+10 Opens"))
        elif opens >= 11:
            interest += 15
            add((-15, "+15 Opens"))
    clicks = to_number(get("hs_email_click"))
    if clicks is not None:
        if 1 <= clicks <= 3:
            interest += 10
            add((-10, "+10 Clicks"))
        elif clicks >= 4:
            interest += 20
            add((-20, "+20 Clicks"))
    views = to_number(get("hs_analytics_num_page_views"))
    if views is not None:
        if 5 <= views <= 20:
            interest += 5
            add((-5, "+5 Page views"))
        elif views >= 21:
            interest += 10
            add((-10, "+10 Page views"))
    visit = _age(get("hs_analytics_last_visit_timestamp"), now)
    if visit is not None and visit <= 30:
        days = int(visit) if visit > 0 else 0
        when = "today" if days <= 0 else f"{days}d ago"
        if visit <= 7:
            interest += 15
            add((-15, f"+15 Recent visit ({when})"))
        else:
            interest += 5
            add((-5, f"+5 Recent visit ({when})"))
    converted = _age(get("recent_conversion_date"), now)
    if converted is not None and converted <= 30:
        interest += 20
        add((-20, "+20 Recent conversion"))
    event_name = _text(get("recent_conversion_event_name"))
    if event_name is not None and "demo" in event_name:
        interest += 25
        add((-25, "+25 Demo form"))
    clicked = _age(get("hs_email_last_click_date"), now)
    if clicked is not None and clicked <= 14:
        interest += 10
        add((-10, "+10 Recent click"))

    fit = 0 if fit < 0 else min(fit, 100)
    interest = 0 if interest < 0 else min(interest, 100)
    total = (fit + interest + 1) // 2  # weights 0.5/0.5, halves rounded up
    grade = "A" if fit >= 75 else "B" if fit >= 50 else "C" if fit >= 25 else "D"
    tier = "1" if interest >= 60 else "2" if interest >= 30 else "3"
    student = subject is not None and _STUDENT(subject)
    lines = ["Disqualified: Student"] if student else []
    if student:
        fit, total, grade = 0, 0, "D"
    lines.extend(line for _, line in sorted(fired, key=_size)[:5])
    qualified = not student and grade in ("A", "B") and interest >= 40
    return fit, interest, total, grade, grade + tier, qualified, tuple(lines)


def outputs(result: ScoreResult) -> Outputs:
    """The fields of a result `handwritten` computes."""
    r = result
    return (r.fit, r.interest, r.score, r.grade, r.label, r.qualified, r.reasons)


# --- measuring ---------------------------------------------------------------------------------


def by_page(records: Sequence[Record], model: ScoringModel) -> list[ScoreResult]:
    """`score_page` over pages of 100, results kept."""
    results: list[ScoreResult] = []
    for start in range(0, len(records), PAGE):
        results.extend(score_page(records[start : start + PAGE], model, NOW))
    return results


def by_record(records: Sequence[Record], model: ScoringModel) -> list[ScoreResult]:
    """`score` record by record, results kept."""
    return [score(record, model, NOW) for record in records]


def by_hand(records: Sequence[Record]) -> list[Outputs]:
    """`handwritten` record by record, results kept."""
    return [handwritten(record.properties, NOW) for record in records]


def timed(run: Callable[[], list[Any]]) -> tuple[list[Any], float, float]:
    """(results, CPU seconds, wall seconds) of `run` from cold coercion memos."""
    clear_memos()
    cpu, wall = time.process_time(), time.perf_counter()
    results = run()
    return results, time.process_time() - cpu, time.perf_counter() - wall


def measure(
    make: Callable[[random.Random], Record],
    model: ScoringModel,
    *,
    passes: int,
    size: int,
    hand: bool,
) -> dict[str, float]:
    """Median rates (records per CPU-second, and per wall second) over `passes` passes of
    `size` fresh records each; checks every path gives the same results."""
    rates: dict[str, list[float]] = {}
    for number in range(passes):
        rnd = random.Random(1_000_003 * (number + 1) + size)
        records = [make(rnd) for _ in range(size)]
        paths: dict[str, Callable[[], list[Any]]] = {
            "page": partial(by_page, records, model),
            "score": partial(by_record, records, model),
        }
        if hand:
            paths["handwritten"] = partial(by_hand, records)
        results: dict[str, list[Any]] = {}
        for name, run in paths.items():
            results[name], cpu, wall = timed(run)
            rates.setdefault(name, []).append(size / cpu)
            rates.setdefault(f"{name}_wall", []).append(size / wall)
        if results["page"] != results["score"]:
            raise SystemExit("score_page and score disagree")
        if hand and [outputs(r) for r in results["score"]] != results["handwritten"]:
            raise SystemExit("the hand-written model and score disagree")
        if hand:
            rates.setdefault("ratio", []).append(rates["page"][-1] / rates["handwritten"][-1])
    return {name: median(values) for name, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=9)
    parser.add_argument("--records", type=int, default=5000, help="properties records per pass")
    parser.add_argument("--event-records", type=int, default=1000, help="event records per pass")
    args = parser.parse_args()
    properties_model = parse_model(PROPERTIES_MODEL, "bench-properties")
    events_model = parse_model(EVENTS_MODEL, "bench-events")
    assert properties_model.rule_count == 25, properties_model.rule_count
    assert events_model.rule_count == 12, events_model.rule_count

    def plain(rnd: random.Random) -> Record:
        return Record(str(rnd.randrange(10**9)), "contact", _properties(rnd))

    def active(rnd: random.Random) -> Record:
        return Record(str(rnd.randrange(10**9)), "contact", {}, _events(rnd, 50))

    props = measure(plain, properties_model, passes=args.passes, size=args.records, hand=True)
    events = measure(active, events_model, passes=args.passes, size=args.event_records, hand=False)
    unit = "records/s"
    report(
        [
            Figure("properties_page_records_per_s", round(props["page"]), PROPERTIES_GOAL, unit),
            Figure("properties_score_records_per_s", round(props["score"]), PROPERTIES_GOAL, unit),
            Figure(
                "properties_ratio_to_handwritten",
                round(props["ratio"], 3),
                1.0,
                note=f"hand-written {props['handwritten']:,.0f} records/s",
            ),
            Figure("events_page_records_per_s", round(events["page"]), EVENTS_GOAL, unit),
            Figure("events_score_records_per_s", round(events["score"]), EVENTS_GOAL, unit),
        ],
        handwritten_records_per_s=round(props["handwritten"]),
        wall_clock_medians={
            "properties_page": round(props["page_wall"]),
            "properties_score": round(props["score_wall"]),
            "properties_handwritten": round(props["handwritten_wall"]),
            "events_page": round(events["page_wall"]),
            "events_score": round(events["score_wall"]),
        },
        passes=args.passes,
        records_per_pass={"properties": args.records, "events": args.event_records},
        events_per_record=50,
        rules={"properties": properties_model.rule_count, "events": events_model.rule_count},
        rate_basis="records per CPU-second of the bench process, median of whole passes",
        **shared_cpu(),
    )


if __name__ == "__main__":
    main()
