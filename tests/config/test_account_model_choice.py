"""Several account models per kind in the configuration: which one a people model's `account.`
rules read (`account_model`), and the roll-up check per account model, each problem located."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.errors import Problem, ProblemsError
from config.loader import load_config, load_configured
from tests.sync.account_groups_env import LINKED

ROOT = Path(__file__).resolve().parents[2]
SF_ACCOUNTS = ROOT / "config" / "examples" / "models" / "salesforce-accounts.yaml"

COMPANY = """\
name: {name}
object: company
fit:
  rules:
    - {{name: Big, if: {{numberofemployees: {{gte: 1000}}}}, points: 40}}
members:
  rollup:
    - {{name: Breadth, breadth: {{within_days: 14}}, bands: [{{min: 1, points: 10}}]}}
"""
PLAIN = """\
name: plain
object: contact
fit:
  rules:
    - {name: Any, if: {email: {exists: true}}, points: 1}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a.yaml").write_text(COMPANY.format(name="companies-a"))
    (tmp_path / "b.yaml").write_text(COMPANY.format(name="companies-b"))
    (tmp_path / "linked.yaml").write_text(LINKED)
    (tmp_path / "plain.yaml").write_text(PLAIN)
    return tmp_path


def hubspot(folder: Path, *objects: str) -> Path:
    path = folder / "leadsync.yaml"
    path.write_text(
        "connections:\n  - name: hub\n    crm: hubspot\n    hubspot: {access_token: t}\n"
        "    objects:\n" + "".join(f"      - {o}\n" for o in objects)
    )
    return path


TWO_COMPANIES = (
    "{kind: company, model: a.yaml}",
    "{kind: company, model: b.yaml, output_prefix: leadsync_pl_b_}",
)


def problems(path: Path) -> list[str]:
    with pytest.raises(ProblemsError) as info:
        load_configured(load_config(path, environ={}))
    return [str(p).replace(str(path), "F") for p in info.value.problems]


def test_a_contact_model_reading_one_of_several_company_models_must_name_it(folder):
    path = hubspot(folder, *TWO_COMPANIES, "{kind: contact, model: linked.yaml}")
    assert problems(path) == [
        "F:8:9 connections[0].objects[2].account_model: model 'linked' reads account. fields "
        "and hub scores company records with 2 models (companies-a, companies-b (pl_b)): say "
        "whose results it reads with account_model: companies-a (a model's name or its output "
        "prefix part)"
    ]
    path = hubspot(folder, *TWO_COMPANIES, "{kind: contact, model: linked.yaml, account_model: c}")
    assert problems(path) == [
        "F:8:60 connections[0].objects[2].account_model: hub has no company model 'c'; its "
        "company models: companies-a, companies-b (pl_b)"
    ]


@pytest.mark.parametrize(
    ("named", "accounts"), [("pl_b", "company:pl_b"), ("companies-b", "company:pl_b")]
)
def test_account_model_names_the_company_model_by_name_or_prefix_part(folder, named, accounts):
    path = hubspot(
        folder, *TWO_COMPANIES, f"{{kind: contact, model: linked.yaml, account_model: {named}}}"
    )
    models, groups = load_configured(load_config(path, environ={}))
    # a single contact model reading the second company model runs as a group of one, which
    # carries where those results are stored
    slots = groups[("hub", "contact")].slots
    assert [(s.model.name, s.namespace, s.state_kind, s.accounts) for s in slots] == [
        ("linked", "", "contact", accounts)
    ]
    assert models[("hub", "contact")].name == "linked"


def test_the_first_company_model_needs_no_group(folder):
    path = hubspot(
        folder, *TWO_COMPANIES, "{kind: contact, model: linked.yaml, account_model: companies-a}"
    )
    _, groups = load_configured(load_config(path, environ={}))
    assert sorted(groups) == [("hub", "company")]
    assert [s.state_kind for s in groups[("hub", "company")].slots] == ["company", "company:pl_b"]


def test_each_contact_model_of_a_group_reads_its_own_company_model(folder):
    path = hubspot(
        folder,
        *TWO_COMPANIES,
        "{kind: contact, model: linked.yaml, account_model: companies-a}",
        "{kind: contact, model: linked.yaml, output_prefix: leadsync_pl_b_, account_model: pl_b}",
    )
    _, groups = load_configured(load_config(path, environ={}))
    slots = groups[("hub", "contact")].slots
    assert [(s.state_kind, s.accounts) for s in slots] == [
        ("contact", None),
        ("contact:pl_b", "company:pl_b"),
    ]


def test_account_model_where_it_cannot_apply(folder):
    path = hubspot(
        folder,
        "{kind: company, model: a.yaml, account_model: companies-a}",
        "{kind: contact, model: plain.yaml, account_model: companies-a}",
    )
    assert problems(path) == [
        "F:6:55 connections[0].objects[0].account_model: account_model is for hubspot contact "
        "models whose rules read account. fields, not company models; remove it",
        "F:7:59 connections[0].objects[1].account_model: model 'plain' has no account. rules, so "
        "it reads no account model's results; remove account_model",
    ]


def test_one_company_model_is_read_without_naming_it(folder):
    path = hubspot(folder, TWO_COMPANIES[0], "{kind: contact, model: linked.yaml}")
    models, groups = load_configured(load_config(path, environ={}))
    assert (sorted(models), groups) == ([("hub", "company"), ("hub", "contact")], {})


