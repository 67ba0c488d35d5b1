"""State files readable by their owner only, stored inputs cut short, no emails in logs."""

from __future__ import annotations

import io
import json
import logging
import stat

from scoring.types import Event, Record
from sync.leadership import leadership_for
from sync.lock import lock_file, run_lock
from sync.logs import mask_personal, setup_logging
from sync.state.inputs import MAX_STORED_CHARS, InputsEncoder
from sync.state.records import CursorState
from sync.state.store import StateStore
from tests.sync.fakes import BASE


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_database_folder_and_lock_are_private(tmp_path):
    folder = tmp_path / "state"
    store = StateStore.open(f"sqlite:///{folder / 'leadsync.db'}", now=BASE)
    try:
        store.put_cursor("acme", "contact", CursorState(resume="x"), now=BASE)
        with run_lock(store, "acme"):
            assert mode(lock_file(store, "acme")) == 0o600
        leadership = leadership_for(store)
        assert leadership.try_acquire()
        leadership.release()
        assert mode(folder / "leadsync.db.leader.lock") == 0o600
        assert mode(folder) == 0o700
        created = sorted(p.name for p in folder.iterdir() if p.name.startswith("leadsync.db"))
        assert "leadsync.db-wal" in created
        assert {p: mode(folder / p) for p in created} == {p: 0o600 for p in created}
    finally:
        store.close()


def test_stored_inputs_keep_model_fields_only_and_cut_long_text():
    encoder = InputsEncoder(["jobtitle", "notes"], ["page_view"])
    record = Record(
        "1",
        "contact",
        {"jobtitle": "VP", "notes": "x" * 1_048_576, "email": "ann@acme.example"},
        (
            Event("page_view", BASE, {"url": "/p?" + "q" * 100_000}),
            Event("email_open", BASE, {"subject": "hello"}),
        ),
    )
    snapshot = encoder.encode(record)
    data = json.loads(snapshot)
    assert data["p"] == {"jobtitle": "VP", "notes": "x" * MAX_STORED_CHARS}
    assert data["e"] == [["page_view", BASE.isoformat(), {"url": ("/p?" + "q" * 100_000)[:4096]}]]
    assert len(snapshot) < 2 * MAX_STORED_CHARS + 200


def test_logs_mask_email_addresses_unless_asked_to_keep_them():
    out = io.StringIO()
    log = logging.getLogger("leadsync.test")
    setup_logging("INFO", "json", out)
    log.warning("CRM said: ann.lee+x@acme.example is invalid", extra={"to": "bo@x.io"})
    setup_logging("INFO", "text", out)
    log.warning("CRM said: ann.lee+x@acme.example is invalid")
    setup_logging("INFO", "text", out, personal_data=True)
    log.warning("CRM said: ann.lee+x@acme.example is invalid")
    json_line, text_line, kept = out.getvalue().splitlines()
    assert json.loads(json_line)["msg"] == "CRM said: <email> is invalid"
    assert json.loads(json_line)["to"] == "<email>"
    assert text_line.endswith("leadsync.test: CRM said: <email> is invalid")
    assert kept.endswith("CRM said: ann.lee+x@acme.example is invalid")


def test_the_email_mask_takes_whole_addresses_beside_any_punctuation():
    assert mask_personal(
        'refused: "ann@b.io", <x@y.com> (jo.doe+1@acme.co.uk); mailto:z@q.org.'
    ) == ('refused: "<email>", <<email>> (<email>); mailto:<email>.')
    # a run of local-part characters is one match from its start, as before the lookbehind
    assert mask_personal("owner=jo@x.com") == "<email>"
    # text with an @ and no address stays whole, however long its runs
    long_run = "x" * 50_000 + "@ " + "a." * 5_000 + "@b"
    assert mask_personal(long_run) == long_run


def test_state_database_keeps_its_temporary_data_in_memory(tmp_path):
    """SQLite's statement journals (undo data of a multi-row upsert) stay in memory: no record
    data in /var/tmp, and nothing to write there on a read-only root filesystem."""
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=BASE)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY
    finally:
        store.close()
