"""`leadsync doctor`: the checklist against the HubSpot sandbox, healthy and broken."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from cli.commands.doctor import FAIL, OK, WARN, check_clock
from cli.main import main
from config.settings import ConnectionSettings
from sync.state.store import StateStore
from tests.sync.hubspot_env import MODEL, sandbox
from tests.sync.hubspot_env import write_config as write_hubspot_config
from tests.sync.test_model_groups_salesforce import MODEL_A, write_config


def doctor(capsys, config, *extra: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["doctor", "--config", str(config), "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def lines(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["scope"], c["name"], c["status"]) for c in body["checks"]]


def test_a_healthy_connection_passes_every_check(tmp_path, capsys):
    sb = sandbox(20, time_zone="Asia/Tokyo")
    try:
        env = write_hubspot_config(tmp_path, sb, extra="")
        assert main(["setup", "--apply", "--config", str(env.config)]) == 0
        code, body = doctor(capsys, env.config)
        assert code == 0 and body["ok"] is True
        assert lines(body) == [
            ("config", "valid", OK),
            ("state", "reachable", OK),
            ("state", "migrated", OK),
            ("state", "integrity", OK),
            ("hs", "clock skew", OK),
            ("hs", "credentials", OK),
            ("hs", "scopes and permissions", OK),
            ("hs", "contact outputs", OK),
            ("hs", "contact model properties", OK),
            ("hs", "budget headroom", OK),
        ]
        details = {c["name"]: c["detail"] for c in body["checks"]}
        assert details["integrity"] == "PRAGMA quick_check: ok"
        assert details["contact model properties"] == (
            "model 'hubspot-professional': every property it reads is in the CRM"
        )
        # every call so far counts, setup's and doctor's own (the sandbox counts them too); the
        # account's zone is asked (no state knows it) and kept as a run keeps it
        counts = sb.request_counts()
        # the clock check's GET of the base URL carries no token: no app's call, not counted
        assert counts.pop("GET (unknown)") == {"404": 1}
        served = sum(sum(by_status.values()) for by_status in counts.values())
        assert details["budget headroom"] == (
            f"{served} calls today, no daily_budget; the account's day resets at 00:00 "
            "Asia/Tokyo (15:00 UTC)"
        )
        assert counts["GET /account-info/v3/details"] == {"200": 1}
        store = StateStore.open(env.state_url, now=datetime.now(UTC))
        kept = store.account_zone("hs")
        since = datetime(2000, 1, 1, tzinfo=UTC)
        spent = store.api_calls_by_command("hs", since)
        assert sum(spent.values()) == served
        assert set(spent) == {"setup", "doctor"}
        store.close()
        assert kept is not None and kept.time_zone == "Asia/Tokyo"
        # so status, which asks nothing, places the day where doctor did
        capsys.readouterr()
        assert main(["status", "--config", str(env.config)]) == 0
        split = ", ".join(f"{command} {n:,}" for command, n in spent.items())
        assert (
            f"API calls today: {served}; by command: {split}; the account's day resets at 00:00 "
            "Asia/Tokyo (15:00 UTC)   " in capsys.readouterr().out
        )
        # and a second doctor asks HubSpot no more
        code, body = doctor(capsys, env.config)
        assert code == 0
        assert sb.request_counts()["GET /account-info/v3/details"] == {"200": 1}
    finally:
        sb.stop()


def test_the_budget_counts_from_the_stored_accounts_midnight_without_asking(tmp_path, capsys):
    sb = sandbox(20, time_zone="Asia/Tokyo")
    try:
        env = write_hubspot_config(tmp_path, sb, extra="")
        text = env.config.read_text()
        env.config.write_text(text.replace("timeout: 5}", "timeout: 5, daily_budget: 1000}"))
        assert main(["setup", "--apply", "--config", str(env.config)]) == 0
        assert main(["sync", "--config", str(env.config)]) == 0
        asked = sb.request_counts()["GET /account-info/v3/details"]
        code, body = doctor(capsys, env.config)
        assert code == 0
        store = StateStore.open(env.state_url, now=datetime.now(UTC))
        spent = store.api_calls_by_command("hs", datetime(2000, 1, 1, tzinfo=UTC))
        assert spent["sync"] == store.runs("hs")[0].counts.api_calls
        store.close()
        # setup's, the sync's and doctor's own calls before the line
        used = spent["setup"] + spent["sync"] + spent["doctor"]
        details = {c["name"]: c["detail"] for c in body["checks"]}
        assert details["budget headroom"] == (
            f"{used} of 1,000 calls today (daily_budget, {used / 1000:.0%}); the account's day "
            "resets at 00:00 Asia/Tokyo (15:00 UTC)"
        )
        # the sync kept the zone: doctor neither asks HubSpot again nor counts from UTC's day
        assert sb.request_counts()["GET /account-info/v3/details"] == asked
    finally:
        sb.stop()


def test_missing_outputs_fail_with_the_fix(tmp_path, capsys):
    sb = sandbox(20)
    try:
        env = write_hubspot_config(tmp_path, sb)
        code, body = doctor(capsys, env.config)
        assert code == 1 and body["ok"] is False
        # before the first run: no state to check, and doctor creates none
        (state,) = [c for c in body["checks"] if c["scope"] == "state"]
        assert (state["status"], state["detail"]) == (
            OK,
            f"no state yet: {tmp_path / 'state.db'} holds none; the first run creates it",
        )
        assert not (tmp_path / "state.db").exists()
        (outputs,) = [c for c in body["checks"] if c["name"] == "contact outputs"]
        assert outputs["status"] == FAIL
        assert outputs["detail"].startswith("missing leadsync_")
        assert outputs["detail"].endswith("run `leadsync setup --apply`")
    finally:
        sb.stop()


def test_a_misspelt_model_property_fails_with_its_location_and_the_rest_is_still_checked(
    tmp_path, capsys
):
    sb = sandbox(20)
    try:
        env = write_hubspot_config(tmp_path, sb)
        text = MODEL.read_text().replace("{jobtitle:", "{jobtitel:", 1)
        model = tmp_path / "misspelt.yaml"
        model.write_text(text)
        env.config.write_text(env.config.read_text().replace(str(MODEL), str(model)))
        code, body = doctor(capsys, env.config)
        assert code == 1
        # a fresh portal: the outputs are missing, the model's names and the budget still told
        assert [name for _, name, _ in lines(body)][-3:] == [
            "contact outputs",
            "contact model properties",
            "budget headroom",
        ]
        (check,) = [c for c in body["checks"] if c["name"] == "contact model properties"]
        line = next(n for n, t in enumerate(text.splitlines(), 1) if "{jobtitel:" in t)
        assert check["status"] == FAIL
        assert check["detail"].startswith(f"model 'hubspot-professional': {model}:{line}:")
        assert "'jobtitel'" in check["detail"]
        assert check["detail"].endswith(
            "; its rules never fire until fixed (`leadsync validate --config` lists each)"
        )
    finally:
        sb.stop()


def test_a_rejected_token_fails_the_credentials_without_printing_it(tmp_path, capsys, monkeypatch):
    sb = sandbox(20)
    try:
        env = write_hubspot_config(tmp_path, sb)
        monkeypatch.setenv("LEADSYNC_TEST_HUBSPOT_TOKEN", "pat-na1-wrong-token-1234")
        capsys.readouterr()
        code = main(["doctor", "--config", str(env.config)])
        out = capsys.readouterr().out
        assert code == 1
        assert out.splitlines()[0].split() == ["scope", "check", "result", "detail"]
        assert "credentials" in out and "FAIL" in out
        assert "pat-na1-wrong-token-1234" not in out
    finally:
        sb.stop()


def test_nothing_listening_names_the_url_and_stops_there(tmp_path, capsys):
    sb = sandbox(5)
    env = write_hubspot_config(tmp_path, sb)
    url = sb.url
    sb.stop()
    code, body = doctor(capsys, env.config)
    assert code == 1
    assert lines(body)[-1] == ("hs", "CRM reachable", FAIL)
    assert body["checks"][-1]["detail"].startswith(f"{url}: ConnectionError")


def hubspot_conn() -> ConnectionSettings:
    return ConnectionSettings.model_validate(
        {
            "name": "hs",
            "crm": "hubspot",
            "hubspot": {"access_token": "t", "base_url": "https://crm.example"},
            "objects": [{"kind": "contact", "model": "m.yaml"}],
        }
    )


@responses.activate
def test_clock_skew_against_the_crm_date_header():
    responses.get(
        "https://crm.example", status=404, headers={"Date": "Fri, 20 Nov 2026 12:00:00 GMT"}
    )
    at = datetime(2026, 11, 20, 12, 0, 10, tzinfo=UTC)
    assert check_clock(hubspot_conn(), lambda: at).status == OK
    late = check_clock(hubspot_conn(), lambda: datetime(2026, 11, 20, 12, 1, tzinfo=UTC))
    assert (late.status, late.detail) == (
        WARN,
        "+60 s against https://crm.example; synchronise this host's clock (NTP)",
    )
    early = check_clock(hubspot_conn(), lambda: datetime(2026, 11, 20, 11, 55, tzinfo=UTC))
    assert (early.status, early.detail.split(";")[0]) == (
        FAIL,
        "-300 s against https://crm.example",
    )


@pytest.mark.parametrize(
    ("org", "status", "detail"),
    [
        (
            {},
            OK,
            "ListEmailSentResult read at API 67.0 for email_click, email_open, email_reply "
            "(FirstClickedDate, FirstOpenedDate, HasReply, LastClickedDate)",
        ),
        (
            {"max_version": 64.0},
            WARN,
            "ListEmailSentResult not read: the org serves API versions up to 64.0, the object "
            "needs 67.0; list-email opens count only where Salesforce also keeps an EmailStatus",
        ),
    ],
)
def test_salesforce_models_with_email_rules_are_told_whether_list_email_results_are_read(
    tmp_path, capsys, org, status, detail
):
    from sandbox.salesforce import SalesforceSandbox

    sb = SalesforceSandbox(leads=20, **org).start()
    try:
        config = write_config(sb, tmp_path, f"      - {{kind: lead, model: {MODEL_A}}}\n")
        assert main(["setup", "--apply", "--config", str(config)]) == 0
        code, body = doctor(capsys, config)
        assert code == 0
        assert lines(body)[-2:] == [
            ("sf", "budget headroom", OK),
            ("sf", "list email results", status),
        ]
        assert body["checks"][-1]["detail"] == detail
    finally:
        sb.stop()


def _with_grade_e(config, model, tmp_path) -> None:
    """Point `config` at a copy of `model` with a fifth fit grade, E."""
    text = model.read_text()
    grades = next(line for line in text.splitlines() if line.startswith("  fit: {A:"))
    copy = tmp_path / "with-e.yaml"
    copy.write_text(text.replace(grades, grades.replace(", D: 0}", ", D: 10, E: 0}")))
    config.write_text(config.read_text().replace(str(model), str(copy)))


def test_missing_grade_options_are_not_a_type_conflict_on_hubspot(tmp_path, capsys):
    """A new grade lacks its dropdown option: `setup --apply` adds it; nothing to delete."""
    from tests.sync.hubspot_env import MODEL

    sb = sandbox(20)
    try:
        env = write_hubspot_config(tmp_path, sb)
        assert main(["setup", "--apply", "--config", str(env.config)]) == 0
        _with_grade_e(env.config, MODEL, tmp_path)
        capsys.readouterr()
        assert main(["setup", "--config", str(env.config)]) == 0
        out = capsys.readouterr().out.splitlines()
        assert [line.split() for line in out if "leadsync_grade" in line] == [
            ["grade", "leadsync_grade", "incomplete", "options", "missing:", "E"]
        ]
        assert out[-1] == (
            "some properties lack options the model needs: run `leadsync setup --apply` to add "
            "them (the properties and their stored scores stay)"
        )
        assert not any("another type" in line for line in out)
        code, body = doctor(capsys, env.config)
        (outputs,) = [c for c in body["checks"] if c["name"] == "contact outputs"]
        assert code == 1 and outputs["status"] == FAIL
        assert outputs["detail"] == (
            "incomplete leadsync_grade (options missing: E), leadsync_label (options missing: "
            "E1, E2, E3): run `leadsync setup --apply` to add them"
        )
        assert main(["setup", "--apply", "--config", str(env.config)]) == 0
        code, body = doctor(capsys, env.config)
        (outputs,) = [c for c in body["checks"] if c["name"] == "contact outputs"]
        assert outputs["status"] == OK
    finally:
        sb.stop()


def test_missing_picklist_values_are_not_a_type_conflict_on_salesforce(tmp_path, capsys):
    from sandbox.salesforce import SalesforceSandbox

    sb = SalesforceSandbox(leads=20).start()
    try:
        config = write_config(sb, tmp_path, f"      - {{kind: lead, model: {MODEL_A}}}\n")
        assert main(["setup", "--apply", "--config", str(config)]) == 0
        _with_grade_e(config, MODEL_A, tmp_path)
        code, body = doctor(capsys, config)
        (outputs,) = [c for c in body["checks"] if c["name"] == "lead outputs"]
        assert code == 1 and outputs["status"] == FAIL
        assert outputs["detail"] == (
            "incomplete Leadsync_Grade__c (picklist lacks E), Leadsync_Label__c (picklist lacks "
            "E1, E2, E3): run `leadsync setup --apply` to add them"
        )
    finally:
        sb.stop()
