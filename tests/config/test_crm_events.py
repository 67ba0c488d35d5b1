"""Rules reading events their CRM never yields: a HubSpot company's member roll-ups."""

from __future__ import annotations

from pathlib import Path

from cli.main import main
from config.crm_events import HUBSPOT_MEMBER_EVENTS, unprovided_event_problems
from config.model_loader import load_model
from connectors.hubspot.members import MEMBER_DATES

ROOT = Path(__file__).resolve().parents[2]
COMPANY = """\
name: companies
object: company
members:
  rollup:
    - {name: Hottest, score: interest}
    - {name: Meetings, event: meeting, points: 5}
    - {name: Pricing, event: page_view, where: {url: {contains: /pricing}}, points: 4}
    - {name: Any visit, event: page_view, where: {url: {missing: true}}, points: 1}
    - {name: Forms, event: form_submission, within_days: 30, points: 4}
    - name: Calls
      breadth: {within_days: 14, events: [meeting, call]}
      bands: [{min: 1, points: 5}]
    - name: Mixed
      breadth: {within_days: 14, events: [call, email_click]}
      bands: [{min: 1, points: 5}]
    - {name: Everyone, breadth: {within_days: 14}, bands: [{min: 1, points: 5}]}
"""
SERVED = "page_view, form_submission, email_open, email_click, email_reply"


def test_the_member_event_types_are_the_connectors():
    assert set(HUBSPOT_MEMBER_EVENTS) == set(MEMBER_DATES)


def test_hubspot_company_roll_ups_no_member_event_can_match_are_refused(tmp_path):
    path = tmp_path / "companies.yaml"
    path.write_text(COMPANY, encoding="utf-8")
    model = load_model(path)
    assert [str(p) for p in unprovided_event_problems("hubspot", path, model)] == [
        f"{path}:6:7 members.rollup[1]: rule 'Meetings': HubSpot keeps no meeting date on a "
        "contact, so a company's members have no such events and the rule never fires; member "
        f"events on HubSpot: {SERVED}",
        f"{path}:7:7 members.rollup[2]: rule 'Pricing': HubSpot member events are the dates a "
        "contact keeps, without attributes, so its 'where' never holds and the rule never "
        f"fires on a company; member events on HubSpot: {SERVED}",
        f"{path}:10:7 members.rollup[5]: rule 'Calls': HubSpot keeps no call or meeting date on "
        "a contact, so a company's members have no such events and the rule never fires; "
        f"member events on HubSpot: {SERVED}",
        f"{path}:13:7 members.rollup[6]: rule 'Mixed' lists call, which a HubSpot company's "
        "members never have (their events are the dates a contact keeps): remove them from its "
        f"list; member events on HubSpot: {SERVED}",
    ]


