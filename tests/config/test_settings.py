"""The configuration file: expansion, overrides, path resolution and located errors."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from config.errors import ProblemsError, UserError
from config.loader import load_config, load_models
from config.settings import parse_duration
from config.yaml_depth import MAX_DEPTH

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"

BASE = """\
state_url: sqlite:///state/leadsync.db
connections:
  - name: acme
    crm: hubspot
    hubspot: {access_token: "${TOKEN}"}
    objects:
      - {kind: contact, model: models/m.yaml}
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "leadsync.yaml"
    path.write_text(text)
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ProblemsError) as info:
        load_config(path, environ=env or {"TOKEN": "t"})
    return [str(p).replace(str(path), "F") for p in info.value.problems]


def test_example_config_loads_with_both_crms():
    loaded = load_config(
        EXAMPLES / "leadsync.yaml",
        environ={"HUBSPOT_TOKEN": "pat-1", "SF_CLIENT_ID": "cid", "SF_CLIENT_SECRET": "sec"},
    )
    s = loaded.settings
    assert [c.name for c in s.connections] == ["acme-hubspot", "acme-salesforce"]
    hub, sf = s.connections
    assert hub.hubspot is not None and hub.hubspot.access_token is not None
    assert hub.hubspot.access_token.get_secret_value() == "pat-1"
    assert "pat-1" not in repr(s)
    assert hub.objects[0].model == EXAMPLES / "models" / "hubspot-professional.yaml"
    assert hub.hubspot.tier == "professional"  # the example model works on the tier named
    assert hub.schedule.incremental_every == timedelta(minutes=5)
    assert sf.schedule.timezone == "Europe/Berlin"
    assert sf.write.min_points_change == 5
    assert s.state_url.get_secret_value() == f"sqlite:///{EXAMPLES / 'leadsync.db'}"
    models = load_models(loaded)
    assert sorted(models) == [("acme-hubspot", "contact"), ("acme-salesforce", "lead")]


def test_defaults_env_expansion_and_relative_paths(folder):
    loaded = load_config(write(folder, BASE), environ={"TOKEN": "secret-token"})
    s = loaded.settings
    conn = s.connections[0]
    assert conn.hubspot is not None
    assert conn.hubspot.base_url is None  # not set: the connector's default applies
    assert conn.hubspot.access_token.get_secret_value() == "secret-token"  # type: ignore[union-attr]
    assert conn.objects[0].model == folder / "models" / "m.yaml"
    assert s.state_url.get_secret_value() == f"sqlite:///{folder / 'state' / 'leadsync.db'}"
    assert (conn.schedule.full_cron, conn.read.overlap) == ("0 2 * * *", timedelta(minutes=2))
    assert (s.daemon.host, s.daemon.port) == ("127.0.0.1", 9464)


def test_default_values_in_variables_and_dollar_escape(folder):
    text = BASE.replace('"${TOKEN}"', '"${MISSING:-fallback}$$x"')
    loaded = load_config(write(folder, text), environ={})
    token = loaded.settings.connections[0].hubspot.access_token  # type: ignore[union-attr]
    assert token.get_secret_value() == "fallback$x"  # type: ignore[union-attr]


def test_secrets_directory_fills_variables(folder):
    secrets = folder / "secrets"
    secrets.mkdir()
    (secrets / "TOKEN").write_text("from-file\n")
    loaded = load_config(write(folder, BASE), environ={}, secrets_dir=secrets)
    token = loaded.settings.connections[0].hubspot.access_token  # type: ignore[union-attr]
    assert token.get_secret_value() == "from-file"  # type: ignore[union-attr]


def test_leadsync_environment_variables_override_the_file(folder):
    environ = {
        "TOKEN": "t",
        "LEADSYNC_STATE_URL": "postgresql+psycopg://u@db/leadsync",
        "LEADSYNC_DAEMON__PORT": "9100",
        "leadsync_logging__format": "text",
    }
    text = BASE + "daemon: {port: 1, host: 0.0.0.0}\n"
    s = load_config(write(folder, text), environ=environ).settings
    assert s.state_url.get_secret_value() == "postgresql+psycopg://u@db/leadsync"
    assert (s.daemon.port, s.daemon.host, s.logging.format) == (9100, "0.0.0.0", "text")


