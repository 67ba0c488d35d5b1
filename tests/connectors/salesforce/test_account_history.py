"""Account field history (`AccountHistory`) read for account backtests: only the model's
fields, 2,000 rows a query page, each change dated; a field without a row counts as untracked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.salesforce.history import history_query
from sandbox.salesforce.generator import CUSTOMER_TYPE

BEGINNING = datetime.min.replace(tzinfo=UTC)


def won_converted_account(store) -> tuple[str, int]:
    """A converted lead's Account whose Opportunity was won, and the close (epoch seconds)."""
    for account_id, account in store.table("Account").items():
        if account["Type"] == CUSTOMER_TYPE:
            row = next(
                r for r in store.table("AccountHistory").values() if r["AccountId"] == account_id
            )
            return account_id, row["CreatedDate"]
    raise AssertionError("no won Account")


def query_calls(connector) -> int:
    calls = connector.usage.by_endpoint
    return int(calls.get("query", 0) + calls.get("query_more", 0))


@pytest.mark.parametrize(
    ("kind", "fields", "query"),
    [
        (
            "account",
            ["Type", "Custom__c"],
            "SELECT AccountId, Field, OldValue, NewValue, CreatedDate FROM AccountHistory "
            "WHERE Field IN ('Custom__c', 'Type') ORDER BY AccountId, CreatedDate",
        ),
        # a lookup's rows may name the field or its relationship: both are asked for
        (
            "contact",
            ["Title", "AccountId"],
            "SELECT ContactId, Field, OldValue, NewValue, CreatedDate FROM ContactHistory "
            "WHERE Field IN ('Account', 'AccountId', 'Title') ORDER BY ContactId, CreatedDate",
        ),
    ],
)
def test_the_history_query_names_only_the_models_fields(kind, fields, query):
    assert history_query(kind, fields) == query


def test_a_won_accounts_type_is_rewound_and_untracked_fields_are_named(
    make_sandbox, make_connector
):
    sandbox = make_sandbox()
    store = sandbox.store
    account_id, closed = won_converted_account(store)
    connector = make_connector(sandbox)
    ids = list(store.table("Account"))
    got = connector.property_history("account", ids, ["Type", "Industry", "NumberOfEmployees"])
    # Type is history-tracked in the sandbox org; Industry and employees are not
    assert got.tracked == frozenset({"Type"})
    assert got.values[account_id] == {
        "Type": [(BEGINNING, None), (datetime.fromtimestamp(closed, UTC), CUSTOMER_TYPE)]
    }
    # one change per Account with a won Opportunity (10 of the 300 leads' conversions)
    won = {o["AccountId"] for o in store.table("Opportunity").values() if o["IsWon"]}
    assert (len(got.values), len(won), set(got.values) == won) == (10, 10, True)
    assert query_calls(connector) == 1


def test_history_is_read_2000_rows_a_page(make_sandbox, make_connector):
    sandbox = make_sandbox()
    store = sandbox.store
    ids = list(store.table("Account"))
    for n in range(4_100 - len(store.table("AccountHistory"))):
        store.load(
            "AccountHistory",
            {
                "AccountId": ids[n % len(ids)],
                "Field": "Type",
                "DataType": "DynamicEnum",
                "OldValue": "Prospect",
                "NewValue": "Other",
                "CreatedDate": store.now_epoch - 86_400 + n,
                "CreatedById": store.integration_user,
            },
        )
    connector = make_connector(sandbox)
    got = connector.property_history("account", ids, ["Type", "Industry"])
    assert sum(len(v["Type"]) - 1 for v in got.values.values()) == 4_100
    assert query_calls(connector) == 3  # ceil(4,100 / 2,000)


def test_no_history_query_without_fields(make_sandbox, make_connector):
    sandbox = make_sandbox()
    connector = make_connector(sandbox)
    got = connector.property_history("account", list(sandbox.store.table("Account")), [])
    assert (got.tracked, query_calls(connector)) == (frozenset(), 0)
