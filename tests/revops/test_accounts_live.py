"""Account models through the model tools against the HubSpot sandbox with buying committees:
`setup` and `sync` of contacts then companies, `explain` and `preview` of a company, and the
hidden account outcome that the breadth of engagement predicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.commands.runs import open_store
from cli.main import main
from config.loader import load_config
from revops.evaluation import roc_auc
from sandbox.hubspot import HubSpotSandbox

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT / "config/examples/models/hubspot-professional.yaml"
ACCOUNTS = ROOT / "config/examples/models/hubspot-companies.yaml"
NOW = "2026-11-20T12:00:00Z"
COMPANIES = 300


@dataclass
class Live:
    sandbox: HubSpotSandbox
    config: Path
    tmp: Path


@contextmanager
def synced(tmp: Path, *, companies: int = COMPANIES, people: Path = PEOPLE) -> Iterator[Live]:
    """A HubSpot sandbox with buying committees (8 contacts a company), a config scoring its
    contacts with `people` and its companies with the example account model, set up and fully
    synced at `NOW`; stopped after the block."""
    sandbox = HubSpotSandbox(
        contacts=companies * 8,
        companies=companies,
        now=datetime(2026, 11, 20, 12, tzinfo=UTC),
        rate_limit_10s=100_000,
        search_per_second=100_000,
        buying_committees=True,
    ).start()
    config = tmp / "leadsync.yaml"
    config.write_text(
        f"state_url: sqlite:///{tmp}/state.db\n"
        "connections:\n"
        "  - name: sandbox\n"
        "    crm: hubspot\n"
        f'    hubspot: {{base_url: "{sandbox.url}", access_token: "{sandbox.token}"}}\n'
        f"    objects: [{{kind: contact, model: {people}}}, {{kind: company, model: {ACCOUNTS}}}]\n"
    )
    try:
        assert main(["setup", "--config", str(config), "--apply"]) == 0
        assert main(["sync", "--config", str(config), "--full", "--now", NOW]) == 0
        yield Live(sandbox, config, tmp)
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with synced(tmp_path_factory.mktemp("accounts")) as world:
        yield world


def run(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def company_scores(live: Live) -> dict[str, tuple[int, int]]:
    store = open_store(load_config(live.config).settings)
    try:
        ids = [str(i) for i in live.sandbox.store.table("companies").ids]
        found = store.previous_scores("sandbox", "company", ids)
        return {rid: (r.interest, r.score) for rid, r in found.items()}
    finally:
        store.close()


def test_sync_scores_every_company_and_breadth_predicts_the_hidden_won_deals(live):
    scores = company_scores(live)
    assert len(scores) == COMPANIES
    truth = live.sandbox.store.account_outcomes
    ids = sorted(scores)
    won = [truth[int(i)].won for i in ids]
    interest_auc = roc_auc([scores[i][0] for i in ids], won)
    assert interest_auc is not None and interest_auc >= 0.7


def test_explain_a_company_names_its_people_and_roll_ups(live, capsys):
    links = live.sandbox.store.associations[("companies", "contacts")]
    company = next(str(c) for c, people in links.items() if len(people) >= 5)
    code, out = run(
        capsys, "explain", company, "--config", str(live.config), "--kind", "company",
        "--now", NOW,
    )  # fmt: skip
    assert code == 0
    assert out.splitlines()[0].startswith(f"record {company}  model hubspot-b2b-companies")
    committee = (
        " Buying committee: people with email_click, email_reply, form_submission, page_view "
    )
    assert committee in out
    assert f"\nmembers: {len(links[int(company)])}\n" in out


def test_preview_of_an_account_model_change(live, capsys):
    candidate = live.tmp / "candidate.yaml"
    text = ACCOUNTS.read_text()
    assert text.count("{min: 5, points: 40}") == 1
    candidate.write_text(text.replace("{min: 5, points: 40}", "{min: 5, points: 10}"))
    code, out = run(
        capsys, "preview", "--config", str(live.config), "--model", str(candidate), "--kind",
        "company", "--now", NOW,
    )  # fmt: skip
    assert code == 0
    assert f"on {COMPANIES} records from sandbox" in out
    assert any(line.startswith("Buying committee") for line in out.splitlines())


def test_history_of_a_company(live, capsys):
    company = next(iter(company_scores(live)))
    code, out = run(capsys, "history", company, "--config", str(live.config), "--kind", "company")
    assert code == 0
    assert out.splitlines()[0] == f"score history of {company}: 1 write(s)"


def test_backtest_reads_won_deals_and_breadth_predicts_them(live, capsys):
    """The outcome of an account model is a won deal on the company (associations v4 and deal
    batch reads), each company scored at its cutoff: won ones at their close date."""
    truth = live.sandbox.store.account_outcomes
    bodies = live.sandbox.journal("POST /crm/v3/objects/{object}/batch/read")
    code, out = run(
        capsys, "backtest", "--config", str(live.config), "--kind", "company", "--as-of", NOW,
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert (result["records"], result["converted"]) == (COMPANIES, 80)
    # the companies' own properties with their history: batch reads of 50 (HubSpot's limit)
    with_history = [b for b in bodies if "propertiesWithHistory" in b]
    assert [len(b["inputs"]) for b in with_history] == [50] * (COMPANIES // 50)
    assert result["point_in_time"][1:] == [
        "property history from the CRM for: annualrevenue, country, industry, numberofemployees"
    ]
    assert sum(o.won for o in truth.values()) == 80
    assert round(result["auc"], 3) == 0.760
    assert round(result["interest_auc"], 3) == 0.829
    assert (result["events_after_outcome"], result["records_after_outcome"]) == (933, 132)
    rules = {r["rule"]: r for r in result["rules"]}
    # member scores written by the sync came after every cutoff: not known then, never counted
    assert (rules["Buying committee [5+]"]["support"], rules["Hottest people"]["support"]) == (
        76,
        0,
    )


def test_calibrate_proposes_an_account_model(live, capsys):
    out_path = live.tmp / "proposal.yaml"
    code, out = run(
        capsys, "calibrate", "--config", str(live.config), "--kind", "company", "--as-of", NOW,
        "--out", str(out_path),
    )  # fmt: skip
    assert code == 0
    assert "held-out ROC AUC: current 0.762 -> proposed 0.838" in out
    proposal = out_path.read_text()
    assert "        - {min: 5, points: 40}" not in proposal
    assert "object: company" in proposal