def test_secret_file_overrides_a_top_level_key(folder):
    secrets = folder / "secrets"
    secrets.mkdir()
    (secrets / "leadsync_state_url").write_text("postgresql+psycopg://u:pw@db/x")
    s = load_config(write(folder, BASE), environ={"TOKEN": "t"}, secrets_dir=secrets).settings
    assert s.state_url.get_secret_value() == "postgresql+psycopg://u:pw@db/x"


def test_secret_files_override_nested_keys(folder):
    secrets = folder / "secrets"
    secrets.mkdir()
    (secrets / "leadsync_daemon__port").write_text("9100\n")
    (secrets / "leadsync_logging__format").write_text("text")
    text = BASE + "daemon: {port: 1, host: 0.0.0.0}\n"
    s = load_config(write(folder, text), environ={"TOKEN": "t"}, secrets_dir=secrets).settings
    assert (s.daemon.port, s.daemon.host, s.logging.format) == (9100, "0.0.0.0", "text")
    (secrets / "leadsync_daemon__port").write_text("http")
    with pytest.raises(ProblemsError) as info:
        load_config(write(folder, text), environ={"TOKEN": "t"}, secrets_dir=secrets)
    assert [str(p) for p in info.value.problems] == [
        f"secret file {secrets / 'leadsync_daemon__port'} daemon.port: should be a valid "
        "integer, unable to parse string as an integer (got 'http')"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BASE.replace("crm: hubspot", "crm: hubspott"),
            ["F:4:10 connections[0].crm: should be 'hubspot' or 'salesforce' (got 'hubspott')"],
        ),
        (
            BASE + "    schedule: {incremental_every: 5x}\n",
            [
                "F:8:35 connections[0].schedule.incremental_every: '5x' is not a duration; "
                "write e.g. 30s, 5m, 1h30m or 1d"
            ],
        ),
        (
            BASE + '    schedule: {full_cron: "0 2 * *"}\n',
            [
                "F:8:27 connections[0].schedule.full_cron: '0 2 * *' is not a 5-field crontab "
                '(minute hour day month weekday), e.g. "0 2 * * *": Wrong number of fields; '
                "got 4, expected 5"
            ],
        ),
        (
            BASE + "    schedule: {timezone: Mars/Base}\n",
            [
                "F:8:26 connections[0].schedule.timezone: 'Mars/Base' is not an IANA time zone; "
                "e.g. UTC, Europe/Berlin, America/New_York"
            ],
        ),
        (
            BASE + "    wrte: {min_points_change: 2}\n",
            [
                "F:8:5 connections[0].wrte: unknown key (did you mean `write`?); valid keys "
                "here: name, crm, hubspot, salesforce, objects, schedule, write, read, outage"
            ],
        ),
        (
            BASE.replace("kind: contact", "kind: lead"),
            [
                "F:7:16 connections[0].objects[0].kind: hubspot cannot score kind 'lead'; "
                "valid: contact, company"
            ],
        ),
        (
            BASE.replace("kind: contact", "kind: account"),
            [
                "F:7:16 connections[0].objects[0].kind: hubspot cannot score kind 'account'; "
                "valid: contact, company"
            ],
        ),
        (
            BASE.replace('hubspot: {access_token: "${TOKEN}"}', "hubspot: {tier: professional}"),
            [
                "F:5:14 connections[0].hubspot: no credentials: set access_token (a private-app "
                "token) or all of client_id, client_secret and refresh_token (OAuth)"
            ],
        ),
        (
            BASE.replace("models/m.yaml", "models/nope.yaml"),
            [
                "F:7:32 connections[0].objects[0].model: model file "
                "{folder}/models/nope.yaml not found (relative paths are read from the "
                "config file's folder)"
            ],
        ),
        (
            BASE + BASE.split("connections:\n")[1],
            ["F:8:11 connections[1].name: connection names must be unique; 'acme' is used twice"],
        ),
        (
            BASE.replace("    crm: hubspot\n", ""),
            ["F:3:5 connections[0].crm: required key `crm` is missing"],
        ),
        (
            "state_url: mysql://x\n" + BASE.split("\n", 1)[1] + "daemon: {port: 70000}\n",
            [
                "F:1:12 state_url: must be sqlite:///path/to/file.db or "
                "postgresql+psycopg://user@host/db",
                "F:8:16 daemon.port: should be less than or equal to 65535",
            ],
        ),
    ],
)
def test_config_errors_are_located_with_what_would_be_valid(folder, text, expected):
    path = write(folder, text)
    assert problems(path) == [e.replace("{folder}", str(folder)) for e in expected]


