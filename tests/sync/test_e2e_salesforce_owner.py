"""A lead model reading its owner's fields past the polymorphic `Owner` (`Owner.Email`, a field
of Salesforce's `Name` object), end to end: validated, read and scored on the sandbox, with a
lead owned by a queue (no email) scored without them."""

from __future__ import annotations

from config.model_loader import parse_model
from connectors.outputs import output_fields
from sandbox.salesforce import SalesforceSandbox
from sync.engine import Engine, RunOptions
from sync.state.store import StateStore
from tests.sync.test_e2e_salesforce_accounts import NOW, connector, later

OWNER_MODEL = """\
name: sf-owner
object: lead
fit:
  rules:
    - {name: Dana's lead, if: {Owner.Email: {eq: dana@leadsync.sandbox}}, points: 40}
    - {name: Owner has an email, if: {Owner.Email: {exists: true}}, points: 5}
"""


def test_a_lead_model_reads_the_owners_email_past_the_polymorphic_owner(tmp_path):
    sb = SalesforceSandbox(leads=200, now=NOW).start()
    conn = connector(sb)
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=NOW)
    try:
        model = parse_model(OWNER_MODEL, "sf-owner.yaml")
        assert conn.ensure_schema("lead", output_fields(model.grades, model.labels), apply=True).ok
        leads = sb.store.table("Lead")
        users = sb.store.table("User")
        open_ids = [i for i, r in leads.items() if not r["IsConverted"]]
        queued = open_ids[0]
        leads[queued]["OwnerId"] = sb.store.assignment_queue  # a queue has no email
        engine = Engine(store, conn, connection="sf", sleep=lambda s: True)
        run = engine.run("lead", model, RunOptions(full=True), now=later(sb, 1))
        assert (run.status, run.counts.written) == ("succeeded", len(open_ids))

        def expected(lead_id: str) -> float:
            owner = users.get(leads[lead_id]["OwnerId"])
            if owner is None:
                return 0.0
            return 45.0 if owner["Email"] == "dana@leadsync.sandbox" else 5.0

        fits = {i: leads[i]["Leadsync_Fit__c"] for i in open_ids}
        assert fits == {i: expected(i) for i in open_ids}
        assert fits[queued] == 0.0
        assert set(fits.values()) == {0.0, 5.0, 45.0}
    finally:
        conn.close()
        store.close()
        sb.stop()
