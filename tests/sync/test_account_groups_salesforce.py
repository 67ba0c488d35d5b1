"""Several models of Salesforce Accounts on one connection: each writes its own Account custom
fields (`output_prefix` leadsync_pl_b_ -> `Leadsync_Pl_B_Score__c`), setup creates them, a run
reads the Accounts and their Contacts and matched Leads once for all models (the calls of one
model), incremental runs recompute a changed Contact's Account for every model, and Contact
rules read the Account model `account_model` names."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli.commands.runs import open_store
from cli.main import main
from config.loader import load_config
from sandbox.salesforce import SalesforceSandbox
from scoring.types import ScoreResult
from sync.state.records import RunRow
from tests.sync.account_groups_env import (
    LINKED,
    config_file,
    product_b,
    salesforce_block,
    stored_results,
)
from tests.sync.hubspot_env import ROOT
from tests.sync.test_e2e_salesforce_accounts import demo

MODELS = ROOT / "config" / "examples" / "models"
PEOPLE = MODELS / "salesforce-leads.yaml"
ACCOUNTS = MODELS / "salesforce-accounts.yaml"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
LEADS = 600


@dataclass
class World:
    sandbox: SalesforceSandbox
    config: Path

    def sync(self, *args: str, now: datetime = NOW) -> Counter[str]:
        """One `leadsync sync` and its calls (by sandbox endpoint)."""
        before = Counter(self.sandbox.stats()["counters"])
        assert main(["sync", "--config", str(self.config), "--now", now.isoformat(), *args]) == 0
        calls = Counter(self.sandbox.stats()["counters"])
        calls.subtract(before)
        return +calls

    def stored(self, kind: str, ids: list[str]) -> dict[str, ScoreResult]:
        return stored_results(self.config, "sf", kind, ids)

    def runs(self) -> list[RunRow]:
        store = open_store(load_config(self.config).settings)
        try:
            return store.runs("sf")
        finally:
            store.close()

    def crm(self, prefix: str) -> dict[str, dict[str, object]]:
        accounts = self.sandbox.store.table("Account")
        names = ("Fit", "Interest", "Score", "Grade", "Label")
        return {i: {n: row.get(f"{prefix}{n}__c") for n in names} for i, row in accounts.items()}

    def later(self, minutes: int) -> datetime:
        """Move the org's clock `minutes` on; the matching run time."""
        store = self.sandbox.store
        store.advance(minutes * 60)
        return NOW + timedelta(seconds=store.now() - store.now_epoch)


def world(folder: Path, objects: list[str]) -> World:
    folder.mkdir()
    sb = SalesforceSandbox(leads=LEADS, now=NOW, buying_committees=True).start()
    config = config_file(folder, "sf", "salesforce", salesforce_block(sb), objects)
    assert main(["setup", "--apply", "--config", str(config)]) == 0
    return World(sb, config)


def meeting(sb: SalesforceSandbox, contact_id: str) -> None:
    """The Contact becomes a CFO (modified now) and held a demo an hour ago."""
    store = sb.store
    with store.lock:
        stamp = store.now()
        errors = store.update(
            "Contact",
            contact_id,
            {"Title": "Chief Financial Officer"},
            user=store.sales_users[0],
            auto_assign=False,
            stamp=stamp,
        )
        assert errors == []
        demo(sb, contact_id, stamp)


def expected(result: ScoreResult) -> dict[str, object]:
    return {
        "Fit": result.fit,
        "Interest": result.interest,
        "Score": result.score,
        "Grade": result.grade,
        "Label": result.label,
    }


