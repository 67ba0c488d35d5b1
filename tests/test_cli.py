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
