"""`leadsync demo` end to end on a small sandbox."""

from __future__ import annotations

import re

from cli.main import main


def test_demo_syncs_the_sandbox_and_shows_an_incremental_run_writing_nothing(capsys):
    assert main(["demo", "--contacts", "250"]) == 0
    out = capsys.readouterr().out
    assert "Starting a HubSpot sandbox with 250 contacts" in out
    assert "setup --apply: created 10 leadsync_* contact properties" in out
    assert re.search(r"demo-hubspot\s+contact\s+full\s+succeeded\s+250\s+250\s", out)
    assert "Score distribution of 250 contacts:" in out
    assert out.count("\n", out.index("Ten best leads:"), out.index("API calls:")) == 14
    assert (
        "API calls: 14 for 250 contacts read and 250 written; the minimum is 14 (3 reads + "
        "3 writes of 100 + 8 for companies, meetings and calls)" in out
    )
    # our own writes come back: two searches of 200, nothing scored, no engagement read; and
    # one search of the companies changed since (the model reads company values), none
    assert re.search(r"Incremental sync: read 250 records .* wrote 0, 3 API calls,", out)