def test_every_account_model_rolling_up_unwritten_member_scores_is_refused(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "name: contacts\nobject: contact\nfit:\n  rules:\n"
        "    - {name: Any, if: {Email: {exists: true}}, points: 1}\n"
    )
    path = tmp_path / "leadsync.yaml"
    path.write_text(
        "connections:\n  - name: sf\n    crm: salesforce\n    salesforce: {login_url: "
        '"https://login.example", client_id: c, client_secret: s}\n    objects:\n'
        f"      - {{kind: account, model: {SF_ACCOUNTS}}}\n"
        f"      - {{kind: account, model: {SF_ACCOUNTS}, output_prefix: leadsync_b_}}\n"
        "      - {kind: contact, model: c.yaml, output_prefix: leadsync_a_}\n"
    )
    message = (
        "roll-up 'Hottest people' (members.rollup[0]) reads each person's interest, which no "
        "contact model writes unprefixed: each has an output_prefix; name whose scores it reads "
        "with model: on the roll-up (contacts (a)), or leave the output_prefix out of one of them"
    )
    assert [(p.path, p.message) for p in _problems_of(path)] == [
        ("connections[0].objects[0].model", message),
        ("connections[0].objects[1].model", message),
    ]


def _problems_of(path: Path) -> list[Problem]:
    with pytest.raises(ProblemsError) as info:
        load_configured(load_config(path, environ={}))
    return list(info.value.problems)


def test_account_model_on_a_connection_scoring_no_accounts(folder):
    path = hubspot(folder, "{kind: contact, model: linked.yaml, account_model: companies-a}")
    assert problems(path) == [
        "F:6:60 connections[0].objects[0].account_model: hub has no company model "
        "'companies-a'; it scores no company records"
    ]


#: An account model of `kind` with a score roll-up reading the people model `model`.
SCORED = (
    COMPANY.replace("object: company", "object: {kind}")
    + "    - {{name: Hot people, score: interest, model: {model}, aggregate: max}}\n"
)


def test_a_score_roll_up_reads_the_people_model_its_model_names(folder):
    from sync.run import member_request

    (folder / "plain-b.yaml").write_text(PLAIN.replace("name: plain", "name: contacts-b"))
    for named in ("pl_b", "contacts-b"):
        (folder / "scored.yaml").write_text(
            SCORED.format(name="companies-b", kind="company", model=named)
        )
        path = hubspot(
            folder,
            "{kind: contact, model: plain.yaml}",
            "{kind: contact, model: plain-b.yaml, output_prefix: leadsync_pl_b_}",
            "{kind: company, model: a.yaml}",
            "{kind: company, model: scored.yaml, output_prefix: leadsync_pl_b_}",
        )
        _, groups = load_configured(load_config(path, environ={}))
        model = groups[("hub", "company")].slot("pl_b").model
        assert model.rollup is not None
        assert (model.rollup.namespaces, model.rollup.score_names) == (
            ("", "pl_b_"),
            ("pl_b_interest",),
        )
        request = member_request(groups[("hub", "company")])
        assert request is not None
        assert request.outputs == frozenset({"pl_b_interest", "pl_b_scored_at"})
    # a model without score roll-ups reads no member outputs
    request = member_request(groups[("hub", "company")].slot(None).model)
    assert request is not None and request.outputs == frozenset()


def test_a_roll_up_naming_no_people_model_is_refused(folder):
    (folder / "scored.yaml").write_text(
        SCORED.format(name="companies-b", kind="company", model="pl_c")
    )
    path = hubspot(
        folder, "{kind: contact, model: plain.yaml}", "{kind: company, model: scored.yaml}"
    )
    assert problems(path) == [
        "F:7:32 connections[0].objects[1].model: roll-up 'Hot people' (members.rollup[1]) reads "
        "the interest of model 'pl_c', but hub has no contact model 'pl_c'; its contact models: "
        "plain"
    ]


def test_a_roll_up_naming_models_of_two_prefixes_is_refused(tmp_path):
    (tmp_path / "accounts.yaml").write_text(
        SCORED.format(name="accounts", kind="account", model="people-b").replace(
            "numberofemployees", "NumberOfEmployees"
        )
    )
    for kind in ("contact", "lead"):
        (tmp_path / f"{kind}.yaml").write_text(
            f"name: people-b\nobject: {kind}\nfit:\n  rules:\n"
            "    - {name: Any, if: {Email: {exists: true}}, points: 1}\n"
        )
    path = tmp_path / "leadsync.yaml"
    path.write_text(
        "connections:\n  - name: sf\n    crm: salesforce\n    salesforce: {login_url: "
        '"https://login.example", client_id: c, client_secret: s}\n    objects:\n'
        "      - {kind: contact, model: contact.yaml}\n"
        "      - {kind: lead, model: lead.yaml, output_prefix: leadsync_b_}\n"
        "      - {kind: account, model: accounts.yaml}\n"
    )
    assert [(p.path, p.message) for p in _problems_of(path)] == [
        (
            "connections[0].objects[2].model",
            "roll-up 'Hot people' (members.rollup[1]): model 'people-b' is ambiguous: it names "
            "people-b, people-b (b), which write under different output prefixes (none, "
            "leadsync_b_); name one by its prefix part",
        )
    ]


def test_model_applies_to_score_roll_ups_only(folder):
    (folder / "scored.yaml").write_text(
        SCORED.format(name="c", kind="company", model="pl_b").replace(
            "breadth: {within_days: 14}", "breadth: {within_days: 14}, model: pl_b"
        )
    )
    path = hubspot(folder, "{kind: company, model: scored.yaml}")
    assert [p.split(": ", 1)[1] for p in problems(path)] == [
        "'model' does not apply to a breadth roll-up (it takes: breadth, bands)"
    ]