def test_two_account_models_write_their_own_fields_with_the_calls_of_one(tmp_path, capsys):
    model_b = product_b(ACCOUNTS, tmp_path, "product-b-accounts")
    one = world(
        tmp_path / "one",
        [f"{{kind: lead, model: {PEOPLE}}}", f"{{kind: account, model: {ACCOUNTS}}}"],
    )
    two = world(
        tmp_path / "two",
        [
            f"{{kind: lead, model: {PEOPLE}}}",
            f"{{kind: account, model: {ACCOUNTS}}}",
            f"{{kind: account, model: {model_b}, output_prefix: leadsync_pl_b_}}",
        ],
    )
    try:
        shown = capsys.readouterr().out.splitlines()
        assert "sf (salesforce) account (leadsync_pl_b_*):" in shown
        assert ("pl_b_model_version  Leadsync_Pl_B_Model_Version__c  created  Text field") in shown

        calls_one, calls_two = one.sync("--full"), two.sync("--full")
        assert calls_two == calls_one
        # the lead run and the Account run: queries (Leads, their activity; the Accounts,
        # their Contacts and Leads, each with its activity merge-joined), describes, and the
        # writes (one composite call of the Leads' collections, one collection of Accounts)
        assert calls_two == {
            "requests": 27,
            "oauth_token": 1,
            "versions": 1,
            "query": 19,
            "describe": 4,
            "composite": 1,
            "collections_update": 5,
        }

        ids = sorted(two.sandbox.store.table("Account"))
        a, b = two.stored("account", ids), two.stored("account:pl_b", ids)
        assert sorted(a) == sorted(b) == ids
        assert two.crm("Leadsync_") == {i: expected(a[i]) for i in ids}
        assert two.crm("Leadsync_Pl_B_") == {i: expected(b[i]) for i in ids}
        assert one.crm("Leadsync_") == two.crm("Leadsync_")
        # the won Accounts are customers (Type set at the win): the example model disqualifies
        # them, so it grades none A
        assert (len(ids), sum(a[i].score != b[i].score for i in ids)) == (51, 24)
        assert Counter(r.grade for r in a.values()) == {"B": 10, "C": 7, "D": 34}
        assert Counter(r.grade for r in b.values()) == {"A": 4, "B": 10, "C": 10, "D": 27}

        # a second full run writes nothing for either model
        again = two.sync("--full")
        assert (again["composite"], again["collections_update"]) == (0, 0)

        # a Contact of an Account becomes its CFO and held a demo an hour ago: the incremental
        # run recomputes that Account for both models, with the calls of one model
        by_account: dict[str, list[str]] = {}
        for contact_id, row in two.sandbox.store.table("Contact").items():
            by_account.setdefault(str(row.get("AccountId")), []).append(contact_id)
        account_id = next(i for i in ids if by_account.get(i) and a[i].score != b[i].score)
        contact_id = by_account[account_id][0]
        incremental = []
        for w in (one, two):
            w.sync(now=w.later(10))  # meets our own writes again
            run_at = w.later(10)
            meeting(w.sandbox, contact_id)
            incremental.append(w.sync(now=run_at))
        assert incremental[1] == incremental[0]
        run = two.runs()[0]
        a2 = two.stored("account", [account_id])[account_id]
        b2 = two.stored("account:pl_b", [account_id])[account_id]
        assert (run.kind, run.mode, run.counts.read, run.counts.written) == (
            "account",
            "incremental",
            1,
            1,
        )
        # the demo counts 10 points twice (a decision maker now) in both models' meetings
        # roll-up, beside each model's own fit
        assert [(r.fit, r.interest) for r in (a[account_id], a2, b[account_id], b2)] == [
            (20, 0),
            (20, 30),
            (45, 1),
            (45, 31),
        ]
        # the account run's three first queries (Accounts, Contacts and Leads modified since)
        # are one composite call: 17 requests, 19 before (`query` counts its subrequests too)
        assert incremental[1] == {
            "requests": 17,
            "oauth_token": 1,
            "versions": 1,
            "composite": 1,
            "query": 12,
            "describe": 4,
            "collections_update": 1,
        }
        assert two.crm("Leadsync_")[account_id] == expected(a2)
        assert two.crm("Leadsync_Pl_B_")[account_id] == expected(b2)
    finally:
        one.sandbox.stop()
        two.sandbox.stop()


def test_contact_rules_read_the_account_model_account_model_names(tmp_path, capsys):
    model_b = product_b(ACCOUNTS, tmp_path, "product-b-accounts")
    (tmp_path / "linked.yaml").write_text(LINKED)
    w = world(
        tmp_path / "w",
        [
            f"{{kind: account, model: {ACCOUNTS}}}",
            f"{{kind: account, model: {model_b}, output_prefix: leadsync_pl_b_}}",
            f"{{kind: contact, model: {tmp_path / 'linked.yaml'}, "
            "account_model: product-b-accounts}",
        ],
    )
    try:
        w.sync("--full")
        store = w.sandbox.store
        account_ids = list(store.table("Account"))
        grades_a = {i: r.grade for i, r in w.stored("account", account_ids).items()}
        grades_b = {i: r.grade for i, r in w.stored("account:pl_b", account_ids).items()}
        contacts = store.table("Contact")

        def fit(grades: dict[str, str], contact: str) -> int:
            account = contacts[contact].get("AccountId")
            if not account:
                return 1
            return 10 if grades.get(str(account)) == "A" else 0

        results = w.stored("contact", list(contacts))
        assert {i: r.fit for i, r in results.items()} == {i: fit(grades_b, i) for i in contacts}
        # the two Account models disagree on some Contacts' Accounts: B's grades were read
        assert sum(fit(grades_a, i) != fit(grades_b, i) for i in contacts) == 23
        assert Counter(r.fit for r in results.values()) == {0: 148, 10: 23}
        contact = next(i for i in contacts if fit(grades_b, i) == 10)
        capsys.readouterr()
        args = ["explain", contact, "--config", str(w.config), "--kind", "contact"]
        assert main([*args, "--now", NOW.isoformat(), "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["result"]["fit"] == 10
    finally:
        w.sandbox.stop()
