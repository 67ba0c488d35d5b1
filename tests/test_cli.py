from pathlib import Path

import pytest

from cli.main import main


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "leadsync" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["no-such-command"], "error: No such command 'no-such-command'. (see `leadsync --help`)"),
        (
            ["sync", "--bogus"],
            "error: No such option '--bogus'. Did you mean '--verbose'? "
            "(see `leadsync sync --help`)",
        ),
        (["explain"], "error: Missing argument 'RECORD_ID'."),
        (
            ["status", "extra"],
            "error: Got unexpected extra argument (extra) (see `leadsync status --help`)",
        ),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(argv, line, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", line + "\n")


def test_status_without_state_says_so_and_refuses_a_run_count_below_one(tmp_path, capsys):
    model = Path(__file__).resolve().parents[1] / "config/examples/models/hubspot-contacts.yaml"
    config = tmp_path / "leadsync.yaml"
    config.write_text(
        f"""\
state_url: sqlite:///{tmp_path / "state" / "leadsync.db"}
connections:
  - name: hs
    crm: hubspot
    hubspot: {{base_url: "http://127.0.0.1:9", access_token: pat-test}}
    objects:
      - {{kind: contact, model: {model}}}
"""
    )
    assert main(["status", "--config", str(config), "--runs", "2"]) == 0
    assert capsys.readouterr().out == (
        "== hs (hubspot: contact)\n"
        f"no state yet: {tmp_path / 'state' / 'leadsync.db'} holds no leadsync state; the first "
        "`leadsync sync` or `leadsync run` creates it\n\n"
    )
    assert not (tmp_path / "state").exists()  # looking creates no state
    for runs in ("0", "-1"):
        assert main(["status", "--config", str(config), "--runs", runs]) == 2
        assert capsys.readouterr().err == f"error: --runs: {runs} is not in the range x>=1.\n"


def test_status_counts_every_open_dead_letter_by_code_past_the_five_it_shows(tmp_path, capsys):
    from cli.commands.runs import open_store
    from config.loader import load_config
    from sync.state.records import RunCounts, WriteOutcome
    from tests.sync.test_state import T0, entry

    model = Path(__file__).resolve().parents[1] / "config/examples/models/salesforce-leads.yaml"
    config = tmp_path / "leadsync.yaml"
    config.write_text(
        f"""\
state_url: sqlite:///{tmp_path / "leadsync.db"}
connections:
  - name: sf
    crm: salesforce
    salesforce: {{login_url: "https://127.0.0.1:9", client_id: c, client_secret: s}}
    objects:
      - {{kind: lead, model: {model}}}
"""
    )
    store = open_store(load_config(config).settings)
    run_id = store.start_run(
        "sf", "lead", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    ids = [f"00Q{n:015d}" for n in range(7)]
    store.save_page(
        run_id, "sf", "lead", cursor=None, outbox=[entry(i) for i in ids], scores=[],
        counts=RunCounts(), now=T0,
    )  # fmt: skip
    pending = {e.record_id: e for e in store.pending("sf", "lead")}
    store.record_writes(
        run_id,
        "sf",
        "lead",
        [
            WriteOutcome(pending[i], "dead_lettered", "UNABLE_TO_LOCK_ROW", f"locked: {i}")
            for i in ids[:6]
        ]
        + [WriteOutcome(pending[ids[6]], "dead_lettered", "STRING_TOO_LONG", "too long")],
        now=T0,
    )
    store.close()
    assert main(["status", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-7:] == [
        *(f"  dead letter lead/{i}: UNABLE_TO_LOCK_ROW: locked: {i}" for i in ids[:5]),
        "  ... and 2 more; open dead letters by kind and code: lead UNABLE_TO_LOCK_ROW 6, "
        "lead STRING_TOO_LONG 1",
        "",
    ]
