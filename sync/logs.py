"""Logging setup: JSON lines (one object per line, for log shippers) or plain text.

Logs leave the machine (shippers, support tickets), so by default they carry no personal data:
leadsync logs record ids, counts and codes, never property values, and every email address that
still reaches a line (inside a CRM error text or an exception) is masked as `<email>`.
`logging.personal_data: true` keeps them, for debugging on a trusted host. Configured secret
values are masked as `<secret>` in every line, whatever the setting (`config.redaction`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from config.redaction import redact

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
#: The lookbehind starts a match only where a run of local-part characters starts: without it a
#: long run with no `@domain` after it was scanned again from each of its characters, time
#: growing with the square of the line (2.5 s for a 40,000-character line).
_EMAIL = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def mask_personal(line: str) -> str:
    """`line` with every email address replaced by `<email>`."""
    return _EMAIL.sub("<email>", line) if "@" in line else line


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", ...extra}`; `extra=` fields become keys."""

    def __init__(self, *, personal_data: bool = False) -> None:
        super().__init__()
        self.personal_data = personal_data

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        line = redact(json.dumps(entry, default=str, separators=(",", ":")))
        return line if self.personal_data else mask_personal(line)


class TextFormatter(logging.Formatter):
    """`time level logger: message key=value ...`."""

    def __init__(self, *, personal_data: bool = False) -> None:
        super().__init__()
        self.personal_data = personal_data

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(
            f"{k}={v}"
            for k, v in vars(record).items()
            if k not in _STANDARD and not k.startswith("_") and v is not None
        )
        when = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        line = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}"
        line = f"{line} {extra}" if extra else line
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        line = redact(line)
        return line if self.personal_data else mask_personal(line)


def setup_logging(
    level: str = "INFO",
    fmt: str = "json",
    stream: TextIO | None = None,
    *,
    personal_data: bool = False,
) -> None:
    """Send leadsync's logs to `stream` (stderr) in `fmt`, replacing earlier handlers; email
    addresses masked unless `personal_data`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    handler.setFormatter(formatter(personal_data=personal_data))
    root = logging.getLogger("leadsync")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
