"""A rule naming a property the input lacks is reported, located in the model file with a
suggestion: by `validate --input`, `score`, `backtest` and `calibrate` on files (an error for
CSV, a warning for JSONL) and by `validate --config` / `backtest --config` against the CRM's
property list. `--id-column` picks the CSV column holding record ids."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import main
from config.model_refs import did_you_mean
from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from tests.sync.account_groups_env import config_file, salesforce_block

MODEL = """\
name: leads
object: lead
fit:
  rules:
    - {name: Visited, if: {Totalvisits: {gte: 1}}, points: 20}
    - name: Time on site
      property: Total Time Spent on Websit
      bands: [{lt: 300, points: 0}, {gte: 300, points: 10}]
    - {name: Source, if: {Lead Source: Google}, points: 5}
"""
CSV = (
    "Prospect ID,Lead Source,TotalVisits,Total Time Spent on Website,Converted\n"
    "p-1,Google,3,400,1\n"
    "p-2,Select,0,10,0\n"
    "p-3,Direct Traffic,1,,0\n"
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "leads.yaml"
    model.write_text(MODEL)
    data = tmp_path / "leads.csv"
    data.write_text(CSV)
    return model, data


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def expected(model: Path, where: str) -> list[str]:
    return [
        f"{model}:5:28 fit.rules[0].if.Totalvisits: no property 'Totalvisits' {where} "
        "(did you mean 'TotalVisits'?)",
        f"{model}:7:17 fit.rules[1].property: no property 'Total Time Spent on Websit' {where} "
        "(did you mean 'Total Time Spent on Website'?)",
    ]


@pytest.mark.parametrize(
    ("name", "choices", "hint"),
    [
        ("totalvisits", ["TotalVisits", "Total Visits"], " (did you mean 'TotalVisits'?)"),
        ("Lead Sorce", ["Lead Source", "Lead Origin", "Country"], " (did you mean 'Lead Source'?)"),
        (
            "jobtitel",
            ["jobtitle", "job_title", "city"],
            " (did you mean 'jobtitle' or 'job_title'?)",
        ),
        ("zzz", ["jobtitle", "city"], ""),
    ],
)
def test_did_you_mean(name: str, choices: list[str], hint: str) -> None:
    assert did_you_mean(name, choices) == hint


def test_validate_input_locates_each_missing_column(files, capsys) -> None:
    model, data = files
    code, out, err = run(capsys, "validate", "--model", str(model), "--input", str(data))
    assert code == 2 and out == ""
    assert err.removeprefix("error: ").splitlines() == expected(
        model, "in the columns of leads.csv"
    )


@pytest.mark.parametrize("command", ["score", "backtest", "calibrate"])
def test_file_commands_refuse_a_csv_without_a_column_the_model_reads(
    files, capsys, command
) -> None:
    model, data = files
    args = ["--model", str(model), "--input", str(data)]
    if command != "score":
        args += ["--outcome", "Converted"]
    if command == "calibrate":
        args += ["--out", str(model.parent / "proposed.yaml")]
    code, out, err = run(capsys, command, *args)
    assert code == 2 and out == ""
    assert err.removeprefix("error: ").splitlines() == expected(
        model, "in the columns of leads.csv"
    )
    assert not (model.parent / "proposed.yaml").exists()


def test_jsonl_input_warns_and_still_scores(files, capsys) -> None:
    model, _ = files
    data = model.parent / "leads.jsonl"
    data.write_text(
        json.dumps(
            {
                "id": "p-1",
                "properties": {
                    "Lead Source": "Google",
                    "TotalVisits": 3,
                    "Total Time Spent on Website": 400,
                },
            }
        )
        + "\n"
    )
    code, out, err = run(
        capsys, "score", "--model", str(model), "--input", str(data), "--now", "2026-01-01"
    )
    assert code == 0
    assert err.splitlines()[:2] == [
        f"warning: {line}; rules on it never fire"
        for line in expected(model, "in any record of leads.jsonl")
    ]
    assert out.splitlines()[1].split()[:4] == ["p-1", "5", "0", "3"]


def test_fixed_names_and_the_id_column(files, capsys) -> None:
    model, data = files
    model.write_text(
        MODEL.replace("Totalvisits", "TotalVisits").replace("on Websit\n", "on Website\n")
    )
    code, out, err = run(
        capsys, "score", "--model", str(model), "--input", str(data), "--id-column", "Prospect ID",
        "--now", "2026-01-01",
    )  # fmt: skip
    assert code == 0
    assert err.startswith("\n3 records scored with leads (")
    rows = [line.split()[:4] for line in out.splitlines()[1:]]
    # p-1: visited (20), 400 s on site (10), Google (5); p-3: visited only
    assert rows == [["p-1", "35", "0", "18"], ["p-2", "0", "0", "0"], ["p-3", "20", "0", "10"]]
    code, out, _ = run(
        capsys, "explain", "p-3", "--model", str(model), "--input", str(data), "--id-column",
        "Prospect ID", "--now", "2026-01-01",
    )  # fmt: skip
    assert code == 0
    head = out.splitlines()[0]
    assert head.startswith("record p-3  model leads (")
    assert head.endswith(")  as of 2026-01-01T00:00:00+00:00")
    code, out, err = run(
        capsys, "explain", "p-3", "--model", str(model), "--input", str(data), "--id-column",
        "prospect id",
    )  # fmt: skip
    assert code == 2
    assert err == (
        f"error: {data}:1: no id column 'prospect id' (did you mean 'Prospect ID'?); the columns "
        "are Prospect ID, Lead Source, TotalVisits, Total Time Spent on Website, Converted\n"
    )


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubSpotSandbox, Path]]:
    tmp = tmp_path_factory.mktemp("crm-properties")
    sandbox = HubSpotSandbox(
        contacts=30, now=datetime(2026, 11, 20, 12, tzinfo=UTC), rate_limit_10s=100_000
    ).start()
    try:
        yield sandbox, tmp
    finally:
        sandbox.stop()


def hubspot_config(sandbox: HubSpotSandbox, tmp: Path, model_text: str) -> tuple[Path, Path]:
    model = tmp / "contacts.yaml"
    model.write_text(model_text)
    config = tmp / "leadsync.yaml"
    config.write_text(
        f"state_url: sqlite:///{tmp}/state.db\n"
        "connections:\n"
        "  - name: hub\n"
        "    crm: hubspot\n"
        f'    hubspot: {{base_url: "{sandbox.url}", access_token: "{sandbox.token}"}}\n'
        f"    objects: [{{kind: contact, model: {model}}}]\n"
    )
    return config, model


CONTACT_MODEL = """\
name: contacts
object: contact
fit:
  rules:
    - {name: VP, if: {JobTitle: {contains: vp}}, points: 20}
    - {name: Big, if: {company.numberofemployees: {gte: 500}}, points: 10}
    - {name: Software, if: {company.industri: COMPUTER_SOFTWARE}, points: 10}
