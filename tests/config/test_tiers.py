"""Loading refuses models whose rules need HubSpot's Enterprise Events API on lower tiers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli.main import main
from config.errors import ProblemsError
from config.loader import load_config, load_models

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"
WEB_RULES = [
    "Demo request",
    "Contact request",
    "Case study download",
    "Newsletter signup",
    "Pricing page",
    "Case study page",
    "Blog visit",
    "Careers page",
]

CONFIG = """\
state_url: sqlite:///state/leadsync.db
connections:
  - name: acme
    crm: hubspot
    hubspot: {{base_url: "https://127.0.0.1:9", access_token: "t", tier: {tier}}}
    objects:
      - {{kind: contact, model: models/m.yaml}}
"""


def setup(tmp_path: Path, tier: str, model: str = "hubspot-contacts.yaml") -> Path:
    (tmp_path / "models").mkdir()
    shutil.copy(EXAMPLES / "models" / model, tmp_path / "models" / "m.yaml")
    path = tmp_path / "leadsync.yaml"
    path.write_text(CONFIG.format(tier=tier))
    return path


@pytest.mark.parametrize("tier", ["free", "starter", "professional"])
def test_web_event_rules_below_enterprise_are_refused_at_the_tier_and_each_rule(
    tmp_path, tier
) -> None:
    path = setup(tmp_path, tier)
    loaded = load_config(path, environ={})
    with pytest.raises(ProblemsError) as info:
        load_models(loaded)
    found = [str(p).replace(str(tmp_path), "D") for p in info.value.problems]
    column = path.read_text().splitlines()[4].index("tier: ") + len("tier: ") + 1
    assert found[0].startswith(
        f"D/leadsync.yaml:5:{column} connections[0].hubspot.tier: tier {tier} has no Events API, "
        "which model 'hubspot-b2b-contacts' (m.yaml) needs for its form_submission and "
        "page_view rules ('Demo request', "
    )
    assert found[0].endswith(
        "Use tier: enterprise if the account has it, or score the rollup properties "
        "(hs_analytics_num_page_views, num_conversion_events) instead"
    )
    rules = found[1:]
    assert len(rules) == len(WEB_RULES)
    model_text = (tmp_path / "models" / "m.yaml").read_text().splitlines()
    for name, problem in zip(WEB_RULES, rules, strict=True):
        where, message = problem.split(": ", 1)
        file, line, _, key = where.replace(" ", ":").split(":")
        assert file == "D/models/m.yaml"
        assert key.startswith("interest.rules[")
        assert f"name: {name}" in model_text[int(line) - 1]  # located at the rule itself
        assert message.startswith(f"rule {name!r} reads ")
        assert f"not on tier {tier}; score the rollup properties instead (" in message


def test_enterprise_tier_accepts_web_event_rules(tmp_path) -> None:
    models = load_models(load_config(setup(tmp_path, "enterprise"), environ={}))
    assert list(models) == [("acme", "contact")]


def test_the_professional_example_loads_on_professional(tmp_path) -> None:
    loaded = load_config(setup(tmp_path, "professional", "hubspot-professional.yaml"), environ={})
    assert list(load_models(loaded)) == [("acme", "contact")]


def test_sync_exits_2_before_any_api_call(tmp_path, capsys) -> None:
    path = setup(tmp_path, "professional")
    assert main(["sync", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "connections[0].hubspot.tier: tier professional has no Events API" in err
    assert "Traceback" not in err


def test_web_event_rules_without_a_tier_are_refused_too(tmp_path) -> None:
    path = setup(tmp_path, "professional")
    path.write_text(path.read_text().replace(", tier: professional", ""))
    with pytest.raises(ProblemsError) as info:
        load_models(load_config(path, environ={}))
    found = [str(p).replace(str(tmp_path), "D") for p in info.value.problems]
    assert found[0].startswith(
        "D/leadsync.yaml:5:14 connections[0].hubspot.tier: a connection with no tier set has no "
        "Events API, which model 'hubspot-b2b-contacts' (m.yaml) needs"
    )
    assert "Enterprise hubs, not on a connection with no tier set; score the rollup" in found[1]
