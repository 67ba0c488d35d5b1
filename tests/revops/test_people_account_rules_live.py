"""People models with `account.` rules through `preview` and `backtest` against the HubSpot
sandbox with buying committees: preview gives each contact its company's stored result (as a
run does), a backtest gives each contact its company as scored at the contact's own cutoff."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.commands.runs import open_store
from config.loader import load_config
from tests.revops import test_accounts_live as accounts
from tests.revops.test_accounts_live import NOW, PEOPLE, Live
from tests.revops.test_live import run

#: `tests.revops.test_accounts_live`'s sandbox, set up and synced (once for this module)
live = accounts.live

ACCOUNT_RULE_NAMES = ("A-grade account", "Account in market")
#: the account rules a candidate adds to the example contact model's fit
ACCOUNT_RULES = (
    "    - {name: A-grade account, if: {account.grade: A}, points: 10}\n"
    "    - {name: Account in market, if: {account.interest: {gte: 30}}, points: 10}\n"
)


@pytest.fixture(scope="module")
def candidate(live: Live) -> Path:
    """The example contact model with `ACCOUNT_RULES` added to its fit."""
    text = PEOPLE.read_text()
    anchor = "    - {name: Free email domain,"
    assert text.count(anchor) == 1
    path = live.tmp / "people-with-account-rules.yaml"
    path.write_text(text.replace(anchor, ACCOUNT_RULES + anchor))
    return path


def stored_companies(live: Live) -> dict[str, tuple[str, int]]:
    """Each company's stored (grade, interest)."""
    store = open_store(load_config(live.config).settings)
    try:
        ids = [str(i) for i in live.sandbox.store.table("companies").ids]
        return {
            i: (r.grade, r.interest)
            for i, r in store.previous_scores("sandbox", "company", ids).items()
        }
    finally:
        store.close()


def primary_company(live: Live) -> dict[str, str]:
    links = live.sandbox.store.associations[("contacts", "companies")]
    return {str(contact): str(companies[0]) for contact, companies in links.items() if companies}


def test_preview_gives_each_contact_its_companys_stored_result(live, candidate, capsys):
    companies = stored_companies(live)
    primary = primary_company(live)
    contacts = len(live.sandbox.store.table("contacts").ids)
    a_grade = sum(1 for c in primary.values() if companies[c][0] == "A")
    in_market = sum(1 for c in primary.values() if companies[c][1] >= 30)
    assert 0 < a_grade < len(primary) and 0 < in_market < len(primary)
    code, out = run(
        capsys, "preview", "--config", str(live.config), "--model", str(candidate),
        "--kind", "contact", "--now", NOW,
    )  # fmt: skip
    assert code == 0
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines()}
    assert rows["A-grade account"][-4:] == [
        "0.00",
        f"{10 * a_grade / contacts:.2f}",
        f"+{10 * a_grade / contacts:.2f}",
        str(a_grade),
    ]
    assert rows["Account in market"][-4:] == [
        "0.00",
        f"{10 * in_market / contacts:.2f}",
        f"+{10 * in_market / contacts:.2f}",
        f"{in_market:,}",
    ]


def cutoffs_from_the_sandbox(live: Live) -> dict[str, tuple[bool, float]]:
    """Each contact's (converted, cutoff in epoch ms) from the sandbox's own values: the
    earliest date of a reached stage, else creation plus the median days from creation to
    outcome of the converted (`revops.point_in_time`), never after NOW."""
    table = live.sandbox.store.table("contacts")
    reached = ("opportunity", "customer", "evangelist")
    now = int(datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp() * 1000)
    dated: dict[str, tuple[int, int]] = {}
    born: dict[str, int] = {}
    with live.sandbox.store.lock:
        for rid, row in table.rows.items():
            born[str(rid)] = row.created
            if table.raw(row, "lifecyclestage") in reached:
                dates = [table.raw(row, f"hs_lifecyclestage_{s}_date") for s in reached]
                dated[str(rid)] = (row.created, min(d for d in dates if d is not None))
    window = statistics.median((cut - made) for made, cut in dated.values() if cut >= made)
    return {
        rid: (rid in dated, min(max(dated[rid][1], made) if rid in dated else made + window, now))
        for rid, made in born.items()
    }