def test_unset_variable_is_located_and_the_secret_never_printed(folder):
    text = BASE.replace("sqlite:///state/leadsync.db", "postgresql://u:${PW}@h/db")
    found = problems(write(folder, text), env={"PW": "hunter2"})  # TOKEN unset
    assert found == [
        "F:5:29 connections[0].hubspot.access_token: ${TOKEN}: environment variable TOKEN is "
        "not set; export it, or write ${TOKEN:-default}"
    ]
    assert not any("hunter2" in p for p in found)


@pytest.mark.parametrize("value", ["", "  \r\n"])
def test_an_empty_access_token_is_a_located_problem_naming_the_key(folder, value):
    # a variable set but empty used to pass loading and fail at the first call, exit 1
    found = problems(write(folder, BASE), env={"TOKEN": value})
    assert found == [
        "F:5:29 connections[0].hubspot.access_token: access_token is empty (check the variable "
        "or secrets file the value comes from): set access_token (a private-app token) or all "
        "of client_id, client_secret and refresh_token (OAuth)"
    ]


def test_an_empty_access_token_beside_a_complete_oauth_app_loads(folder):
    text = BASE.replace(
        'hubspot: {access_token: "${TOKEN}"}',
        'hubspot: {access_token: "${TOKEN}", client_id: c, client_secret: s, refresh_token: r}',
    )
    hub = load_config(write(folder, text), environ={"TOKEN": ""}).settings.connections[0].hubspot
    assert hub is not None
    assert hub.access_token is not None
    assert hub.access_token.get_secret_value() == ""
    assert hub.refresh_token is not None
    assert hub.refresh_token.get_secret_value() == "r"


def test_empty_oauth_secrets_are_named(folder):
    text = BASE.replace(
        'hubspot: {access_token: "${TOKEN}"}',
        'hubspot: {client_id: c, client_secret: "${TOKEN}", refresh_token: "${TOKEN}"}',
    )
    found = problems(write(folder, text), env={"TOKEN": ""})
    assert found == [
        "F:5:44 connections[0].hubspot.client_secret: client_secret, refresh_token are empty "
        "(check the variable or secrets file the value comes from): set access_token (a "
        "private-app token) or all of client_id, client_secret and refresh_token (OAuth)"
    ]


def test_environment_override_errors_name_the_variable(folder):
    environ = {"TOKEN": "t", "LEADSYNC_DAEMON__PORT": "http"}
    assert problems(write(folder, BASE), environ) == [
        "environment variable LEADSYNC_DAEMON__PORT daemon.port: should be a valid integer, "
        "unable to parse string as an integer (got 'http')"
    ]


def test_dotenv_override_errors_name_the_dotenv_file(folder):
    (folder / ".env").write_text("LEADSYNC_DAEMON__PORT=http\n")
    text = BASE + "daemon: {port: 9100}\n"
    assert problems(write(folder, text)) == [
        f"{folder / '.env'} LEADSYNC_DAEMON__PORT daemon.port: should be a valid integer, "
        "unable to parse string as an integer (got 'http')"
    ]


