"""Several models of HubSpot companies on one connection: each writes its own company properties
(`output_prefix`), setup creates them, a run reads the companies and their people once for all
models (the calls of one model), incremental runs recompute a changed contact's companies for
every model, and contact rules read the company model `account_model` names."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cli.commands.runs import open_store
from cli.main import main
from config.loader import load_config
from sandbox.hubspot import HubSpotSandbox
from scoring.types import ScoreResult
from sync.state.records import RunRow
from tests.sync.account_groups_env import (
    LINKED,
    config_file,
    hubspot_block,
    product_b,
    stored_results,
)
from tests.sync.hubspot_env import NOW, ROOT, SandboxClock, sandbox

MODELS = ROOT / "config" / "examples" / "models"
PEOPLE = MODELS / "hubspot-professional.yaml"
ACCOUNTS = MODELS / "hubspot-companies.yaml"
CONTACTS, COMPANIES = 400, 40
WHEN = NOW.isoformat()


@dataclass
class World:
    sandbox: HubSpotSandbox
    config: Path
    folder: Path

    def sync(self, *args: str, now: str = WHEN) -> Counter[str]:
        """One `leadsync sync` and its calls (by endpoint and status)."""
        self.sandbox.clear_counts()
        assert main(["sync", "--config", str(self.config), "--now", now, *args]) == 0
        return Counter(
            {
                f"{label} {status}": n
                for label, by_status in self.sandbox.request_counts().items()
                for status, n in by_status.items()
            }
        )

    def stored(self, kind: str, ids: list[str]) -> dict[str, ScoreResult]:
        return stored_results(self.config, "hub", kind, ids)

    def crm(self, prefix: str) -> dict[str, dict[str, str | None]]:
        table = self.sandbox.store.table("companies")
        names = ("fit", "interest", "score", "grade", "label")
        with self.sandbox.store.lock:
            return {
                str(i): {n: table.text(table.rows[i], prefix + n) for n in names} for i in table.ids
            }

    def runs(self) -> list[RunRow]:
        store = open_store(load_config(self.config).settings)
        try:
            return store.runs("hub")
        finally:
            store.close()


def world(folder: Path, objects: list[str]) -> World:
    folder.mkdir()
    sb = sandbox(CONTACTS, companies=COMPANIES, buying_committees=True)
    config = config_file(folder, "hub", "hubspot", hubspot_block(sb), objects)
    assert main(["setup", "--config", str(config), "--apply"]) == 0
    return World(sb, config, folder)


def expected(result: ScoreResult) -> dict[str, str | None]:
    return {
        "fit": str(result.fit),
        "interest": str(result.interest),
        "score": str(result.score),
        "grade": result.grade,
        "label": result.label,
    }


def touch_contact(sb: HubSpotSandbox, contact_id: int) -> None:
    """A contact visits the site now (ten minutes on): its last-visit time and modification."""
    clock: SandboxClock = sb.clock  # type: ignore[assignment]
    contacts = sb.store.table("contacts")
    with sb.store.lock:
        row = contacts.rows[contact_id]
        stamp = int(clock() * 1000)
        contacts.set_raw(row, "hs_analytics_last_visit_timestamp", stamp)
        contacts.touch(row, stamp)


def test_two_company_models_write_their_own_properties_with_the_calls_of_one(tmp_path, capsys):
    model_b = product_b(ACCOUNTS, tmp_path, "product-b-companies")
    one = world(
        tmp_path / "one",
        [f"{{kind: contact, model: {PEOPLE}}}", f"{{kind: company, model: {ACCOUNTS}}}"],
    )
    two = world(
        tmp_path / "two",
        [
            f"{{kind: contact, model: {PEOPLE}}}",
            f"{{kind: company, model: {ACCOUNTS}}}",
            f"{{kind: company, model: {model_b}, output_prefix: leadsync_pl_b_}}",
        ],
    )
    try:
        shown = capsys.readouterr().out.splitlines()
        # setup created the second model's company properties, labelled with its name
        assert "hub (hubspot) company (leadsync_pl_b_*):" in shown
        assert "pl_b_score          leadsync_pl_b_score          created" in shown
        assert "  created companies property leadsync_pl_b_model_version" in shown
        props = two.sandbox.store.table("companies").props
        assert props["leadsync_pl_b_score"].label == "Lead score (product-b-companies)"
        assert props["leadsync_score"].label == "Lead score"

        calls_one, calls_two = one.sync("--full"), two.sync("--full")
        # one read of the companies and their people, one batch input per company: the
        # calls of one model, endpoint by endpoint
        assert calls_two == calls_one
        assert calls_two["POST /crm/v3/objects/{object}/batch/update 200"] == 4 + 1
        assert calls_two == {
            "GET /crm/v3/objects/{object} 200": 4 + 1,  # contacts, companies: 100 a page
            "GET /crm/v3/properties/{object}/{name} 200": 1,  # call dispositions, once
            "POST /crm/v3/objects/{object}/batch/read 200": 9,
            "POST /crm/v3/objects/{object}/batch/update 200": 4 + 1,
            "POST /crm/v4/associations/{from}/{to}/batch/read 200": 1,
            "POST /crm/v4/associations/{from}/{to}/batch/read 207": 3,
        }

        ids = sorted(two.crm("leadsync_"), key=int)
        a, b = two.stored("company", ids), two.stored("company:pl_b", ids)
        assert sorted(a, key=int) == sorted(b, key=int) == ids
        assert two.crm("leadsync_") == {i: expected(a[i]) for i in ids}
        assert two.crm("leadsync_pl_b_") == {i: expected(b[i]) for i in ids}
        # the first model's results are the one-model run's, to the value
        assert one.crm("leadsync_") == two.crm("leadsync_")
        assert sum(a[i].score != b[i].score for i in ids) == 39
        assert Counter(r.grade for r in a.values()) == {"A": 2, "B": 16, "C": 9, "D": 13}
        assert Counter(r.grade for r in b.values()) == {"A": 9, "B": 12, "C": 17, "D": 2}
        assert sum(any("Fittest people" in x for x in r.reasons) for r in b.values()) == 40

        # a second full run writes nothing for either model
        again = two.sync("--full")
        assert "POST /crm/v3/objects/{object}/batch/update 200" not in again

        # three people of a company without a buying committee visit: the incremental run
        # recomputes their companies for both models, with the calls of one model
        links = two.sandbox.store.associations[("companies", "contacts")]
        company = next(
            c
            for c, people in sorted(links.items())
            if len(people) >= 3
            and not any(x.rule == "Buying committee" for x in a[str(c)].contributions)
            and not any(x.rule == "Buying committee" for x in b[str(c)].contributions)
        )
        visitors = links[company][:3]
        for w in (one, two):
            w.sandbox.clock.advance(600)  # type: ignore[attr-defined]
            w.sync(now="2026-11-20T12:10:00+00:00")  # meets our own writes again
            w.sandbox.clock.advance(600)  # type: ignore[attr-defined]
            for contact in visitors:
                touch_contact(w.sandbox, contact)
        later = "2026-11-20T12:20:00+00:00"
        inc_one, inc_two = one.sync(now=later), two.sync(now=later)
        assert inc_two == inc_one
        run = two.runs()[0]
        companies = {
            c for p in visitors for c in two.sandbox.store.associated("contacts", p, "companies")
        }
        assert (run.kind, run.mode, run.counts.read) == ("company", "incremental", len(companies))
        key = str(company)
        a2, b2 = two.stored("company", [key])[key], two.stored("company:pl_b", [key])[key]
        assert (a[key].interest, a2.interest, b[key].interest, b2.interest) == (11, 44, 8, 33)
        assert (run.counts.written, run.counts.api_calls) == (1, 7)
        # companies searched, contacts searched and their companies; the company read by id,
        # its associations and people; the contacts' own run (its contact search, and its
        # search of the companies changed since, which finds only our own writes) and the two
        # writes
        assert inc_two == {
            "POST /crm/v3/objects/{object}/batch/read 200": 3,
            "POST /crm/v3/objects/{object}/batch/update 200": 2,
            "POST /crm/v3/objects/{object}/search 200": 4,
            "POST /crm/v4/associations/{from}/{to}/batch/read 200": 3,
            "POST /crm/v4/associations/{from}/{to}/batch/read 207": 2,
        }
        assert two.crm("leadsync_")[key] == expected(a2)
        assert two.crm("leadsync_pl_b_")[key] == expected(b2)
    finally:
        one.sandbox.stop()
        two.sandbox.stop()


def test_contact_rules_read_the_company_model_account_model_names(tmp_path, capsys):
    model_b = product_b(ACCOUNTS, tmp_path, "product-b-companies")
    (tmp_path / "linked.yaml").write_text(LINKED)
    w = world(
        tmp_path / "w",
        [
            f"{{kind: company, model: {ACCOUNTS}}}",
            f"{{kind: company, model: {model_b}, output_prefix: leadsync_pl_b_}}",
            f"{{kind: contact, model: {tmp_path / 'linked.yaml'}, account_model: pl_b}}",
        ],
    )
    try:
        calls = w.sync("--full")
        store = w.sandbox.store
        company_ids = [str(i) for i in store.table("companies").ids]
        grades_a = {i: r.grade for i, r in w.stored("company", company_ids).items()}
        grades_b = {i: r.grade for i, r in w.stored("company:pl_b", company_ids).items()}
        primary = {
            str(contact): str(companies[0])
            for contact, companies in store.associations[("contacts", "companies")].items()
        }
        contact_ids = [str(i) for i in store.table("contacts").ids]

        def fit(grades: dict[str, str], contact: str) -> int:
            if contact not in primary:
                return 1
            return 10 if grades[primary[contact]] == "A" else 0

        results = w.stored("contact", contact_ids)
        assert {i: r.fit for i, r in results.items()} == {i: fit(grades_b, i) for i in contact_ids}
        # the two company models disagree on some contacts' companies: B's grades were read
        assert sum(fit(grades_a, i) != fit(grades_b, i) for i in contact_ids) == 56
        assert Counter(r.fit for r in results.values()) == {0: 260, 10: 74, 1: 66}
        # the account results come from the state store: no read beyond the one-model run's
        assert calls["POST /crm/v3/objects/{object}/batch/update 200"] == 4 + 1
        # explain reads the same company model's result
        contact = next(i for i in contact_ids if fit(grades_b, i) == 10)
        capsys.readouterr()
        args = ["explain", contact, "--config", str(w.config), "--kind", "contact"]
        assert main([*args, "--now", WHEN, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["result"]["fit"] == 10
    finally:
        w.sandbox.stop()