def test_backtest_reads_each_contacts_company_at_the_contacts_cutoff(live, candidate, capsys):
    """The A-grade rule reads the company's fit grade (properties only, which the sandbox dates
    at the company's creation): it fires for the contacts whose company is A-grade and existed
    before the contact's cutoff. The interest rule reads the committee's activity then."""
    code, out = run(
        capsys, "backtest", "--config", str(live.config), "--model", str(candidate),
        "--kind", "contact", "--as-of", NOW, "--format", "json",
    )  # fmt: skip
    assert code == 0
    result = json.loads(out)
    companies = stored_companies(live)
    created = {str(i): r.created for i, r in live.sandbox.store.table("companies").rows.items()}
    truth = cutoffs_from_the_sandbox(live)
    fires = [
        truth[contact][0]
        for contact, company in primary_company(live).items()
        if companies[company][0] == "A" and created[company] < truth[contact][1]
    ]
    today = sum(1 for c in primary_company(live).values() if companies[c][0] == "A")
    assert (len(fires), sum(fires), today) == (228, 22, 230)
    # today's company interest would count activity after the contacts' outcomes
    in_market_today = sum(1 for c in primary_company(live).values() if companies[c][1] >= 30)
    assert in_market_today == 1806
    rules = {r["rule"]: r for r in result["rules"]}
    a_grade, in_market = rules["A-grade account"], rules["Account in market"]
    assert (a_grade["support"], round(a_grade["rate_with"] * a_grade["support"])) == (228, 22)
    converted = sum(c for c, _ in truth.values())
    contacts = len(truth)
    assert (result["records"], result["converted"]) == (contacts, converted) == (2400, 155)
    rate_without = (converted - sum(fires)) / (contacts - len(fires))
    assert a_grade["lift"] == pytest.approx(sum(fires) / len(fires) / rate_without, abs=1e-12)
    assert round(a_grade["lift"], 3) == 1.576
    assert (in_market["support"], round(in_market["rate_with"] * 459)) == (459, 49)
    assert round(in_market["lift"], 3) == 1.955
    assert result["point_in_time"][-3:] == [
        "account. rules read each person's company as scored by hubspot-b2b-companies at the "
        "person's own cutoff, from its people's activity and scores known then (2,030 people on "
        "300 company records; 370 without one)",
        "  the person's company is the one associatedcompanyid named at that moment (its "
        "property history)",
        "  company values from the CRM's property history: annualrevenue, country, industry, "
        "numberofemployees",
    ]


def test_calibrate_weighs_the_account_rules_on_what_was_known_at_each_cutoff(
    live, candidate, capsys
):
    out_path = live.tmp / "people-calibrated.yaml"
    code, out = run(
        capsys, "calibrate", "--config", str(live.config), "--model", str(candidate),
        "--kind", "contact", "--as-of", NOW, "--out", str(out_path), "--force",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[1] == "held-out ROC AUC: current 0.775 -> proposed 0.808"
    table = {line.split("  ")[0]: line.split()[-4:] for line in lines}
    # both account rules fire at the cutoffs and earn points (they would get none, and be
    # proposed for removal, if they read nothing)
    assert table["A-grade account"][-3:] == ["10", "7", "0.086"]
    assert table["Account in market"][-3:] == ["10", "45", "0.527"]
    proposal = out_path.read_text()
    assert "    - {name: A-grade account, if: {account.grade: A}, points: 7}\n" in proposal
    assert (
        "    - {name: Account in market, if: {account.interest: {gte: 30}}, points: 45}\n"
        in proposal
    )


def test_explain_at_a_past_moment_scores_the_company_as_it_was_then(live, candidate, capsys):
    """The contact's company is the one `associatedcompanyid` named at the moment (the sandbox
    dates a generated value at the record's creation): a minute before the contact was created
    it had none, so neither account rule holds; a minute after, its company is scored as it was
    then (A-grade, its people not yet engaged); today's stored result (explain without a past
    --now) has both rules."""
    config = live.tmp / "contacts-with-account-rules.yaml"
    config.write_text(live.config.read_text().replace(str(PEOPLE), str(candidate)))
    companies = stored_companies(live)
    contact, company = next(
        (p, c)
        for p, c in primary_company(live).items()
        if companies[c][0] == "A" and companies[c][1] >= 30
    )
    assert (contact, company, companies[company]) == ("301", "237", ("A", 80))
    created = live.sandbox.store.table("contacts").rows[int(contact)].created
    moment = datetime.fromtimestamp(created / 1000, tz=UTC)
    seen = {}
    tied = {
        "before": "0 people on 0 company records; 1 without one",
        "after": "1 person on 1 company record; 0 without one",
    }
    for name, at in (
        ("before", moment - timedelta(minutes=1)),
        ("after", moment + timedelta(minutes=1)),
    ):
        code, out = run(
            capsys, "explain", contact, "--config", str(config), "--kind", "contact",
            "--format", "json", "--now", at.isoformat(),
        )  # fmt: skip
        assert code == 0
        data = json.loads(out)
        seen[name] = {
            r["rule"]: r["matched"] for r in data["rules"] if r["rule"] in ACCOUNT_RULE_NAMES
        }
        assert data["point_in_time"]["accounts"][:2] == [
            "account. rules read each person's company as scored by hubspot-b2b-companies at "
            f"{at.isoformat()}, from its people's activity and scores known then ({tied[name]})",
            "  the person's company is the one associatedcompanyid named at that moment (its "
            "property history)",
        ]
    code, out = run(
        capsys, "explain", contact, "--config", str(config), "--kind", "contact", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    seen["today"] = {
        r["rule"]: r["matched"] for r in data["rules"] if r["rule"] in ACCOUNT_RULE_NAMES
    }
    assert "point_in_time" not in data
    assert seen == {
        "before": {"A-grade account": False, "Account in market": False},
        "after": {"A-grade account": True, "Account in market": False},
        "today": {"A-grade account": True, "Account in market": True},
    }
