"""A HubSpot company model whose score roll-up reads a product-B contact model's scores
(`model: pl_b` on the roll-up): two contact models and two company models on one connection,
each company model rolling up its own contact model's scores, with the calls of one model;
incremental runs and `explain` (now and at a past moment) read the prefixed scores too."""

from __future__ import annotations

import json
from pathlib import Path

from cli.main import main
from tests.sync.rollup_models_env import HUBSPOT_COMPANIES_B, HUBSPOT_CONTACTS_B, write
from tests.sync.test_account_groups import (
    ACCOUNTS,
    PEOPLE,
    WHEN,
    World,
    touch_contact,
    world,
)

LATER = "2026-11-20T12:20:00+00:00"


def member_scores(w: World, prefix: str, name: str = "score") -> dict[str, int]:
    """Each contact's score (`name`) as the CRM holds it under `prefix` (`leadsync_pl_b_`)."""
    table = w.sandbox.store.table("contacts")
    with w.sandbox.store.lock:
        texts = {str(i): table.text(table.rows[i], prefix + name) for i in table.ids}
    return {i: int(float(t)) for i, t in texts.items() if t}


def highest(w: World, scores: dict[str, int]) -> dict[str, int]:
    """Per company, its contacts' highest score among `scores` (companies with one above 0)."""
    links = w.sandbox.store.associations[("companies", "contacts")]
    out = {}
    for company, people in links.items():
        best = max((scores.get(str(p), 0) for p in people), default=0)
        if best:
            out[str(company)] = best
    return out


def rolled(w: World, kind: str) -> dict[str, float]:
    """Per company, the points of its `B people` roll-up as stored for `kind`."""
    ids = [str(i) for i in w.sandbox.store.table("companies").ids]
    return {
        i: c.points
        for i, r in w.stored(kind, ids).items()
        for c in r.contributions
        if c.rule == "B people"
    }


def test_a_company_model_rolls_up_the_product_b_contact_scores(tmp_path: Path, capsys) -> None:
    contacts_b = write(tmp_path, "contacts-b.yaml", HUBSPOT_CONTACTS_B)
    companies_b = write(tmp_path, "companies-b.yaml", HUBSPOT_COMPANIES_B)
    companies_a = write(
        tmp_path,
        "companies-a.yaml",
        HUBSPOT_COMPANIES_B.replace(", model: pl_b", "").replace("-b-", "-a-"),
    )
    one = world(
        tmp_path / "one",
        [f"{{kind: contact, model: {PEOPLE}}}", f"{{kind: company, model: {ACCOUNTS}}}"],
    )
    two = world(
        tmp_path / "two",
        [
            f"{{kind: contact, model: {PEOPLE}}}",
            f"{{kind: contact, model: {contacts_b}, output_prefix: leadsync_pl_b_}}",
            f"{{kind: company, model: {companies_a}}}",
            f"{{kind: company, model: {companies_b}, output_prefix: leadsync_pl_b_}}",
        ],
    )
    try:
        calls_one, calls_two = one.sync("--full"), two.sync("--full")
        # the prefixed scores come with the same member reads: the calls of one model each
        assert calls_two == calls_one
        plain, b = member_scores(two, "leadsync_"), member_scores(two, "leadsync_pl_b_")
        assert (len(plain), len(b)) == (400, 400)
        # each company model rolls up its own contact model's scores, to the point
        assert rolled(two, "company") == highest(two, plain)
        assert rolled(two, "company:pl_b") == highest(two, b)
        differ = sum(highest(two, plain)[c] != v for c, v in highest(two, b).items())
        assert (len(highest(two, b)), differ) == (40, 37)

        # a candidate model file's roll-ups resolve as the configured ones: previewing the
        # live product-B model against itself changes nothing
        base = ["preview", "--config", str(two.config), "--kind", "company", "--now", WHEN]
        capsys.readouterr()
        assert main([*base, "--model", str(companies_b), "--model-name", "pl_b"]) == 0
        counts = capsys.readouterr().out.splitlines()[1]
        assert counts.startswith("label changes 0  grade changes 0  newly qualified 0")
        unknown = write(tmp_path, "unknown.yaml", HUBSPOT_COMPANIES_B.replace("pl_b", "pl_c"))
        assert main([*base, "--model", str(unknown), "--model-name", "pl_b"]) == 2
        assert capsys.readouterr().err.strip() == (
            f"error: {unknown}: roll-up 'B people' (members.rollup[0]) reads the score of model "
            "'pl_c', but hub has no contact model 'pl_c'; its contact models: "
            "hubspot-professional, product-b-contacts (pl_b)"
        )

        # the people of a company none of whom visited lately visit: the incremental run
        # rescores them with both contact models, then their company with both company models
        links = two.sandbox.store.associations[("companies", "contacts")]
        quiet = member_scores(two, "leadsync_pl_b_", "interest")
        company = next(
            c
            for c, people in sorted(links.items())
            if 3 <= len(people) <= 5 and not any(quiet.get(str(p)) for p in people)
        )
        visitors = links[company]
        for w in (one, two):
            w.sandbox.clock.advance(600)  # type: ignore[attr-defined]
            w.sync(now="2026-11-20T12:10:00+00:00")  # meets our own writes again
            w.sandbox.clock.advance(600)  # type: ignore[attr-defined]
            for contact in visitors:
                touch_contact(w.sandbox, contact)
        inc_one, inc_two = one.sync(now=LATER), two.sync(now=LATER)
        assert inc_two == inc_one
        b_now = member_scores(two, "leadsync_pl_b_")
        assert {b_now[str(p)] - b[str(p)] for p in visitors} == {30}
        key = str(company)
        assert rolled(two, "company:pl_b")[key] == highest(two, b_now)[key]
        assert (highest(two, b)[key], highest(two, b_now)[key]) == (40, 70)

        # explain reads the prefixed scores as the run did, once they were written; at the
        # moment they were written they were not known yet (point in time, as in backtests)
        base = ["explain", key, "--config", str(two.config), "--kind", "company"]
        capsys.readouterr()
        after = "2026-11-20T12:30:00+00:00"
        assert main([*base, "--model-name", "pl_b", "--now", after, "--format", "json"]) == 0
        shown = json.loads(capsys.readouterr().out)["result"]
        assert (shown["interest"], shown["reasons"]) == (
            70,
            [
                "+70 B people: highest of 5 people by pl_b score: Senior Director, Finance 70, "
                "+4 more"
            ],
        )
        assert main([*base, "--model-name", "pl_b", "--now", LATER, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["result"]["interest"] == 0
    finally:
        one.sandbox.stop()
        two.sandbox.stop()
