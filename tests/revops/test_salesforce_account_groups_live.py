"""The model tools on Salesforce Accounts scored by two models (the second under
`leadsync_pl_b_`): `explain`, `history`, `preview`, `backtest` and `calibrate` with
`--model-name` each work on the model named, from its own stored results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.salesforce import SalesforceSandbox
from scoring.types import ScoreResult
from tests.revops.test_live import run
from tests.sync.account_groups_env import (
    config_file,
    product_b,
    salesforce_block,
    set_up_and_synced,
    stored_results,
)

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT / "config/examples/models/salesforce-leads.yaml"
ACCOUNTS = ROOT / "config/examples/models/salesforce-accounts.yaml"
NOW = "2026-11-20T12:00:00Z"
LEADS, ACCOUNT_COUNT = 1000, 150


@dataclass
class Live:
    sandbox: SalesforceSandbox
    config: Path
    tmp: Path
    model_b: Path

    def stored(self, kind: str) -> dict[str, ScoreResult]:
        ids = list(self.sandbox.store.table("Account"))
        return stored_results(self.config, "sf", kind, ids)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("sf-account-groups")
    model_b = product_b(ACCOUNTS, tmp, "product-b-accounts")
    sandbox = SalesforceSandbox(
        leads=LEADS,
        accounts=ACCOUNT_COUNT,
        buying_committees=True,
        now=datetime(2026, 11, 20, 12, tzinfo=UTC),
    ).start()
    objects = [
        f"{{kind: lead, model: {PEOPLE}}}",
        f"{{kind: account, model: {ACCOUNTS}}}",
        f"{{kind: account, model: {model_b}, output_prefix: leadsync_pl_b_}}",
    ]
    config = config_file(tmp, "sf", "salesforce", salesforce_block(sandbox), objects)
    try:
        set_up_and_synced(config, NOW)
        yield Live(sandbox, config, tmp, model_b)
    finally:
        sandbox.stop()


def engaged_account(live: Live) -> str:
    """The first Account (by id) whose two models' stored scores differ, with people."""
    a, b = live.stored("account"), live.stored("account:pl_b")
    contacts = {str(r.get("AccountId")) for r in live.sandbox.store.table("Contact").values()}
    return next(i for i in sorted(a) if i in contacts and a[i].score != b[i].score)


def test_explain_and_history_of_an_account_with_each_model(live, capsys):
    account = engaged_account(live)
    base = ["--config", str(live.config), "--kind", "account"]
    code, out = run(capsys, "explain", account, *base, "--model-name", "pl_b", "--now", NOW)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"record {account}  model product-b-accounts (")
    assert lines[1] == (
        "fit 45 (raw 45)  interest 0 (raw 0)  score 23  label C3  qualified no  completeness 100%"
    )
    # compared with B's own stored result: the Lead's fit, written by the sync after --now,
    # is not known at that moment
    assert "changes: -16 since last score: Fittest people" in lines
    assert [line for line in lines if line.startswith("  00Q")] == [
        "  00Q5g00000000GAEAY Software Engineer (weight 1): [Fittest people: 0, "
        "Meetings held: 0, Buying committee: 0]  via Lead: email domain "
        "adventuresoftware.net",
        "  00Q5g00000000GBEAY Head of Sales (weight 2): [Fittest people: 0, Meetings held: 0, "
        "Buying committee: 0]  via Lead: email domain "
        "adventuresoftware.net",
    ]
    a, b = live.stored("account")[account], live.stored("account:pl_b")[account]
    assert (a.fit, a.interest, a.label, b.fit, b.interest, b.label) == (20, 0, "D3", 45, 16, "C3")
    assert b.reasons[1] == (
        "+16 Fittest people: highest of 2 people by fit: Head of Sales 40x2, +1 more"
    )
    code, out = run(capsys, "history", account, *base)
    assert code == 0
    lines = out.splitlines()
    assert lines[1].endswith(
        "score – -> 10, fit – -> 20, interest – -> 0, label – -> D3, qualified – -> no, "
        "pl_b_score – -> 31, pl_b_fit – -> 45, pl_b_interest – -> 16, pl_b_label – -> C3, "
        "pl_b_qualified – -> no"
    )
    assert lines[3] == "    written because: new | product-b-accounts: new"


def test_preview_backtest_and_calibrate_the_second_account_model(live, capsys):
    base = ["--config", str(live.config), "--kind", "account"]
    code, out = run(
        capsys, "preview", *base, "--model", str(ACCOUNTS), "--model-name", "pl_b", "--now", NOW
    )
    assert code == 0
    a, b = live.stored("account"), live.stored("account:pl_b")
    labels = sum(a[i].label != b[i].label for i in a)
    grades = sum(a[i].grade != b[i].grade for i in a)
    # the won Accounts are customers now: both models disqualify them alike
    assert (len(a), labels, grades) == (180, 94, 92)
    assert out.splitlines()[:2] == [
        "preview of salesforce-b2b-accounts against product-b-accounts on 180 records from sf "
        "(account records read from the CRM); nothing was written",
        f"label changes {labels}  grade changes {grades}  newly qualified 0  no longer qualified 0",
    ]
    figures = {}
    for name in ("pl_b", "salesforce-b2b-accounts"):
        code, out = run(
            capsys, "backtest", *base, "--as-of", NOW, "--model-name", name, "--format", "json"
        )
        assert code == 0
        result = json.loads(out)
        figures[name] = (
            result["model_name"],
            result["records"],
            result["converted"],
            round(result["auc"], 3),
            round(result["interest_auc"], 3),
        )
    assert figures == {
        "pl_b": ("product-b-accounts", 180, 53, 0.55, 0.655),
        "salesforce-b2b-accounts": ("salesforce-b2b-accounts", 180, 53, 0.602, 0.664),
    }
    out_path = live.tmp / "proposal.yaml"
    code, out = run(
        capsys, "calibrate", *base, "--as-of", NOW, "--model-name", "pl_b", "--out", str(out_path)
    )
    assert code == 0
    assert out.splitlines()[:2] == [
        "calibration of product-b-accounts on 180 records, 5-fold cross-validation",
        "held-out ROC AUC: current 0.540 -> proposed 0.635",
    ]
    assert "name: product-b-accounts\n" in out_path.read_text()
