"""The model tools on a kind of accounts scored by two models (HubSpot companies with a second
model under `leadsync_pl_b_`): `explain`, `history`, `preview`, `backtest` and `calibrate` with
`--model-name` each work on the model named, from its own stored results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import main
from sandbox.hubspot import HubSpotSandbox
from scoring.types import ScoreResult
from tests.revops.test_live import run
from tests.sync.account_groups_env import (
    config_file,
    hubspot_block,
    product_b,
    set_up_and_synced,
    stored_results,
)

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT / "config/examples/models/hubspot-professional.yaml"
ACCOUNTS = ROOT / "config/examples/models/hubspot-companies.yaml"
NOW = "2026-11-20T12:00:00Z"
COMPANIES = 150


@dataclass
class Live:
    sandbox: HubSpotSandbox
    config: Path
    tmp: Path
    model_b: Path

    def stored(self, kind: str) -> dict[str, ScoreResult]:
        ids = [str(i) for i in self.sandbox.store.table("companies").ids]
        return stored_results(self.config, "hub", kind, ids)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("account-groups")
    model_b = product_b(ACCOUNTS, tmp, "product-b-companies")
    sandbox = HubSpotSandbox(
        contacts=COMPANIES * 8,
        companies=COMPANIES,
        now=datetime(2026, 11, 20, 12, tzinfo=UTC),
        rate_limit_10s=100_000,
        search_per_second=100_000,
        buying_committees=True,
    ).start()
    objects = [
        f"{{kind: contact, model: {PEOPLE}}}",
        f"{{kind: company, model: {ACCOUNTS}}}",
        f"{{kind: company, model: {model_b}, output_prefix: leadsync_pl_b_}}",
    ]
    config = config_file(tmp, "hub", "hubspot", hubspot_block(sandbox), objects)
    try:
        set_up_and_synced(config, NOW)
        yield Live(sandbox, config, tmp, model_b)
    finally:
        sandbox.stop()


def committee_company(live: Live) -> str:
    links = live.sandbox.store.associations[("companies", "contacts")]
    return next(str(c) for c, people in sorted(links.items()) if len(people) >= 5)


def test_explain_a_company_with_each_model(live, capsys):
    """Each model's explanation is compared with that model's own stored result (`changes`):
    at a past --now the members' leadsync scores, written later by the sync, are not known
    yet, so the score roll-up (B: Fittest people, A: Hottest people) is what moved."""
    company = committee_company(live)
    base = ["explain", company, "--config", str(live.config), "--kind", "company", "--now", NOW]
    for name, kind, head, roll_up, window in (
        ("pl_b", "company:pl_b", "fit 60 (raw 60)  interest 40 (raw 40)  score 50  label B2  "
         "qualified yes", (14, "Fittest people"), 21),
        ("hubspot-b2b-companies", "company", "fit 35 (raw 35)  interest 40 (raw 40)  score 38  "
         "label C2  qualified no", (40, "Hottest people"), 14),
    ):  # fmt: skip
        code, out = run(capsys, *base, "--model-name", name)
        assert code == 0
        lines = out.splitlines()
        model = "product-b-companies" if name == "pl_b" else name
        assert lines[0].startswith(f"record {company}  model {model} (")
        assert lines[1] == f"{head}  completeness 100%"
        assert f"changes: -{roll_up[0]} since last score: {roll_up[1]}" in lines
        assert f"4 people engaged in {window} days (counted 5 by role)" in out
        stored = live.stored(kind)[company]
        assert (stored.fit, stored.interest) == (int(head.split()[1]), 40 + roll_up[0])
    code, out = run(capsys, *base, "--model-name", "pl_c")
    assert code == 2


def test_history_of_a_company_shows_each_models_moves(live, capsys):
    company = committee_company(live)
    code, out = run(capsys, "history", company, "--config", str(live.config), "--kind", "company")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"score history of {company}: 1 write(s)"
    assert lines[1].endswith(
        "score – -> 58, fit – -> 35, interest – -> 80, label – -> C1, qualified – -> no, "
        "pl_b_score – -> 57, pl_b_fit – -> 60, pl_b_interest – -> 54, pl_b_label – -> B2, "
        "pl_b_qualified – -> yes"
    )
    assert lines[3] == "    written because: new | product-b-companies: new"


def test_preview_against_the_second_model(live, capsys):
    base = ["preview", "--config", str(live.config), "--kind", "company", "--now", NOW]
    code, out = run(capsys, *base, "--model", str(ACCOUNTS), "--model-name", "pl_b")
    assert code == 0
    a, b = live.stored("company"), live.stored("company:pl_b")
    labels = sum(a[i].label != b[i].label for i in a)
    grades = sum(a[i].grade != b[i].grade for i in a)
    assert (labels, grades) == (116, 97)
    assert out.splitlines()[:2] == [
        f"preview of hubspot-b2b-companies against product-b-companies on {COMPANIES} records "
        "from hub (company records read from the CRM); nothing was written",
        f"label changes {labels}  grade changes {grades}  newly qualified 22  no longer "
        "qualified 0",
    ]
    # the state store keeps no people: an account preview must read them from the CRM
    capsys.readouterr()
    args = [*base, "--model", str(live.model_b), "--model-name", "pl_b", "--from-state"]
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --from-state: the state store keeps each company's own inputs, not its "
        "people, so the roll-ups cannot be rescored from it; preview without --from-state to "
        "read the company records and their people from the CRM"
    )


def test_backtest_and_calibrate_the_second_model(live, capsys):
    base = ["--config", str(live.config), "--kind", "company", "--as-of", NOW]
    figures = {}
    for name in ("pl_b", "hubspot-b2b-companies"):
        code, out = run(capsys, "backtest", *base, "--model-name", name, "--format", "json")
        assert code == 0
        result = json.loads(out)
        rules = [r["rule"] for r in result["rules"]]
        figures[name] = (
            result["records"],
            result["converted"],
            round(result["auc"], 3),
            round(result["interest_auc"], 3),
            "Fittest people" in rules,
            "Hottest people" in rules,
        )
    assert figures == {
        "pl_b": (COMPANIES, 29, 0.684, 0.804, True, False),
        "hubspot-b2b-companies": (COMPANIES, 29, 0.718, 0.820, False, True),
    }
    out_path = live.tmp / "proposal-b.yaml"
    code, out = run(capsys, "calibrate", *base, "--model-name", "pl_b", "--out", str(out_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == [
        f"calibration of product-b-companies on {COMPANIES} records, 5-fold cross-validation",
        "held-out ROC AUC: current 0.676 -> proposed 0.821",
    ]
    proposal = out_path.read_text()
    assert "name: product-b-companies\n" in proposal
    assert (
        "    - {name: Core country, if: {country: {in: $core_countries}}, points: 53}" in proposal
    )
