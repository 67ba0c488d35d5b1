"""The state database cannot be written or read as it should: one located line, exit 2."""

from __future__ import annotations

import resource
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from tests.sync.hubspot_env import ROOT, sandbox, write_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sb():
    server = sandbox(1500)
    yield server
    server.stop()


def leadsync(
    env, *args: str, limit_file_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args, "--config", str(env.config)],
        cwd=ROOT,
        env=env.environ,
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=100,
        check=False,
    )


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr, stderr
    return lines[0]


def test_file_size_limit_reached_mid_run_is_one_line_exit_2(tmp_path, sb):
    env = write_config(tmp_path, sb)
    done = leadsync(env, "sync", "--full", limit_file_bytes=256 * 1024)
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert line.startswith(f"error: state database {tmp_path / 'state.db'}: ")
    assert "file size limit (ulimit -f)" in line


def test_damaged_database_fails_status_and_sync_with_exit_2(tmp_path, sb, capsys):
    env = write_config(tmp_path, sb)
    assert main(["sync", "--config", str(env.config), "--full"]) == 0
    db = tmp_path / "state.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with db.open("r+b") as handle:  # scribble over a page in the middle of the file
        handle.seek(page_size * (pages // 2))
        handle.write(b"\xa5" * page_size)
    capsys.readouterr()
    assert main(["status", "--config", str(env.config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: state database {db}: integrity check failed: ")
    assert err.strip().endswith(
        "(restore it from a backup or move it aside; the next run then starts a new state)"
    )
    assert len(err.strip().splitlines()) == 1


def test_file_that_is_not_a_database_is_one_line_exit_2(tmp_path, sb, capsys):
    env = write_config(tmp_path, sb)
    (tmp_path / "state.db").write_bytes(b"this is not a database" * 100)
    assert main(["status", "--config", str(env.config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: state database {tmp_path / 'state.db'}: file is not a database (the file is "
        "damaged or not a SQLite database: restore it from a backup or move it aside (the next "
        "run then starts a new state))"
    )


@pytest.mark.skipif(shutil.which("chattr") is None, reason="chattr is not installed")
def test_read_only_database_is_one_line_exit_2(tmp_path, sb, capsys):
    env = write_config(tmp_path, sb)
    assert main(["sync", "--config", str(env.config), "--full"]) == 0
    files = [
        p for p in tmp_path.iterdir() if p.name.startswith("state.db") and "lock" not in p.name
    ]
    frozen: list[Path] = []
    try:
        for path in files:
            if subprocess.run(["chattr", "+i", str(path)], check=False).returncode != 0:
                pytest.skip("this file system cannot make files immutable")
            frozen.append(path)
        capsys.readouterr()
        assert main(["sync", "--config", str(env.config), "--full"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: state database {tmp_path / 'state.db'}: ")
        assert err.endswith("read-only: give the leadsync user write access)")
        assert len(err.splitlines()) == 1
    finally:
        for path in frozen:
            subprocess.run(["chattr", "-i", str(path)], check=False)
