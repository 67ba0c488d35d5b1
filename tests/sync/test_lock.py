"""The run lock: one run per connection, across threads and processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sync.lock import LockBusy, run_lock
from sync.state.store import StateStore
from tests.sync.conftest import postgres_url, unique_prefix
from tests.sync.fakes import BASE
from tests.waiting import wait_until

HOLDER = textwrap.dedent(
    """
    import sys
    from sync.lock import run_lock
    from sync.state.store import StateStore
    from tests.sync.fakes import BASE
    url, prefix = sys.argv[1], sys.argv[2]
    store = StateStore.open(url, now=BASE, table_prefix=prefix)
    with run_lock(store, "acme"):
        print("locked", flush=True)
        sys.stdin.readline()  # held until the test writes a line (or kills us)
    """
)


def _wait_for_lock(proc: subprocess.Popen[str]) -> None:
    """Block until the holder says it took the lock (a line on its stdout, no polling)."""
    line = proc.stdout.readline()  # type: ignore[union-attr]
    if line.strip() != "locked":
        raise AssertionError(f"holder exited early: {proc.stderr.read()}")  # type: ignore[union-attr]


def _free(store: StateStore) -> bool:
    """True when the run lock could be taken (and was released again)."""
    try:
        with run_lock(store, "acme"):
            return True
    except LockBusy:
        return False


def _holder(url: str, prefix: str) -> subprocess.Popen[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, prefix],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_same_connection_is_exclusive_and_other_connections_are_not(store):
    with run_lock(store, "acme"):
        with pytest.raises(LockBusy, match="'acme' is already running"), run_lock(store, "acme"):
            pass
        with run_lock(store, "other"):
            pass
    with run_lock(store, "acme"):  # released
        pass


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("end", ["release", "kill -9"])
def test_another_process_holding_the_lock_keeps_us_out_until_it_ends(tmp_path, backend, end):
    if backend == "sqlite":
        url, prefix = f"sqlite:///{tmp_path / 'state.db'}", "leadsync_"
    else:
        url, prefix = postgres_url(), unique_prefix()
    store = StateStore.open(url, now=BASE, table_prefix=prefix)
    holder = _holder(url, prefix)
    try:
        _wait_for_lock(holder)
        with pytest.raises(LockBusy), run_lock(store, "acme"):
            pass
        if end == "release":
            holder.communicate("release\n", timeout=20)
            assert holder.returncode == 0
        else:
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=20)
        # PostgreSQL notices the dead session's end within moments, and nothing tells this
        # process when: polled, with a deadline.
        wait_until(lambda: _free(store), what="the lock to be freed", timeout=10)
    finally:
        holder.kill()
        holder.wait()
        if backend == "postgresql":
            store.drop_all()
        store.close()
