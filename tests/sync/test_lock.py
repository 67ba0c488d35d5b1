"""The run lock: one run per connection, across threads and processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sync.lock import LockBusy, run_lock
from sync.state.store import StateStore
from tests.sync.conftest import postgres_url, unique_prefix
from tests.sync.fakes import BASE

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sync.lock import run_lock
    from sync.state.store import StateStore
    from tests.sync.fakes import BASE
    url, prefix, flag = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    store = StateStore.open(url, now=BASE, table_prefix=prefix)
    with run_lock(store, "acme"):
        flag.write_text("locked")
        while not flag.with_suffix(".release").exists():
            time.sleep(0.02)
    """
)


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"holder exited early: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise AssertionError("holder never took the lock")
        time.sleep(0.02)


def _holder(url: str, prefix: str, flag: Path) -> subprocess.Popen[bytes]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, prefix, str(flag)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stderr=subprocess.PIPE,
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
    flag = tmp_path / "flag"
    holder = _holder(url, prefix, flag)
    try:
        _wait_for(flag, holder)
        with pytest.raises(LockBusy), run_lock(store, "acme"):
            pass
        if end == "release":
            flag.with_suffix(".release").write_text("go")
            assert holder.wait(timeout=20) == 0
        else:
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=20)
        deadline = time.monotonic() + 10
        while True:  # PostgreSQL notices the dead session's end within moments
            try:
                with run_lock(store, "acme"):
                    break
            except LockBusy:
                assert time.monotonic() < deadline, "lock never freed"
                time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait()
        if backend == "postgresql":
            store.drop_all()
        store.close()
