"""No configured secret in a run's stored error, a dead letter, a log line, /readyz or the CLI."""

from __future__ import annotations

import io
import json
import logging

import pytest

from cli.main import main
from config.redaction import MASK, remember_secrets
from sync.logs import setup_logging
from tests.sync.fakes import POINTS_MODEL, FakeCRM
from tests.sync.test_daemon import daemon, get  # noqa: F401  (fixture)
from tests.sync.test_engine import run

TOKEN = "pat-na1-99999999-8888-7777-6666-redaction000"
LEAK = ValueError(f"Invalid header value b'Bearer {TOKEN}\\r'")


@pytest.fixture(autouse=True)
def secret():
    remember_secrets([TOKEN])


@pytest.fixture
def logs():
    out = io.StringIO()
    setup_logging("INFO", "json", out)
    yield out
    logging.getLogger("leadsync").handlers[:] = []


def test_an_exception_carrying_a_token_is_masked_in_the_run_store_log_and_readyz(daemon, logs):  # noqa: F811
    daemon.crms["two"].raise_on_read = LEAK
    daemon.start(run_now=False)
    assert daemon.run_job("two", full=True) == []
    (row,) = daemon.store.runs("two")
    assert row.error == f"internal error: ValueError: Invalid header value b'Bearer {MASK}\\r'"
    status, body = get(daemon, "/readyz")
    assert status == 503
    assert json.loads(body)["connections"]["two"]["last_error"] == (
        f"ValueError: Invalid header value b'Bearer {MASK}\\r'"
    )
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    finished = next(line for line in lines if line["msg"] == "run finished")
    assert finished["error"] == row.error
    crashed = next(line for line in lines if line["msg"] == "run crashed")
    assert crashed["exc"].endswith(f"ValueError: Invalid header value b'Bearer {MASK}\\r'")
    assert TOKEN not in logs.getvalue() and TOKEN not in body


def test_a_crm_message_carrying_a_token_is_masked_in_dead_letters_ledger_and_summary(store):
    crm = FakeCRM(10)
    crm.reject = {"00003": f"token {TOKEN} is not allowed here"}
    result = run(store, crm, full=True)
    assert result.dead_letter_reasons == {f"INVALID: token {MASK} is not allowed here": 1}
    assert [d.error for d in store.dead_letters("acme")] == [f"token {MASK} is not allowed here"]
    (row,) = store.ledger("acme", "contact", record_id="00003")
    assert row.error == f"token {MASK} is not allowed here"


def test_the_cli_masks_a_token_in_an_unexpected_traceback_and_in_status(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "m.yaml").write_text(POINTS_MODEL)
    config = tmp_path / "leadsync.yaml"
    config.write_text(
        "state_url: sqlite:///leadsync.db\n"
        "connections:\n"
        "  - {name: acme, crm: hubspot, hubspot: {access_token: '${TOKEN}'},\n"
        "     objects: [{kind: contact, model: m.yaml}]}\n"
    )
    monkeypatch.setenv("TOKEN", TOKEN)
    crm = FakeCRM(5)
    crm.raise_on_read = LEAK
    monkeypatch.setattr("sync.connections.build_connector", lambda conn, **kwargs: crm)
    assert main(["sync", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.endswith(f"ValueError: Invalid header value b'Bearer {MASK}\\r'\n")
    assert TOKEN not in err
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "internal error: ValueError: Invalid header value b'Bear" in out
    assert TOKEN[:20] not in out
