"""Several models of one kind on one Salesforce connection: each model writes its own custom
fields (`output_prefix` leadsync_pl_b_ -> `Leadsync_Pl_B_Score__c`), setup creates them, a run
reads each lead once and writes each lead's changes of both models in one record of one
sObject collection, so two models cost exactly the calls of one."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import main
from config.errors import ProblemsError
from config.loader import load_config, load_models
from sandbox.salesforce import SalesforceSandbox
from scoring.types import ScoreResult
from sync.state.store import StateStore
from tests.sync.hubspot_env import ROOT

MODEL_A = ROOT / "config" / "examples" / "models" / "salesforce-leads.yaml"
NOW = "2026-11-20T12:00:00Z"
LEADS = 300


def write_config(sb: SalesforceSandbox, tmp: Path, objects: str) -> Path:
    config = tmp / "leadsync.yaml"
    config.write_text(
        f"""\
state_url: sqlite:///{tmp / "state.db"}
connections:
  - name: sf
    crm: salesforce
    salesforce:
      login_url: "{sb.url}"
      client_id: "{sb.client_id}"
      client_secret: "{sb.client_secret}"
      ca_bundle: "{sb.ca_file}"
    objects:
{objects}"""
    )
    return config


def synced(tmp: Path, objects: str) -> tuple[SalesforceSandbox, Path, Counter[str]]:
    """A started sandbox after `setup --apply` and one full sync, the config and the calls of
    the sync (by sandbox endpoint)."""
    sb = SalesforceSandbox(leads=LEADS, now=datetime(2026, 11, 20, 12, tzinfo=UTC)).start()
    config = write_config(sb, tmp, objects)
    assert main(["setup", "--apply", "--config", str(config)]) == 0
    before = Counter(sb.stats()["counters"])
    assert main(["sync", "--full", "--config", str(config), "--now", NOW]) == 0
    calls = Counter(sb.stats()["counters"])
    calls.subtract(before)
    return sb, config, +calls


def stored(tmp: Path, kinds: tuple[str, ...], ids: list[str]) -> list[dict[str, ScoreResult]]:
    """The latest stored result of each of `ids` under each state kind."""
    store = StateStore.open(f"sqlite:///{tmp / 'state.db'}", now=datetime.now(UTC))
    try:
        return [store.previous_scores("sf", kind, ids) for kind in kinds]
    finally:
        store.close()


def test_two_lead_models_write_their_own_fields_with_the_calls_of_one(tmp_path, capsys) -> None:
    model_b = tmp_path / "product-b.yaml"
    # product line B: seniority matters less, company size more
    model_b.write_text(
        MODEL_A.read_text()
        .replace("name: salesforce-b2b-leads", "name: product-b")
        .replace("points: 30}", "points: 5}")
        .replace("{gte: 1000}}, points: 25", "{gte: 1000}}, points: 45")
    )
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one_sb, _, one_calls = synced(tmp_path / "one", f"      - {{kind: lead, model: {MODEL_A}}}\n")
    one_sb.stop()
    sb, config, calls = synced(
        tmp_path / "two",
        f"      - {{kind: lead, model: {MODEL_A}, output_prefix: leadsync_pl_a_}}\n"
        f"      - {{kind: lead, model: {model_b}, output_prefix: leadsync_pl_b_}}\n",
    )
    try:
        shown = capsys.readouterr().out.splitlines()
        # setup created each model's fields
        for part in ("a", "b"):
            assert f"sf (salesforce) lead (leadsync_pl_{part}_*):" in shown
            assert (
                f"pl_{part}_model_version  Leadsync_Pl_{part.upper()}_Model_Version__c  created  "
                "Text field"
            ) in shown
        # the same reads and writes as one model: one composite call, of two collections
        assert calls == one_calls
        assert (calls["composite"], calls["collections_update"]) == (1, 2)
        leads = {i: r for i, r in sb.store.table("Lead").items() if not r.get("IsConverted")}
        ids = sorted(leads)
        a, b = stored(tmp_path / "two", ("lead", "lead:pl_b"), ids)
        assert sorted(a) == sorted(b) == ids
        assert {i: leads[i]["Leadsync_Pl_A_Score__c"] for i in ids} == {i: a[i].score for i in ids}
        assert {i: leads[i]["Leadsync_Pl_B_Score__c"] for i in ids} == {i: b[i].score for i in ids}
        assert {i: leads[i]["Leadsync_Pl_B_Label__c"] for i in ids} == {i: b[i].label for i in ids}
        assert not [f for r in leads.values() for f in r if f.startswith("Leadsync_Score")]
        assert 0 < sum(a[i].score != b[i].score for i in ids) < len(ids)
        # explain each model's view of one lead
        for name, results in (("pl_a", a), ("product-b", b)):
            args = ["explain", ids[0], "--config", str(config), "--model-name", name]
            capsys.readouterr()
            assert main([*args, "--now", NOW, "--format", "json"]) == 0
            explained = json.loads(capsys.readouterr().out)["result"]
            assert (explained["score"], explained["label"]) == (
                results[ids[0]].score,
                results[ids[0]].label,
            )
        # a second full run writes nothing; an incremental run scores none of our writes again
        before = Counter(sb.stats()["counters"])
        assert main(["sync", "--full", "--config", str(config), "--now", NOW]) == 0
        assert main(["sync", "--config", str(config), "--now", NOW]) == 0
        after = Counter(sb.stats()["counters"])
        assert (after["composite"], after["collections_update"]) == (
            before["composite"],
            before["collections_update"],
        )
        store = StateStore.open(f"sqlite:///{tmp_path / 'two' / 'state.db'}", now=datetime.now(UTC))
        try:
            latest = store.runs("sf")[0]
        finally:
            store.close()
        assert (latest.mode, latest.counts.scored, latest.counts.written) == ("incremental", 0, 0)
        assert latest.counts.read > 0
    finally:
        sb.stop()


def contact_model(name: str, vp_points: int) -> str:
    return (
        f"name: {name}\nobject: contact\nfit:\n  rules:\n"
        f"    - {{name: VP, if: {{Title: {{matches: '\\bvp\\b|vice president'}}}}, "
        f"points: {vp_points}}}\n"
        "    - {name: Referral, if: {LeadSource: {in: [Partner Referral, Employee Referral]}}, "
        "points: 20}\n"
    )


def test_two_contact_models_write_their_own_fields(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text(contact_model("contacts-a", 40))
    (tmp_path / "b.yaml").write_text(contact_model("contacts-b", 5))
    sb, _, calls = synced(
        tmp_path,
        f"      - {{kind: contact, model: {tmp_path / 'a.yaml'}, output_prefix: leadsync_a_}}\n"
        f"      - {{kind: contact, model: {tmp_path / 'b.yaml'}, output_prefix: leadsync_b_}}\n",
    )
    try:
        contacts = sb.store.table("Contact")
        assert calls["collections_update"] == -(-len(contacts) // 200)
        ids = sorted(contacts)
        a, b = stored(tmp_path, ("contact", "contact:b"), ids)
        assert {i: contacts[i]["Leadsync_A_Fit__c"] for i in ids} == {i: a[i].fit for i in ids}
        assert {i: contacts[i]["Leadsync_B_Fit__c"] for i in ids} == {i: b[i].fit for i in ids}
        assert 0 < sum(a[i].fit != b[i].fit for i in ids) < len(ids)
    finally:
        sb.stop()


def test_account_roll_ups_need_one_unprefixed_contact_model(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text(contact_model("contacts-a", 40))
    (tmp_path / "b.yaml").write_text(contact_model("contacts-b", 5))
    accounts = ROOT / "config" / "examples" / "models" / "salesforce-accounts.yaml"
    config = tmp_path / "leadsync.yaml"
    head = (
        "connections:\n  - name: sf\n    crm: salesforce\n    salesforce: {login_url: "
        '"https://login.example", client_id: c, client_secret: s}\n    objects:\n'
        f"      - {{kind: account, model: {accounts}}}\n"
    )
    config.write_text(
        head
        + f"      - {{kind: contact, model: {tmp_path / 'a.yaml'}, output_prefix: leadsync_a_}}\n"
        f"      - {{kind: contact, model: {tmp_path / 'b.yaml'}, output_prefix: leadsync_b_}}\n"
    )
    with pytest.raises(ProblemsError) as info:
        load_models(load_config(config))
    assert [(p.path, p.message) for p in info.value.problems] == [
        (
            "connections[0].objects[0].model",
            "roll-up 'Hottest people' (members.rollup[0]) reads each person's interest, which "
            "no contact model writes unprefixed: each has an output_prefix; name whose scores it "
            "reads with model: on the roll-up (contacts-a (a), contacts-b (b)), or leave the "
            "output_prefix out of one of them",
        )
    ]
    # the first contact model unprefixed: its scores are rolled up
    config.write_text(
        head + f"      - {{kind: contact, model: {tmp_path / 'a.yaml'}}}\n"
        f"      - {{kind: contact, model: {tmp_path / 'b.yaml'}, output_prefix: leadsync_b_}}\n"
    )
    assert sorted(load_models(load_config(config))) == [("sf", "account"), ("sf", "contact")]
