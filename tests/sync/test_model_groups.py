"""Several models of one kind on one HubSpot connection: each writes its own output properties
(`output_prefix`), a run reads each contact once and writes each contact's changes of both
models in one batch input, results are kept per model (explain with --model-name)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.commands.runs import open_store
from cli.main import main
from config.errors import ProblemsError
from config.loader import load_config
from sandbox.hubspot import HubSpotSandbox

ROOT = Path(__file__).resolve().parents[2]
MODEL_A = ROOT / "config/examples/models/hubspot-professional.yaml"
NOW = "2026-11-20T12:00:00Z"
OUTPUTS = ("fit", "interest", "score", "grade", "label", "qualified", "model_version")


@dataclass
class Env:
    sandbox: HubSpotSandbox
    config: Path
    tmp: Path


def config_text(sandbox: HubSpotSandbox, tmp: Path, objects: str) -> str:
    return (
        f"state_url: sqlite:///{tmp}/state.db\n"
        "connections:\n"
        "  - name: hub\n"
        "    crm: hubspot\n"
        f'    hubspot: {{base_url: "{sandbox.url}", access_token: "{sandbox.token}"}}\n'
        f"    objects:\n{objects}"
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("groups")
    model_b = tmp / "product-b.yaml"
    # product line B: a different model (name, seniority matters less, size more)
    model_b.write_text(
        MODEL_A.read_text()
        .replace("name: hubspot-professional", "name: product-b")
        .replace("points: 30}", "points: 5}")
        .replace(
            "500+ employees, if: {company.numberofemployees: {gte: 500}}, points: 25",
            "500+ employees, if: {company.numberofemployees: {gte: 500}}, points: 45",
        )
    )
    sandbox = HubSpotSandbox(
        contacts=250, now=datetime(2026, 11, 20, 12, tzinfo=UTC), rate_limit_10s=100_000
    ).start()
    config = tmp / "leadsync.yaml"
    config.write_text(
        config_text(
            sandbox,
            tmp,
            f"      - {{kind: contact, model: {MODEL_A}, output_prefix: leadsync_pl_a_}}\n"
            f"      - {{kind: contact, model: {model_b}, output_prefix: leadsync_pl_b_}}\n",
        )
    )
    try:
        yield Env(sandbox, config, tmp)
    finally:
        sandbox.stop()


def crm_values(sb: HubSpotSandbox, prefix: str) -> dict[str, dict[str, str | None]]:
    table = sb.store.table("contacts")
    with sb.store.lock:
        return {
            str(i): {n: table.text(table.rows[i], prefix + n) for n in OUTPUTS}
            for i in table.ids
            if not table.rows[i].archived
        }


def test_two_models_write_their_own_properties_in_one_write_per_contact(env, capsys) -> None:
    sb = env.sandbox
    assert main(["setup", "--config", str(env.config), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "hub (hubspot) contact (leadsync_pl_a_*):" in out
    assert "hub (hubspot) contact (leadsync_pl_b_*):" in out
    sb.clear_counts()
    updates = sb.journal("POST /crm/v3/objects/{object}/batch/update")
    assert main(["sync", "--config", str(env.config), "--full", "--now", NOW]) == 0
    counts = sb.request_counts()
    contacts = len(crm_values(sb, "leadsync_pl_a_"))
    # every contact is new to both models: one input per contact, 100 a call
    assert counts["POST /crm/v3/objects/{object}/batch/update"] == {"200": -(-contacts // 100)}
    assert sum(len(body["inputs"]) for body in updates) == contacts
    assert counts["GET /crm/v3/objects/{object}"]["200"] == -(-contacts // 100)
    sent = updates[0]["inputs"][0]["properties"]
    assert {
        k.removeprefix("leadsync_pl_a_") for k in sent if k.startswith("leadsync_pl_a_")
    } >= set(OUTPUTS)
    assert {
        k.removeprefix("leadsync_pl_b_") for k in sent if k.startswith("leadsync_pl_b_")
    } >= set(OUTPUTS)
    assert not [
        k
        for k in sent
        if k.startswith("leadsync_") and not k.startswith(("leadsync_pl_a_", "leadsync_pl_b_"))
    ]
    # each model's values are its stored results
    store = open_store(load_config(env.config).settings)
    try:
        a = crm_values(sb, "leadsync_pl_a_")
        b = crm_values(sb, "leadsync_pl_b_")
        ids = sorted(a)
        stored_a = store.previous_scores("hub", "contact", ids)
        stored_b = store.previous_scores("hub", "contact:pl_b", ids)
    finally:
        store.close()
    assert {i: a[i]["score"] for i in ids} == {i: str(stored_a[i].score) for i in ids}
    assert {i: b[i]["score"] for i in ids} == {i: str(stored_b[i].score) for i in ids}
    assert {i: b[i]["label"] for i in ids} == {i: stored_b[i].label for i in ids}
    differ = sum(stored_a[i].score != stored_b[i].score for i in ids)
    assert 0 < differ < len(ids)
    # a second full run changes nothing and writes nothing
    sb.clear_counts()
    assert main(["sync", "--config", str(env.config), "--full", "--now", NOW]) == 0
    assert "POST /crm/v3/objects/{object}/batch/update" not in sb.request_counts()
    # an incremental run reads our writes back and scores none of them again (both models'
    # stored versions were raised by the one write)
    assert main(["sync", "--config", str(env.config), "--now", NOW]) == 0
    store = open_store(load_config(env.config).settings)
    try:
        latest = store.runs("hub")[0]
    finally:
        store.close()
    assert (latest.mode, latest.counts.scored, latest.counts.written) == ("incremental", 0, 0)
    assert latest.counts.read > 0
    # explain each model's view of one contact
    rid = ids[0]
    capsys.readouterr()
    assert main(["history", rid, "--config", str(env.config)]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert f"pl_a_score – -> {stored_a[rid].score}" in shown[1]
    assert f"pl_b_score – -> {stored_b[rid].score}" in shown[1]
    assert shown[3] == "    written because: hubspot-professional: new | product-b: new"
    for name, stored in (("pl_a", stored_a[rid]), ("product-b", stored_b[rid])):
        capsys.readouterr()
        args = ["explain", rid, "--config", str(env.config), "--model-name", name, "--now", NOW]
        assert main([*args, "--format", "json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert (shown["result"]["score"], shown["result"]["label"]) == (stored.score, stored.label)
        assert shown["model"] == ("hubspot-professional" if name == "pl_a" else "product-b")


def test_preview_of_each_model_of_a_kind(env, capsys) -> None:
    assert main(["setup", "--config", str(env.config), "--apply"]) == 0
    assert main(["sync", "--config", str(env.config), "--full", "--now", NOW]) == 0
    contacts = len(crm_values(env.sandbox, "leadsync_pl_a_"))
    model_b = str(env.tmp / "product-b.yaml")
    base = ["--config", str(env.config), "--now", NOW]
    # each model against itself, from its own stored results and inputs: nothing moves
    for name, path, live in (
        ("pl_a", str(MODEL_A), "hubspot-professional"),
        ("product-b", model_b, "product-b"),
    ):
        capsys.readouterr()
        assert main(["preview", "--model", path, *base, "--model-name", name, "--from-state"]) == 0
        shown = capsys.readouterr().out.splitlines()
        assert shown[:2] == [
            f"preview of {live} against {live} on {contacts:,} records from hub (contact "
            "records from the state store); nothing was written",
            "label changes 0  grade changes 0  newly qualified 0  no longer qualified 0",
        ]
    # model A as the candidate for product line B, read from the CRM
    capsys.readouterr()
    assert main(["preview", "--model", str(MODEL_A), *base, "--model-name", "pl_b"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == (
        f"preview of hubspot-professional against product-b on {contacts:,} records from hub "
        "(contact records read from the CRM); nothing was written"
    )
    store = open_store(load_config(env.config).settings)
    try:
        ids = sorted(crm_values(env.sandbox, "leadsync_pl_a_"))
        a = store.previous_scores("hub", "contact", ids)
        b = store.previous_scores("hub", "contact:pl_b", ids)
    finally:
        store.close()
    labels = sum(a[i].label != b[i].label for i in ids)
    grades = sum(a[i].grade != b[i].grade for i in ids)
    assert shown[1].startswith(f"label changes {labels:,}  grade changes {grades:,}  ")
    assert labels > 0


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        (
            "      - {kind: contact, model: M}\n      - {kind: contact, model: M}\n",
            "objects[1].output_prefix: two contact models would write leadsync_changes, "
            "leadsync_fit, leadsync_grade ...: give each model of a kind its own output_prefix, "
            "e.g. leadsync_pl_a_",
        ),
        (
            "      - {kind: contact, model: M, output_prefix: leadsync_a_}\n"
            "      - {kind: contact, model: M, output_prefix: leadsync_a_}\n",
            "objects[1].output_prefix: two contact models would write leadsync_a_changes, "
            "leadsync_a_fit, leadsync_a_grade ...: give each model of a kind its own "
            "output_prefix, e.g. leadsync_pl_a_",
        ),
        (
            "      - {kind: contact, model: M, output_prefix: Leadsync-A}\n",
            "objects[0].output_prefix: String should match pattern '^leadsync_[a-z0-9_]*_$'",
        ),
    ],
)
def test_two_models_of_a_kind_never_write_the_same_property(env, objects, message) -> None:
    path = env.tmp / "bad.yaml"
    path.write_text(config_text(env.sandbox, env.tmp, objects.replace("M", str(MODEL_A))))
    with pytest.raises(ProblemsError) as info:
        load_config(path)
    assert [p.message for p in info.value.problems] == [message.split(": ", 1)[1]]
    assert [p.path.removeprefix("connections[0].") for p in info.value.problems] == [
        message.split(": ", 1)[0]
    ]
