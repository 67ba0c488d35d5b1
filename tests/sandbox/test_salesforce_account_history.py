"""The sandbox org tracks Account `Type` history: a won Opportunity makes its Account a
customer at the close with an `AccountHistory` row, and every API update of `Type` writes one
(undone with its update by a rolled-back request); untracked fields write none."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.salesforce import SalesforceSandbox
from sandbox.salesforce.generator import CUSTOMER_TYPE
from sandbox.salesforce.values import format_date

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_a_won_opportunity_makes_its_account_a_customer_at_the_close():
    store = SalesforceSandbox(leads=300, accounts=40, buying_committees=True, now=NOW).store
    won = {o["AccountId"]: o for o in store.table("Opportunity").values() if o["IsWon"]}
    rows = list(store.table("AccountHistory").values())
    assert sorted(r["AccountId"] for r in rows) == sorted(won)
    for row in rows:
        account = store.table("Account")[row["AccountId"]]
        assert (row["Field"], row["NewValue"], account["Type"]) == (
            "Type", CUSTOMER_TYPE, CUSTOMER_TYPE,
        )  # fmt: skip
        assert format_date(row["CreatedDate"]) == won[row["AccountId"]]["CloseDate"]
    # committee Accounts were prospects; converted leads' Accounts had no Type
    assert sorted({str(r["OldValue"]) for r in rows}) == ["None", "Prospect"]
    assert store.get(rows[0]["Id"]) == ("AccountHistory", rows[0])


def test_an_update_of_type_writes_history_and_a_rollback_undoes_it():
    store = SalesforceSandbox(leads=100, now=NOW).store
    account_id = next(i for i, a in store.table("Account").items() if a["Type"] == "Prospect")
    before = len(store.table("AccountHistory"))
    stamp = store.now_epoch + 60
    user = store.integration_user
    errors = store.update(
        "Account", account_id, {"Industry": "Banking"}, user=user, auto_assign=False, stamp=stamp
    )
    assert (errors, len(store.table("AccountHistory"))) == ([], before)  # Industry untracked
    with store.lock, store.transaction() as journal:
        store.update(
            "Account", account_id, {"Type": "Partner"}, user=user, auto_assign=False, stamp=stamp
        )
        new = [r for r in store.table("AccountHistory").values() if r["AccountId"] == account_id]
        assert [
            (r["OldValue"], r["NewValue"], r["CreatedDate"], r["CreatedById"]) for r in new
        ] == [("Prospect", "Partner", stamp, user)]
        store.rollback(journal)
    restored = store.table("Account")[account_id]["Type"]
    assert (len(store.table("AccountHistory")), restored) == (before, "Prospect")
    store.update(
        "Account", account_id, {"Type": "Prospect"}, user=user, auto_assign=False, stamp=stamp
    )
    assert len(store.table("AccountHistory")) == before  # no change, no row