def test_validate_config_exits_2_at_the_dead_roll_up(tmp_path, capsys):
    models = tmp_path / "companies.yaml"
    models.write_text(COMPANY, encoding="utf-8")
    config = tmp_path / "leadsync.yaml"
    config.write_text(
        f"state_url: sqlite:///{tmp_path}/state.db\n"
        "connections:\n"
        "  - name: hub\n"
        "    crm: hubspot\n"
        '    hubspot: {access_token: "t"}\n'
        f"    objects: [{{kind: company, model: {models}}}]\n",
        encoding="utf-8",
    )
    assert main(["validate", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{models}:6:7 members.rollup[1]: rule 'Meetings': HubSpot keeps no meeting" in err
    assert f"{models}:7:7 members.rollup[2]: rule 'Pricing': HubSpot member events" in err


def test_salesforce_accounts_keep_their_own_rule(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text(COMPANY.replace("object: company", "object: account"), encoding="utf-8")
    model = load_model(path)
    # Salesforce members have meetings and calls; it lacks web events only
    problems = [str(p) for p in unprovided_event_problems("salesforce", path, model)]
    assert [p.split(": rule ")[1].split(" reads")[0] for p in problems] == [
        "'Pricing'",
        "'Any visit'",
        "'Forms'",
    ]


def test_the_example_company_model_has_no_dead_roll_up():
    path = ROOT / "config" / "examples" / "models" / "hubspot-companies.yaml"
    assert unprovided_event_problems("hubspot", path, load_model(path)) == []


def test_a_salesforce_roll_up_listing_a_type_it_lacks_among_others_is_told_to_drop_it(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text(
        "name: accounts\nobject: account\nmembers:\n  rollup:\n"
        "    - name: Web or calls\n"
        "      breadth: {within_days: 14, events: [page_view, call]}\n"
        "      bands: [{min: 1, points: 5}]\n"
        "    - name: Web only\n"
        "      breadth: {within_days: 14, events: [page_view, form_submission]}\n"
        "      bands: [{min: 1, points: 5}]\n",
        encoding="utf-8",
    )
    provided = "email_open, email_click, email_reply, meeting, call, campaign_response"
    assert [str(p) for p in unprovided_event_problems("salesforce", path, load_model(path))] == [
        f"{path}:5:7 members.rollup[0]: rule 'Web or calls' reads page_view events, which "
        f"salesforce does not provide: remove them from its list; salesforce provides {provided}",
        f"{path}:8:7 members.rollup[1]: rule 'Web only' reads form_submission and page_view "
        "events, which salesforce does not provide, so it never fires; salesforce provides "
        f"{provided}",
    ]


LEADS = """\
name: leads
object: lead
interest:
  rules:
    - {name: Long calls, event: call, where: {duration: {gte: 300}}, points: 10}
    - {name: Connected calls, event: call, where: {outcome: connected}, points: 5}
    - {name: Pricing clicks, event: email_click, where: {url: {contains: /pricing}}, points: 5}
    - {name: Webinar, event: campaign_response, where: {campaign: {contains: webinar}}, points: 5}
"""


def problems_of(crm: str, path: Path, text: str) -> list[str]:
    """The problems `unprovided_event_problems` finds in the model `text` written at `path`."""
    path.write_text(text, encoding="utf-8")
    return [str(p) for p in unprovided_event_problems(crm, path, load_model(path))]


def test_a_where_on_an_attribute_the_crm_never_gives_that_event_is_refused(tmp_path):
    path = tmp_path / "leads.yaml"
    assert problems_of("salesforce", path, LEADS) == [
        f"{path}:5:7 interest.rules[0]: rule 'Long calls' tests duration, which salesforce's "
        "call events never carry: such a test never holds (a 'missing' one always does); they "
        "carry duration_s, outcome, subject",
        f"{path}:7:7 interest.rules[2]: rule 'Pricing clicks' tests url, which salesforce's "
        "email_click events never carry: such a test never holds (a 'missing' one always "
        "does); they carry email, source",
    ]


def test_hubspot_email_events_carry_nothing_to_test_and_campaign_responses_are_not_there(
    tmp_path,
):
    path = tmp_path / "contacts.yaml"
    assert problems_of("hubspot", path, LEADS.replace("object: lead", "object: contact")) == [
        f"{path}:8:7 interest.rules[3]: rule 'Webinar' reads campaign_response events, which "
        "hubspot does not provide, so it never fires; hubspot provides page_view, "
        "form_submission, email_open, email_click, email_reply, meeting, call",
        f"{path}:5:7 interest.rules[0]: rule 'Long calls' tests duration, which hubspot's call "
        "events never carry: such a test never holds (a 'missing' one always does); they "
        "carry duration_s, outcome, title",
        f"{path}:7:7 interest.rules[2]: rule 'Pricing clicks' tests url, which hubspot's "
        "email_click events never carry: such a test never holds (a 'missing' one always "
        "does); they carry none: they are the latest dates the contact keeps",
    ]


def test_account_roll_ups_are_checked_against_their_peoples_events(tmp_path):
    path = tmp_path / "accounts.yaml"
    accounts = (
        "name: accounts\nobject: account\nmembers:\n  rollup:\n"
        "    - {name: Long calls, event: call, where: {duration: {gte: 300}}, points: 5}\n"
        "    - {name: Held, event: meeting, where: {start: {older_than_days: 0}}, points: 5}\n"
    )
    assert problems_of("salesforce", path, accounts) == [
        f"{path}:5:7 members.rollup[0]: rule 'Long calls' tests duration, which salesforce's "
        "call events never carry: such a test never holds (a 'missing' one always does); they "
        "carry duration_s, outcome, subject",
    ]


def test_the_example_models_test_only_attributes_their_crm_gives():
    for crm, pattern in (("hubspot", "hubspot-*.yaml"), ("salesforce", "salesforce-*.yaml")):
        for path in sorted((ROOT / "config" / "examples" / "models").glob(pattern)):
            assert unprovided_event_problems(crm, path, load_model(path)) == [], path
