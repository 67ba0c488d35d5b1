"""What the tests of several account models share: a second account model (product line B)
made from an example one, and a contact model whose rules read their account's grade."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from cli.commands.runs import open_store
from cli.main import main
from config.loader import load_config
from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from scoring.types import ScoreResult

#: A contact model scoring 10 for an A-grade account, 1 for none, 0 otherwise.
LINKED = """\
name: linked
object: contact
fit:
  rules:
    - {name: A-grade account, if: {account.grade: A}, points: 10}
    - {name: No account, if: {account.grade: {missing: true}}, points: 1}
"""


def product_b(example: Path, folder: Path, name: str) -> Path:
    """A second account model from the example account model `example` (HubSpot companies or
    Salesforce Accounts): named `name`, other fit weights, a roll-up of the people's fit
    instead of their interest, and a 21-day buying-committee window instead of 14."""
    path = folder / f"{name}.yaml"
    text, named = re.subn(r"^name: .*$", f"name: {name}", example.read_text(), flags=re.M)
    assert named == 1
    for old, new in (
        ("$target_industries}}, points: 30}", "$target_industries}}, points: 5}"),
        ("$core_countries}}, points: 20}", "$core_countries}}, points: 45}"),
        ("breadth: {within_days: 14", "breadth: {within_days: 21"),
        (
            "{name: Hottest people, score: interest, aggregate: top_mean, top: 3, points: 0.6, "
            "max: 40}",
            "{name: Fittest people, score: fit, aggregate: max, points: 0.2, max: 20}",
        ),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)
    return path


def hubspot_block(sb: HubSpotSandbox) -> str:
    """The `hubspot:` section of a connection to the sandbox `sb`."""
    return f'hubspot: {{base_url: "{sb.url}", access_token: "{sb.token}", tier: professional}}'


def salesforce_block(sb: SalesforceSandbox) -> str:
    """The `salesforce:` section of a connection to the sandbox `sb`."""
    return (
        f'salesforce: {{login_url: "{sb.url}", client_id: "{sb.client_id}", '
        f'client_secret: "{sb.client_secret}", ca_bundle: "{sb.ca_file}"}}'
    )


def config_file(folder: Path, name: str, crm: str, block: str, objects: Sequence[str]) -> Path:
    """`folder/leadsync.yaml`: one connection `name` with a SQLite state store in `folder`."""
    config = folder / "leadsync.yaml"
    config.write_text(
        f"state_url: sqlite:///{folder / 'state.db'}\n"
        f"connections:\n  - name: {name}\n    crm: {crm}\n    {block}\n"
        "    objects:\n" + "".join(f"      - {o}\n" for o in objects)
    )
    return config


def set_up_and_synced(config: Path, now: str) -> None:
    """`leadsync setup --apply`, then a full sync as of `now`."""
    assert main(["setup", "--config", str(config), "--apply"]) == 0
    assert main(["sync", "--config", str(config), "--full", "--now", now]) == 0


def stored_results(
    config: Path, connection: str, kind: str, ids: Sequence[str]
) -> dict[str, ScoreResult]:
    """The latest results stored for `ids` under the state kind `kind` (`company:pl_b`)."""
    store = open_store(load_config(config).settings)
    try:
        return store.previous_scores(connection, kind, ids)
    finally:
        store.close()