interest:
  rules:
    - {name: Opens, property: hs_email_opn, bands: [{gte: 1, points: 5}]}
"""


def test_validate_and_backtest_against_the_crm_property_list(hubspot, capsys) -> None:
    sandbox, tmp = hubspot
    config, model = hubspot_config(sandbox, tmp, CONTACT_MODEL)
    where = "among the contact properties of connection 'hub' (hubspot)"
    lines = [
        f"{model}:5:23 fit.rules[0].if.JobTitle: no property 'JobTitle' {where} "
        "(did you mean 'jobtitle'?)",
        f"{model}:7:29 fit.rules[2].if.company.industri: no property 'company.industri' "
        f"{where} (did you mean 'company.industry'?)",
        f"{model}:10:31 interest.rules[0].property: no property 'hs_email_opn' {where} "
        "(did you mean 'hs_email_open'?)",
    ]
    code, out, err = run(capsys, "validate", "--config", str(config))
    assert (code, out) == (2, "")
    assert err.removeprefix("error: ").splitlines() == lines
    code, out, err = run(capsys, "backtest", "--config", str(config))
    assert (code, out) == (2, "")
    assert err.removeprefix("error: ").splitlines() == lines
    config, _ = hubspot_config(
        sandbox,
        tmp,
        CONTACT_MODEL.replace("JobTitle", "jobtitle")
        .replace("opn", "open")
        .replace("industri:", "industry:"),
    )
    code, out, err = run(capsys, "validate", "--config", str(config))
    assert (code, err) == (0, "")
    assert out.startswith("OK hub contact: model 'contacts' (")
    assert out.endswith("), properties all found\n")


@pytest.fixture(scope="module")
def salesforce() -> Iterator[SalesforceSandbox]:
    sandbox = SalesforceSandbox(leads=20, now=datetime(2026, 11, 20, 12, tzinfo=UTC)).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def validate_salesforce(
    sandbox: SalesforceSandbox,
    folder: Path,
    kind: str,
    model_text: str,
    capsys: pytest.CaptureFixture[str],
) -> tuple[Path, int, str, str]:
    """`validate --config` of one Salesforce connection scoring `kind` with `model_text`: the
    model file, the exit code, stdout and stderr."""
    model = folder / f"sf-{kind}s.yaml"
    model.write_text(model_text)
    config = config_file(
        folder, "sf", "salesforce", salesforce_block(sandbox), [f"{{kind: {kind}, model: {model}}}"]
    )
    return model, *run(capsys, "validate", "--config", str(config))


SF_CONTACT_MODEL = """\
name: sf-contacts
object: contact
fit:
  rules:
    - {name: VP, if: {Title: {contains: vp}}, points: 20}
    - {name: Big, if: {Account.NumberOfEmployes: {gte: 500}}, points: 10}
    - {name: Software, if: {ACCOUNT.Industry: Technology}, points: 10}
    - {name: Owned, if: {Account.Owner.Name: {exists: true}}, points: 1}
