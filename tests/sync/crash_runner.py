"""Run one sync of a config in this process and kill -9 ourselves at a chosen point.

    python -m tests.sync.crash_runner CONFIG NOW CRASH

CRASH is `page:N` (killed when the N-th page arrives, before it is processed), `write:N:before`
(killed as the N-th write call starts), `write:N:half` (killed after the CRM applied the first
half of the N-th write batch), `write:N:after` (killed after the CRM applied the whole N-th
batch, before the ledger knows), `retry` (killed when the connector first waits to send a call
again: a call cut short in flight, as the Salesforce sandbox's `cut_composite_after` does), or
`none`. Used by the crash-injection tests: nothing in
the engine runs after SIGKILL, exactly as with a crash or `kill -9` from outside.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from config.loader import load_config, load_models
from connectors.base import Change, Connector, Page, WriteResult
from sync.call_log import CallLog
from sync.connections import build_connector, outage_policy, run_options
from sync.engine import Engine
from sync.state.store import StateStore


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class Crashing:
    """Delegates to a connector and kills the process at the configured point."""

    def __init__(self, inner: Connector, crash: str) -> None:
        self.inner = inner
        self.crm = inner.crm
        parts = crash.split(":")
        self.where, self.at = parts[0], int(parts[1]) if len(parts) > 1 else 0
        self.when = parts[2] if len(parts) > 2 else ""
        self.pages = self.writes = 0

    def iter_pages(self, *args: Any, **kwargs: Any) -> Iterator[Page]:
        for page in self.inner.iter_pages(*args, **kwargs):
            self.pages += 1
            if self.where == "page" and self.pages == self.at:
                die()
            yield page

    def write(self, kind: str, changes: Sequence[Change], *, journal=None) -> list[WriteResult]:
        self.writes += 1
        hit = self.where == "write" and self.writes == self.at
        if hit and self.when == "before":
            die()
        if hit and self.when == "half":
            self.inner.write(kind, changes[: len(changes) // 2], journal=journal)
            die()
        results = self.inner.write(kind, changes, journal=journal)
        if hit:
            die()
        return results

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def main(argv: list[str]) -> int:
    config, now_text, crash = argv
    loaded = load_config(config)
    models = load_models(loaded)
    settings = loaded.settings
    conn = settings.connections[0]
    store = StateStore.open(
        settings.state_url.get_secret_value(),
        now=datetime.fromisoformat(now_text),
        table_prefix=settings.state_table_prefix,
    )
    # the calls recorded as they go, as `leadsync sync` records them
    calls = CallLog(store, conn.name, command="sync")
    connector = build_connector(
        conn, sleep=(lambda _: die()) if crash == "retry" else time.sleep, meter=calls
    )
    wrapped = Crashing(connector, crash) if crash not in ("none", "retry") else connector
    engine = Engine(store, wrapped, connection=conn.name, outage=outage_policy(conn), calls=calls)
    kind = conn.objects[0].kind
    result = engine.run(
        kind,
        models[(conn.name, kind)],
        run_options(conn, full=True, dry_run=False),
        now=datetime.fromisoformat(now_text),
    )
    print(result.status, result.counts.written)
    connector.close()
    calls.close()
    return 0 if result.finished else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
