"""The live variants against the in-process HubSpot sandbox: preview, explain, history, backtest.

One sandbox and one synced state store are shared by the module (setup and two full syncs, the
second 45 days later so decay moves interest and the ledger holds a second write).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from cli.commands.runs import open_store
from cli.main import main
from config.loader import load_config
from config.model_loader import load_model, parse_model
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from revops import preview
from sandbox.hubspot import HubSpotSandbox
from scoring.reasons import signed
from scoring.types import ScoreResult

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "config/examples/models/hubspot-contacts.yaml"
NOW = "2026-11-20T12:00:00Z"
LATER = "2027-01-04T12:00:00Z"


@dataclass
class Live:
    sandbox: HubSpotSandbox
    config: Path
    tmp: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    sandbox = HubSpotSandbox(
        contacts=120, now=datetime(2026, 11, 20, 12, tzinfo=UTC), rate_limit_10s=100_000
    ).start()
    config = tmp / "leadsync.yaml"
    config.write_text(
        f"state_url: sqlite:///{tmp}/state.db\n"
        "connections:\n"
        "  - name: sandbox\n"
        "    crm: hubspot\n"
        f'    hubspot: {{base_url: "{sandbox.url}", access_token: "{sandbox.token}", '
        "tier: enterprise}\n"
        f"    objects: [{{kind: contact, model: {MODEL}}}]\n"
    )
    try:
        assert main(["setup", "--config", str(config), "--apply"]) == 0
        assert main(["sync", "--config", str(config), "--full", "--now", NOW]) == 0
        yield Live(sandbox, config, tmp)
    finally:
        sandbox.stop()


def run(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def leaves(explained: dict[str, Any]) -> list[dict[str, Any]]:
    """Every property value the rules of an `explain --format json` saw."""
    return [value for rule in explained["rules"] for value in rule["values"]]


def stored(live: Live) -> dict[str, ScoreResult]:
    store = open_store(load_config(live.config).settings)
    try:
        ids = [str(i) for i in live.sandbox.store.table("contacts").ids]
        return dict(store.previous_scores("sandbox", "contact", ids))
    finally:
        store.close()


def test_preview_of_a_deliberately_changed_rule(live, capsys):
    candidate = live.tmp / "candidate.yaml"
    text = MODEL.read_text()
    assert text.count("points: 50\n") == 1
    candidate.write_text(text.replace("points: 50\n", "points: 10\n"))  # the demo request
    before = stored(live)
    demo = {
        rid: c.points
        for rid, r in before.items()
        for c in r.contributions
        if c.rule == "Demo request"
    }
    assert demo  # the sandbox population holds demo requests
    code, out = run(
        capsys, "preview", "--config", str(live.config), "--model", str(candidate), "--now", NOW,
        "--report", str(live.tmp / "reports" / "preview.html"),  # a folder not made yet
    )  # fmt: skip
    assert code == 0
    assert f"on {len(before)} records from sandbox" in out
    # The live side is exactly what the sync engine stored; only records with a demo can move.
    lines = out.splitlines()
    shift = next(line for line in lines if line.startswith("Demo request"))
    # Mean points per record over the whole population, live and candidate (a fifth).
    mean = sum(demo.values()) / len(before)
    assert shift.split() == [
        "Demo", "request", f"{mean:.2f}", f"{mean / 5:.2f}", f"{mean / 5 - mean:+.2f}",
        str(len(demo)),
    ]  # fmt: skip
    assert sum(1 for line in lines if line.startswith(("Demo request", "rule "))) == 2
    assert (live.tmp / "reports" / "preview.html").stat().st_size > 1_000_000
    code, out = run(
        capsys, "preview", "--config", str(live.config), "--model", str(MODEL), "--now", NOW
    )
    assert code == 0
    assert "label changes 0  grade changes 0  newly qualified 0  no longer qualified 0" in out


def test_preview_from_state_counts_exactly_what_preview_from_the_crm_counts(live, capsys):
    settings = load_config(live.config).settings
    live_model = load_model(MODEL)
    text = MODEL.read_text()
    candidate = parse_model(text.replace("points: 50\n", "points: 10\n"), "candidate.yaml")
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    store = open_store(settings)
    connector = HubSpotConnector(
        HubSpotOptions(base_url=live.sandbox.url, access_token=SecretStr(live.sandbox.token))
    )
    try:
        from_crm = preview.preview_from_crm(
            connector,
            store,
            connection="sandbox",
            kind="contact",
            live=live_model,
            candidate=candidate,
            now=now,
        )
        from_state = preview.preview_from_state(
            store,
            connection="sandbox",
            kind="contact",
            live=live_model,
            candidate=candidate,
            now=now,
        )
    finally:
        connector.close()
        store.close()
    assert from_state.records == from_crm.records == 120
    assert from_crm.label_changed > 0  # the changed rule moves someone

    # The same figures; only the order differs (the CRM's paging order, the store's by id).
    def figures(pv: preview.Preview) -> preview.Preview:
        first_n: dict[str, list[preview.Sample]] = {
            k: [] for k in pv.samples if not k.startswith("largest")
        }
        return replace(
            pv,
            source="",
            scores_before=sorted(pv.scores_before),
            scores_after=sorted(pv.scores_after),
            samples={**pv.samples, **first_n},
        )

    assert figures(from_state) == figures(from_crm)
    path = live.tmp / "candidate-state.yaml"
    path.write_text(text.replace("points: 50\n", "points: 10\n"))
    code, out = run(
        capsys, "preview", "--config", str(live.config), "--model", str(path), "--now", NOW,
        "--from-state",
    )  # fmt: skip
    assert code == 0
    assert "on 120 records from sandbox (contact records from the state store)" in out
    assert (
        f"label changes {from_crm.label_changed}  grade changes {from_crm.grade_changed}  "
        f"newly qualified {from_crm.newly_qualified}  "
        f"no longer qualified {from_crm.unqualified}"
    ) in out
    extra = live.tmp / "candidate-extra.yaml"
    extra.write_text(
        text.replace("points: 50\n", "points: 10\n").replace("jobtitle", "hs_persona", 1)
    )
    code = main(["preview", "--config", str(live.config), "--model", str(extra), "--from-state"])
    assert code == 2
    assert "reads property hs_persona, which the live model does not" in capsys.readouterr().err


def test_backtest_from_the_crm_counts_lifecycle_outcomes(live, capsys):
    table = live.sandbox.store.table("contacts")
    column = table.columns["lifecyclestage"]
    converted = sum(
        1
        for row in table.rows.values()
        if row.values[column] in ("opportunity", "customer", "evangelist")
    )
    code, out = run(capsys, "backtest", "--config", str(live.config), "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert (result["records"], result["converted"]) == (len(table.rows), converted)
    assert result["auc"] is not None
    # Property history from batch reads with propertiesWithHistory; a contact's company fields
    # are not the contact's own, so they have none and the report says so.
    assert result["point_in_time"][1:] == [
        "property history from the CRM for: country, email, hs_analytics_last_visit_timestamp, "
        "hs_analytics_source, hs_email_open, jobtitle, website",
        "no history in the CRM for: company.annualrevenue, company.industry, "
        "company.numberofemployees (current values used; they may have changed after the "
        "outcome)",
    ]


def test_explain_live_uses_the_stored_previous_result(live, capsys):
    before = stored(live)
    record_id, result = next(iter(before.items()))
    code, out = run(capsys, "explain", record_id, "--config", str(live.config), "--now", NOW)
    assert code == 0
    was = "qualified" if result.qualified else "not qualified"
    assert f"qualification: {was} -> " in out
    assert out.splitlines()[0].startswith(f"record {record_id}  model hubspot-b2b-contacts")
    code, _ = run(capsys, "explain", "999999999", "--config", str(live.config))
    assert code == 2


def test_explain_at_a_past_moment_uses_property_history(live, capsys):
    table = live.sandbox.store.table("contacts")
    with live.sandbox.store.lock:
        row = table.rows[table.ids[0]]
        title = table.raw(row, "jobtitle")
    # Change the title through the API (the write is dated by the sandbox's clock, today).
    reply = requests.patch(
        f"{live.sandbox.url}/crm/v3/objects/contacts/{row.id}",
        json={"properties": {"jobtitle": "Chief Executive Officer"}},
        headers={"Authorization": f"Bearer {live.sandbox.token}"},
        timeout=5,
    )
    assert reply.status_code == 200
    try:
        args = ["explain", str(row.id), "--config", str(live.config), "--format", "json"]
        code, out = run(capsys, *args, "--now", NOW)
        assert code == 0
        data = json.loads(out)
        seen = {leaf["property"]: leaf["value"] for leaf in leaves(data)}
        assert seen.get("jobtitle") == title
        # A contact's own properties with a value have history; its company's fields do not.
        own = sorted(p for p in load_model(MODEL).properties if not p.startswith("company."))
        with live.sandbox.store.lock:
            valued = [p for p in own if table.raw(row, p) is not None]
        assert "jobtitle" in valued
        assert data["point_in_time"]["with_history"] == valued
        assert data["point_in_time"]["without_history"][:3] == [
            "company.annualrevenue", "company.industry", "company.numberofemployees",
        ]  # fmt: skip
        code, out = run(capsys, *args[:-2], "--now", NOW)
        tail = out.splitlines()[-4:]
        assert tail[0] == "point in time: the record as it was at 2026-11-20T12:00:00+00:00"
        assert tail[1] == "  values from the CRM's property history: " + ", ".join(valued)
        assert tail[2].startswith("  no history in the CRM for: company.annualrevenue, ")
        assert tail[3].endswith(" events after that moment left out")
        # Without --now (or at the present) the record is read as it is.
        code, out = run(capsys, *args)
        assert "point_in_time" not in json.loads(out)
        assert {leaf["property"]: leaf["value"] for leaf in leaves(json.loads(out))}.get(
            "jobtitle"
        ) == "Chief Executive Officer"
    finally:
        requests.patch(
            f"{live.sandbox.url}/crm/v3/objects/contacts/{row.id}",
            json={"properties": {"jobtitle": title}},
            headers={"Authorization": f"Bearer {live.sandbox.token}"},
            timeout=5,
        )


def test_history_lists_each_write_with_what_moved(live, capsys):
    first = stored(live)
    assert main(["sync", "--config", str(live.config), "--full", "--now", LATER]) == 0
    second = stored(live)
    moved = sorted(rid for rid in first if first[rid].score != second[rid].score)
    assert moved
    rid = moved[0]
    code, out = run(capsys, "history", rid, "--config", str(live.config))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"score history of {rid}: 2 write(s)"
    assert f"score – -> {first[rid].score}" in lines[1]
    writes = [line for line in lines if "  run " in line]
    assert f"score {first[rid].score} -> {second[rid].score}" in writes[1]
    # Each write shows the reason lines of the result it wrote, largest contribution first.
    whys = [
        line.removeprefix("    why: ").split(" | ")
        for line in lines
        if line.startswith("    why: ")
    ]
    assert len(whys) == 2
    top = max(second[rid].contributions, key=lambda c: abs(c.points))
    assert whys[1][0].startswith(f"{signed(top.points)} {top.rule}")
    assert len(whys[1]) == min(5, sum(1 for c in second[rid].contributions if round(c.points)))
    code, out = run(capsys, "history", rid, "--config", str(live.config), "--format", "json")
    assert [e["new"]["score"] for e in json.loads(out)] == [first[rid].score, second[rid].score]
    assert json.loads(out)[1]["why"] == whys[1]


def test_backtest_a_candidate_model_on_live_data_without_editing_the_config(live, capsys):
    text = MODEL.read_text().replace("name: hubspot-b2b-contacts", "name: candidate")
    same, changed = live.tmp / "same.yaml", live.tmp / "changed.yaml"
    same.write_text(text)
    # the candidate's own rules are tried: the VP rule renamed and without points
    vp = (
        "{name: VP title, if: {jobtitle: {matches: '\\b(vp|svp|evp|vice president)\\b'}}, "
        "points: 25}"
    )
    assert vp in text
    changed.write_text(text.replace(vp, vp.replace("VP title", "Candidate VP").replace("25", "0")))
    args = ["backtest", "--config", str(live.config), "--format", "json"]
    code, configured = run(capsys, *args)
    assert code == 0
    code, tried = run(capsys, *args, "--model", str(same))
    assert code == 0
    a, b = json.loads(configured), json.loads(tried)
    assert (a["model_name"], b["model_name"]) == ("hubspot-b2b-contacts", "candidate")
    assert (a["records"], a["converted"], a["auc"]) == (b["records"], b["converted"], b["auc"])
    code, other = run(capsys, *args, "--model", str(changed))
    assert code == 0
    c = json.loads(other)
    signs = {r["rule"]: r["points_sign"] for r in c["rules"]}
    assert (signs["Candidate VP"], "VP title" in signs) == (0, False)
    assert {r["rule"]: r["points_sign"] for r in a["rules"]}["VP title"] == 1
    assert c["records"] == a["records"]
    lines = a["point_in_time"]
    assert any(line.startswith("each record scored at its own cutoff") for line in lines)


def test_calibrate_live_writes_a_proposal_and_refuses_to_overwrite_it(live, capsys):
    out = live.tmp / "proposed.yaml"
    args = ["calibrate", "--config", str(live.config), "--connection", "sandbox", "--out",
            str(out), "--folds", "3"]  # fmt: skip
    code, text = run(capsys, *args)
    assert code == 0
    assert text.startswith("calibration of hubspot-b2b-contacts on 120 records, 3-fold")
    # Calibration takes each record at its cutoff with the CRM's history, and says which
    # properties had none.
    lines = text.splitlines()
    assert lines[4:6] == [
        "point in time: property history from the CRM for: country, email, "
        "hs_analytics_last_visit_timestamp, hs_analytics_source, hs_email_open, jobtitle, website",
        "point in time: no history in the CRM for: company.annualrevenue, company.industry, "
        "company.numberofemployees (current values used; they may have changed after the outcome)",
    ]
    proposal = load_model(out)
    assert proposal.object == "contact"
    capsys.readouterr()
    assert main(args) == 2
    assert f"{out} exists; pass --force to overwrite it" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