def test_a_dotenv_file_fills_config_variables_and_its_other_names_are_no_settings(folder):
    # a .env beside the config, as docker compose keeps one: ${VAR} values and LEADSYNC_ overrides
    (folder / ".env").write_text(
        "TOKEN=from-dotenv\nSF_CLIENT_ID=unused\nLEADSYNC_DAEMON__PORT=9200\nBARE\n"
    )
    loaded = load_config(write(folder, BASE), environ={})
    hub = loaded.settings.connections[0].hubspot
    assert hub is not None and hub.access_token is not None
    assert hub.access_token.get_secret_value() == "from-dotenv"
    assert loaded.settings.daemon.port == 9200
    # the environment, then the secrets directory, beat the .env file
    loaded = load_config(write(folder, BASE), environ={"TOKEN": "from-env"})
    hub = loaded.settings.connections[0].hubspot
    assert hub is not None and hub.access_token is not None
    assert hub.access_token.get_secret_value() == "from-env"


def test_an_unset_variable_names_the_dotenv_file_it_looked_in(folder):
    (folder / ".env").write_text("OTHER=1\n")
    assert problems(write(folder, BASE), env={"UNRELATED": "1"}) == [
        "F:5:29 connections[0].hubspot.access_token: ${TOKEN}: environment variable TOKEN is "
        f"not set nor in {folder / '.env'}; export it, or write ${{TOKEN:-default}}"
    ]


def test_a_whole_section_override_that_is_not_json_is_a_located_problem(folder):
    environ = {"TOKEN": "t", "LEADSYNC_DAEMON": "{port: 1"}
    assert problems(write(folder, BASE), environ) == [
        "environment variable LEADSYNC_DAEMON daemon: not valid JSON; write the whole section "
        "as JSON, or set its keys one by one (LEADSYNC_DAEMON__<KEY>)"
    ]


def test_the_process_environment_is_not_read_when_an_environment_is_given(folder, monkeypatch):
    monkeypatch.setenv("LEADSYNC_DAEMON__PORT", "http")
    text = BASE + "daemon: {port: 9100}\n"
    assert load_config(write(folder, text), environ={"TOKEN": "t"}).settings.daemon.port == 9100


def test_without_an_environment_the_process_environment_overrides(folder, monkeypatch):
    monkeypatch.setenv("TOKEN", "t")
    monkeypatch.setenv("LEADSYNC_DAEMON__PORT", "9200")
    assert load_config(write(folder, BASE)).settings.daemon.port == 9200


def test_yaml_syntax_errors_are_located(folder):
    path = write(folder, "connections:\n  - name: [unclosed\n")
    with pytest.raises(ProblemsError) as info:
        load_config(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (3, 1)
    assert problem.message.startswith("invalid YAML:")


def test_yaml_nested_past_the_bound_is_located_not_a_recursion_error(folder):
    path = write(folder, BASE + "extra: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ProblemsError) as info:
        load_config(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (8, 8 + MAX_DEPTH - 1)
    assert problem.message == f"invalid YAML: nested more than {MAX_DEPTH} levels deep"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: contact\n", "the config must be a mapping"),
    ],
)
def test_top_level_must_be_a_mapping(folder, text, message):
    with pytest.raises(ProblemsError, match=message):
        load_config(write(folder, "- " + text))


def test_missing_config_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"config file not found; pass --config PATH"):
        load_config(tmp_path / "nope.yaml")


def test_model_for_another_kind_is_reported_at_the_config_key(folder):
    shutil.copy(EXAMPLES / "models" / "salesforce-leads.yaml", folder / "models" / "m.yaml")
    loaded = load_config(write(folder, BASE), environ={"TOKEN": "t"})
    with pytest.raises(ProblemsError) as info:
        load_models(loaded)
    assert [str(p).replace(str(folder), "D") for p in info.value.problems] == [
        "D/leadsync.yaml:7:16 connections[0].objects[0].kind: model 'salesforce-b2b-leads' "
        "(m.yaml) scores lead records, not contact; use kind: lead or another model"
    ]


