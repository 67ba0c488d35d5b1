"""A Salesforce Account model whose score roll-up reads a product-B Contact model's scores
(`model: pl_b`): two Contact models and two Account models on one connection, each Account
model rolling up its own Contact model's scores (`Leadsync_Pl_B_Score__c` read in the same
member queries), with the requests of one model; incremental runs and `explain` (now and at a
past moment) read the prefixed scores too."""

from __future__ import annotations

import json
from pathlib import Path

from cli.main import main
from tests.sync.rollup_models_env import SALESFORCE_ACCOUNTS_B, write
from tests.sync.test_account_groups_salesforce import World, world
from tests.sync.test_model_groups_salesforce import contact_model


def member_scores(w: World, prefix: str, name: str = "Score") -> dict[str, float]:
    """Each Contact's score (`name`) as the org holds it under `prefix` (`Leadsync_Pl_B_`)."""
    rows = w.sandbox.store.table("Contact")
    return {i: float(v) for i, row in rows.items() if (v := row.get(f"{prefix}{name}__c"))}


def highest(w: World, scores: dict[str, float]) -> dict[str, float]:
    """Per Account, its Contacts' highest score among `scores` (Accounts with one above 0)."""
    out: dict[str, float] = {}
    for contact_id, row in w.sandbox.store.table("Contact").items():
        account = row.get("AccountId")
        score = scores.get(contact_id, 0.0)
        if account and score:
            out[str(account)] = max(out.get(str(account), 0.0), score)
    return out


def rolled(w: World, kind: str) -> dict[str, float]:
    """Per Account, the points of its `B people` roll-up as stored for `kind`."""
    ids = sorted(w.sandbox.store.table("Account"))
    return {
        i: c.points
        for i, r in w.stored(kind, ids).items()
        for c in r.contributions
        if c.rule == "B people"
    }


def promote(w: World, contact_id: str) -> None:
    """The Contact becomes a VP (modified now)."""
    store = w.sandbox.store
    with store.lock:
        errors = store.update(
            "Contact",
            contact_id,
            {"Title": "VP Finance"},
            user=store.sales_users[0],
            auto_assign=False,
            stamp=store.now(),
        )
    assert errors == []


def test_an_account_model_rolls_up_the_product_b_contact_scores(tmp_path: Path, capsys) -> None:
    contacts_a = write(tmp_path, "contacts-a.yaml", contact_model("contacts-a", 40))
    contacts_b = write(tmp_path, "contacts-b.yaml", contact_model("contacts-b", 60))
    accounts_b = write(tmp_path, "accounts-b.yaml", SALESFORCE_ACCOUNTS_B)
    accounts_a = write(
        tmp_path,
        "accounts-a.yaml",
        SALESFORCE_ACCOUNTS_B.replace(", model: pl_b", "").replace("-b-", "-a-"),
    )
    one = world(
        tmp_path / "one",
        [f"{{kind: contact, model: {contacts_a}}}", f"{{kind: account, model: {accounts_a}}}"],
    )
    two = world(
        tmp_path / "two",
        [
            f"{{kind: contact, model: {contacts_a}}}",
            f"{{kind: contact, model: {contacts_b}, output_prefix: leadsync_pl_b_}}",
            f"{{kind: account, model: {accounts_a}}}",
            f"{{kind: account, model: {accounts_b}, output_prefix: leadsync_pl_b_}}",
        ],
    )
    try:
        calls_one, calls_two = one.sync("--full"), two.sync("--full")
        assert calls_two == calls_one
        # the Contact run and the Account run: queries (Contacts; the Accounts, their
        # Contacts and Leads), describes and one collection of writes each
        assert calls_two == {
            "requests": 10,
            "oauth_token": 1,
            "query": 4,
            "describe": 3,
            "collections_update": 2,
        }
        plain, b = member_scores(two, "Leadsync_"), member_scores(two, "Leadsync_Pl_B_")
        assert rolled(two, "account") == highest(two, plain)
        assert rolled(two, "account:pl_b") == highest(two, b)
        differ = sum(highest(two, plain).get(a) != v for a, v in highest(two, b).items())
        assert (len(plain), len(b), len(highest(two, b)), differ) == (44, 44, 27, 10)

        # a Contact of an Account without a VP becomes one: the incremental run rescores it
        # with both Contact models, then its Account with both Account models
        fits = member_scores(two, "Leadsync_Pl_B_", "Fit")
        by_account: dict[str, list[str]] = {}
        for contact_id, row in two.sandbox.store.table("Contact").items():
            by_account.setdefault(str(row.get("AccountId")), []).append(contact_id)
        account_id = next(
            a
            for a, people in sorted(by_account.items())
            if all(fits.get(p, 0) < 60 for p in people)
        )
        contact_id = by_account[account_id][0]
        incremental = []
        for w in (one, two):
            w.sync(now=w.later(10))  # meets our own writes again
            run_at = w.later(10)
            promote(w, contact_id)
            incremental.append(w.sync(now=run_at))
        assert incremental[1] == incremental[0]
        b_now = member_scores(two, "Leadsync_Pl_B_")
        assert (b.get(contact_id), b_now[contact_id]) == (10, 40)
        assert rolled(two, "account:pl_b")[account_id] == highest(two, b_now)[account_id]
        assert (highest(two, b).get(account_id), highest(two, b_now)[account_id]) == (10, 40)

        # explain reads the prefixed scores once written; not at the moment of the write
        base = ["explain", account_id, "--config", str(two.config), "--kind", "account"]
        plain_now = member_scores(two, "Leadsync_")
        shown = {}
        for name in ("pl_b", "product-a-accounts"):
            for when in (run_at.replace(hour=13), run_at):
                capsys.readouterr()
                args = [*base, "--model-name", name, "--now", when.isoformat(), "--format", "json"]
                assert main(args) == 0
                shown[name, when.hour] = json.loads(capsys.readouterr().out)["result"]["interest"]
        assert (plain.get(contact_id), plain_now[contact_id]) == (10, 30)
        assert shown == {
            ("pl_b", 13): 40,
            ("pl_b", 12): 0,
            ("product-a-accounts", 13): highest(two, plain_now)[account_id],
            ("product-a-accounts", 12): 0,
        }

        # a backtest takes each Account at its cutoff (won ones at their close date, before
        # the Contact models ever wrote): no product-B score was known then
        capsys.readouterr()
        args = ["backtest", "--config", str(two.config), "--kind", "account"]
        args += ["--model-name", "pl_b", "--as-of", run_at.isoformat(), "--format", "json"]
        assert main(args) == 0
        out = json.loads(capsys.readouterr().out)
        rule = next(r for r in out["rules"] if r["rule"] == "B people")
        assert (out["records"], out["converted"], out["interest_auc"], rule["support"]) == (
            51,
            23,
            0.5,
            0,
        )
    finally:
        one.sandbox.stop()
        two.sandbox.stop()
