"""State database failures the operator must fix, as one located line (the CLI exits 2).

SQLite reports a read-only file or folder, a full disk, a file size limit (`ulimit -f`: CPython
ignores SIGXFSZ, so the write fails with EFBIG) and a damaged file as `OperationalError` or
`DatabaseError` with a short message; PostgreSQL as a refused or lost connection. Each becomes a
`StateDatabaseError` naming the database and what to do, instead of a traceback.
"""

from __future__ import annotations

import sqlalchemy as sa

from config.errors import UserError

_READ_ONLY = "the database file or its folder is read-only: give the leadsync user write access"
_NO_SPACE = (
    "the disk is full or the file size limit (ulimit -f) is reached: free space or raise the limit"
)
_DAMAGED = (
    "the file is damaged or not a SQLite database: restore it from a backup or move it aside "
    "(the next run then starts a new state)"
)

#: (fragment of the driver's message, lower case; what it means and what to do)
_HINTS = (
    ("readonly", _READ_ONLY),
    ("read-only", _READ_ONLY),
    ("disk is full", _NO_SPACE),
    ("disk i/o error", _NO_SPACE + " (or the disk failed)"),
    ("file too large", _NO_SPACE),
    ("no space left", _NO_SPACE),
    ("file is not a database", _DAMAGED),
    ("malformed", _DAMAGED),
    ("unable to open database file", "check the path, its folder and their permissions"),
    ("connection refused", "the database server refuses connections: check state_url"),
    ("could not translate host name", "the database host is unknown: check state_url"),
)


class StateDatabaseError(UserError):
    """The state database cannot be used as it is; the message names it and the fix."""


def database_name(url: sa.URL | str) -> str:
    """The database as the operator knows it: the SQLite file, or the URL without a password."""
    parsed = sa.make_url(url) if isinstance(url, str) else url
    if parsed.drivername.startswith("sqlite"):
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def state_error(exc: BaseException, url: sa.URL | str) -> StateDatabaseError | None:
    """A `StateDatabaseError` for a driver or file-system failure the operator can fix, or None
    (a bug stays an exception with its traceback)."""
    if isinstance(exc, sa.exc.DBAPIError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    elif isinstance(exc, OSError):
        detail = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    else:
        return None
    lower = detail.lower()
    hint = next((h for fragment, h in _HINTS if fragment in lower), None)
    if hint is None and isinstance(exc, OSError):
        hint = "check the folder of the database, its free space and permissions"
    if hint is None:
        return None
    return StateDatabaseError(f"state database {database_name(url)}: {detail} ({hint})")