def test_account_models_load_on_both_crms_and_unread_parts_are_refused(folder):
    shutil.copy(EXAMPLES / "models" / "hubspot-companies.yaml", folder / "models" / "m.yaml")
    config = BASE.replace("kind: contact", "kind: company")
    models = load_models(load_config(write(folder, config), environ={"TOKEN": "t"}))
    assert models[("acme", "company")].rollup is not None
    (folder / "models" / "m.yaml").write_text(
        "name: people\nobject: contact\n"
        "fit:\n  rules:\n    - {name: A account, if: {account.grade: A}, points: 5}\n",
        encoding="utf-8",
    )
    models = load_models(load_config(write(folder, BASE), environ={"TOKEN": "t"}))
    assert models[("acme", "contact")].account_fields == frozenset({"account.grade"})
    salesforce = BASE.replace(
        'crm: hubspot\n    hubspot: {access_token: "${TOKEN}"}',
        'crm: salesforce\n    salesforce: {login_url: "https://login.example", '
        'client_id: c, client_secret: "${TOKEN}"}',
    )
    # a Salesforce Contact names its Account (AccountId): account. rules load
    models = load_models(load_config(write(folder, salesforce), environ={"TOKEN": "t"}))
    assert models[("acme", "contact")].account_fields == frozenset({"account.grade"})
    shutil.copy(EXAMPLES / "models" / "salesforce-accounts.yaml", folder / "models" / "a.yaml")
    accounts = salesforce.replace(
        "{kind: contact, model: models/m.yaml}", "{kind: account, model: models/a.yaml}"
    )
    models = load_models(load_config(write(folder, accounts), environ={"TOKEN": "t"}))
    assert models[("acme", "account")].rollup is not None
    # a Lead is tied to an Account by domain for roll-ups only: its rules cannot read account.
    (folder / "models" / "m.yaml").write_text(
        "name: people\nobject: lead\n"
        "fit:\n  rules:\n    - {name: A account, if: {account.grade: A}, points: 5}\n",
        encoding="utf-8",
    )
    loaded = load_config(
        write(folder, salesforce.replace("kind: contact", "kind: lead")), environ={"TOKEN": "t"}
    )
    with pytest.raises(ProblemsError) as info:
        load_models(loaded)
    assert [str(p).replace(str(folder), "D") for p in info.value.problems] == [
        "D/leadsync.yaml:7:29 connections[0].objects[0].model: model 'people' (m.yaml) uses "
        "'account.' fields, which salesforce runs do not read yet; remove them to sync this "
        "model"
    ]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90), ("30s", 30), ("5m", 300), ("1h30m", 5400), ("2d", 172800), ("250ms", 0.25)],
)
def test_durations(value, seconds):
    assert parse_duration(value).total_seconds() == seconds


@pytest.mark.parametrize("value", ["5x", "m5", "", "1h 2q", True])
def test_bad_durations(value):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


def test_readme_shows_the_example_config_verbatim():
    readme = (EXAMPLES.parents[1] / "README.md").read_text()
    example = (EXAMPLES / "leadsync.yaml").read_text()
    assert f"```yaml\n{example}```" in readme


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda f: (f / "ca.pem").write_text("not a certificate\n"),
            "is not a CA bundle (PEM certificates expected): NO_CERTIFICATE_OR_CRL_FOUND",
        ),
        (lambda f: (f / "ca.pem").mkdir(), "cannot be read: Is a directory"),
        (lambda f: None, "not found"),
    ],
)
def test_unusable_ca_bundle_is_located(folder, make, message):
    make(folder)
    text = BASE.replace(
        '{access_token: "${TOKEN}"}', '{access_token: "${TOKEN}", ca_bundle: ca.pem}'
    )
    assert problems(write(folder, text)) == [
        f"F:5:52 connections[0].hubspot.ca_bundle: file {folder / 'ca.pem'} {message}"
    ]


SALESFORCE = BASE.replace(
    'crm: hubspot\n    hubspot: {access_token: "${TOKEN}"}',
    'crm: salesforce\n    salesforce: {login_url: "https://login.example", '
    'client_id: c, client_secret: "${TOKEN}"}',
)