"""
SF_LEAD_MODEL = """\
name: sf-leads
object: lead
fit:
  rules:
    - {name: Big, if: {Account.NumberOfEmployees: {gte: 500}}, points: 10}
    - {name: Owned, if: {owner.Name: {exists: true}}, points: 1}
    - {name: Converted big, if: {ConvertedAccount.NumberOfEmployees: {gte: 500}}, points: 1}
"""
SF_DEEP_MODEL = """\
name: sf-deep
object: contact
fit:
  rules:
    - {name: D, if: {Account.Owner.CreatedBy.CreatedBy.CreatedBy.Name: {exists: true}}, points: 1}
"""

SF_OWNER_MODEL = """\
name: sf-owned
object: lead
fit:
  rules:
    - {name: O, if: {Owner.Nmae: x}, points: 1}
"""
SF_ACCOUNT_MODEL = Path("config/examples/models/salesforce-accounts.yaml").read_text()


@pytest.mark.parametrize(
    ("kind", "model_text", "error", "fix"),
    [
        # `Account.<field>` on a Contact is checked against the Account's fields (any case, as
        # Salesforce matches them); a path past the Account (`Account.Owner.Name`) is left to
        # the read, which the describe of the Account alone cannot tell about
        (
            "contact",
            SF_CONTACT_MODEL,
            "{model}:6:24 fit.rules[1].if.Account.NumberOfEmployes: no property "
            "'Account.NumberOfEmployes' {where} (did you mean 'Account.NumberOfEmployees'?)",
            ("Employes", "Employees"),
        ),
        # a Lead has no `Account` relationship (only `ConvertedAccount`); relationship paths
        # the Lead has (`Owner.Name`, in any case) pass
        (
            "lead",
            SF_LEAD_MODEL,
            "{model}:5:24 fit.rules[0].if.Account.NumberOfEmployees: no property "
            "'Account.NumberOfEmployees' {where}: no relationship 'Account'",
            ("{Account.", "{ConvertedAccount."),
        ),
        # SOQL takes at most five levels in a child-to-parent path, the queried object the
        # first: five relationships from a Contact are refused, four pass
        (
            "contact",
            SF_DEEP_MODEL,
            "{model}:5:22 fit.rules[0].if.Account.Owner.CreatedBy.CreatedBy.CreatedBy.Name: no "
            "property 'Account.Owner.CreatedBy.CreatedBy.CreatedBy.Name' {where}: a field path "
            "climbs at most 4 relationships (this one 5)",
            ("CreatedBy.CreatedBy.CreatedBy.", "CreatedBy.CreatedBy."),
        ),
        # a Lead's `Owner` is a User or a Group: past it SOQL reads the Name object's fields
        (
            "lead",
            SF_OWNER_MODEL,
            "{model}:5:22 fit.rules[0].if.Owner.Nmae: no property 'Owner.Nmae' {where}: Owner "
            "can be a User or Group, so SOQL reads only the fields of Salesforce's Name object "
            "past it (did you mean 'Owner.Name' or 'Owner.Phone' or 'Owner.Email'?)",
            ("Nmae", "name"),
        ),
        # `members.roles` read the people's fields: one neither Contact nor Lead has
        (
            "account",
            SF_ACCOUNT_MODEL.replace("{Title: {matches:", "{Titel: {matches:", 1),
            "{model}:31:35 members.roles[0].if.Titel: no property 'Titel' among the contact or "
            "lead properties of connection 'sf' (salesforce) (the members section reads them) "
            "(did you mean 'Title'?)",
            ("Titel", "Title"),
        ),
    ],
    ids=["account-field", "relationship", "depth", "polymorphic", "members"],
)
def test_salesforce_dotted_names_are_checked_before_any_read(
    salesforce: SalesforceSandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    model_text: str,
    error: str,
    fix: tuple[str, str],
) -> None:
    """`validate --config` refuses a Salesforce model's dotted name the describe rules out,
    located, exit 2 (instead of failing the run's first query), and takes the fixed model."""
    model, code, out, err = validate_salesforce(salesforce, tmp_path, kind, model_text, capsys)
    where = f"among the {kind} properties of connection 'sf' (salesforce)"
    assert (code, out) == (2, "")
    assert err.removeprefix("error: ").splitlines() == [error.format(model=model, where=where)]
    fixed = model_text.replace(*fix)
    _, code, out, err = validate_salesforce(salesforce, tmp_path, kind, fixed, capsys)
    name = re.search(r"^name: (.*)$", model_text, re.M)[1]  # type: ignore[index]
    assert (code, err) == (0, "")
    assert out.startswith(f"OK sf {kind}: model '{name}' (")


def test_salesforce_refuses_web_event_rules(
    salesforce: SalesforceSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Salesforce provides no page views or form submissions: with the CRM known (a config),
    such rules are refused, located, naming the event types Salesforce provides."""
    text = (
        "name: leads\nobject: lead\ninterest:\n  rules:\n"
        "    - {name: Pricing, event: page_view, points: 5}\n"
        "    - {name: Call, event: call, points: 5}\n"
    )
    model, code, out, err = validate_salesforce(salesforce, tmp_path, "lead", text, capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {model}:5:7 interest.rules[0]: rule 'Pricing' reads page_view events, which "
        "salesforce does not provide, so it never fires; salesforce provides email_open, "
        "email_click, email_reply, meeting, call, campaign_response\n"
    )
    code, out, err = run(capsys, "validate", "--model", str(model))
    assert (code, err) == (0, "")  # the model file alone does not say its CRM


def test_a_company_model_refuses_company_prefixed_properties(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`company.industry` is how a contact rule reads its company; on a company it never fires."""
    model = tmp_path / "companies.yaml"
    model.write_text(
        "name: companies\nobject: company\nfit:\n  rules:\n"
        "    - {name: Software, if: {company.industry: COMPUTER_SOFTWARE}, points: 10}\n"
        "    - {name: Big, property: company.numberofemployees, bands: [{gte: 500, points: 5}]}\n"
    )
    code, out, err = run(capsys, "validate", "--model", str(model))
    assert (code, out) == (2, "")
    assert err.removeprefix("error: ").splitlines() == [
        f"{model}:5:29 fit.rules[0].if.company.industry: 'company.' properties are for contact "
        "rules (the contact's company); a company model reads its own properties: write "
        "'industry'",
        f"{model}:6:29 fit.rules[1].property: 'company.' properties are for contact rules (the "
        "contact's company); a company model reads its own properties: write "
        "'numberofemployees'",
    ]


def test_preview_checks_the_candidates_properties(
    salesforce: SalesforceSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`preview --model` refuses a candidate's misspelt field, located, exit 2, as backtest
    and calibrate do, before reading any record."""
    live = SF_OWNER_MODEL.replace(
        "{Owner.Nmae: x}, points: 1", "{NumberOfEmployees: {gte: 9}}, points: 2"
    )
    _, code, _, _ = validate_salesforce(salesforce, tmp_path, "lead", live, capsys)
    assert code == 0
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(live.replace("Employees", "Employes"))
    config = tmp_path / "leadsync.yaml"
    code, out, err = run(capsys, "preview", "--config", str(config), "--model", str(candidate))
    assert (code, out) == (2, "")
    assert err == (
        f"error: {candidate}:5:22 fit.rules[0].if.NumberOfEmployes: no property "
        "'NumberOfEmployes' among the lead properties of connection 'sf' (salesforce) (did you "
        "mean 'NumberOfEmployees'?)\n"
    )