LONG_PREFIX = "leadsync_" + "x" * 78 + "_"  # 88 characters: leadsync_xx..x_model_version is 101


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            SALESFORCE.replace("kind: contact", "kind: account").replace(
                "model: models/m.yaml}", "model: models/m.yaml, output_prefix: leadsync_a__}"
            ),
            "F:7:62 connections[0].objects[0].output_prefix: leadsync_a__ would name Salesforce "
            "fields like Leadsync_A__Model_Version__c, and Salesforce field names may not hold "
            "two underscores in a row",
        ),
        (
            SALESFORCE.replace("kind: contact", "kind: account").replace(
                "model: models/m.yaml}",
                "model: models/m.yaml, output_prefix: leadsync_product_line_b_two_}",
            ),
            "F:7:62 connections[0].objects[0].output_prefix: leadsync_product_line_b_two_ would "
            "name the Salesforce field Leadsync_Product_Line_B_Two_Model_Version__c, 41 "
            "characters "
            "before __c where Salesforce allows 40: keep the prefix to 27 characters",
        ),
        (
            SALESFORCE + "      - {kind: contact, model: models/m.yaml}\n",
            "F:8:9 connections[0].objects[1].output_prefix: two contact models would write "
            "leadsync_changes, leadsync_fit, leadsync_grade ...: give each model of a kind its "
            "own output_prefix, e.g. leadsync_pl_a_",
        ),
        (
            BASE.replace("kind: contact", "kind: company").replace(
                "model: models/m.yaml}", "model: models/m.yaml, output_prefix: leadsync_b_}"
            )
            + "      - {kind: company, model: models/m.yaml, output_prefix: leadsync_b_}\n",
            "F:8:62 connections[0].objects[1].output_prefix: two company models would write "
            "leadsync_b_changes, leadsync_b_fit, leadsync_b_grade ...: give each model of a kind "
            "its own output_prefix, e.g. leadsync_pl_a_",
        ),
        (
            BASE.replace("kind: contact", "kind: company")
            + f"      - {{kind: company, model: models/m.yaml, output_prefix: {LONG_PREFIX}}}\n",
            f"F:8:62 connections[0].objects[1].output_prefix: {LONG_PREFIX} would name the "
            f"HubSpot property {LONG_PREFIX}model_version, 101 characters where HubSpot allows "
            "100: keep the prefix to 87 characters",
        ),
    ],
)
def test_models_of_a_kind_whose_output_names_clash_or_are_too_long_are_refused(
    folder, config, message
):
    assert problems(write(folder, config)) == [message]


def test_account_kinds_take_several_models_with_their_own_prefixes(folder):
    hubspot = BASE.replace("kind: contact", "kind: company") + (
        "      - {kind: company, model: models/m.yaml, output_prefix: leadsync_b_}\n"
        f"      - {{kind: company, model: models/m.yaml, output_prefix: {LONG_PREFIX[:-2]}_}}\n"
    )
    loaded = load_config(write(folder, hubspot), environ={"TOKEN": "t"})
    assert [o.namespace for o in loaded.settings.connections[0].objects] == [
        "",
        "b_",
        "x" * 77 + "_",
    ]
    salesforce = (
        SALESFORCE.replace("kind: contact", "kind: account").replace(
            "model: models/m.yaml}", "model: models/m.yaml, output_prefix: leadsync_pl_a_}"
        )
        + "      - {kind: account, model: models/m.yaml, output_prefix: leadsync_product_line_b_}\n"
    )
    loaded = load_config(write(folder, salesforce), environ={"TOKEN": "t"})
    assert [o.namespace for o in loaded.settings.connections[0].objects] == [
        "pl_a_",
        "product_line_b_",
    ]


@pytest.mark.parametrize(
    ("block", "key", "url"),
    [
        ("login_url: https://acme.my.salesforce.com/services", "login_url", "/services"),
        (
            "login_url: https://login.example, session_id: x, "
            "instance_url: https://acme.my.salesforce.com/lightning/page/home",
            "instance_url",
            "/lightning/page/home",
        ),
    ],
)
def test_a_salesforce_url_with_a_path_is_a_located_error(folder, block, key, url):
    text = SALESFORCE.replace('login_url: "https://login.example"', block)
    column = text.splitlines()[4].index(f"{key}: ") + len(key) + 3
    assert problems(write(folder, text)) == [
        f"F:5:{column} connections[0].salesforce.{key}: "
        f"'https://acme.my.salesforce.com{url}' has a path; write the org's address alone, "
        "e.g. https://acme.my.salesforce.com"
    ]
