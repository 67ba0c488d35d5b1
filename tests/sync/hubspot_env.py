"""Helpers for end-to-end tests against the HubSpot sandbox: configs, CRM state, subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sandbox.hubspot import HubSpotSandbox
from scoring.types import OUTPUT_NAMES

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "config" / "examples" / "models" / "hubspot-professional.yaml"
#: The sandbox's data and every scoring in these tests are as of this moment.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOKEN_VAR = "LEADSYNC_TEST_HUBSPOT_TOKEN"


class SandboxClock:
    """The sandbox's clock (write timestamps, rate windows): starts at NOW, moved by tests."""

    def __init__(self) -> None:
        self.t = NOW.timestamp()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def sandbox(contacts: int, **kwargs: object) -> HubSpotSandbox:
    """A started sandbox with no practical rate limit unless given, on a test clock."""
    kwargs.setdefault("rate_limit_10s", 100_000)
    kwargs.setdefault("search_per_second", 100_000)
    kwargs.setdefault("clock", SandboxClock())
    kwargs.setdefault("tier", "professional")
    return HubSpotSandbox(contacts=contacts, now=NOW, **kwargs).start()  # type: ignore[arg-type]


@dataclass
class Env:
    """A config file pointing at a sandbox, and the environment to run `leadsync` with it."""

    folder: Path
    config: Path
    state_url: str
    environ: dict[str, str]


def write_config(
    folder: Path,
    sb: HubSpotSandbox,
    *,
    state_url: str | None = None,
    prefix: str = "leadsync_",
    chunk_size: int = 1000,
    extra: str = "",
) -> Env:
    """A leadsync.yaml for one HubSpot connection `hs` on `sb` (token from the environment)."""
    url = state_url or f"sqlite:///{folder / 'state.db'}"
    text = f"""\
state_url: {url}
state_table_prefix: {prefix}
connections:
  - name: hs
    crm: hubspot
    hubspot: {{base_url: "{sb.url}", access_token: "${{{TOKEN_VAR}}}", tier: professional,
               timeout: 5}}
    objects:
      - {{kind: contact, model: {MODEL}}}
    outage: {{first_pause: 1s, max_pause: 20s}}
    write: {{chunk_size: {chunk_size}}}
{extra}"""
    config = folder / "leadsync.yaml"
    config.write_text(text)
    environ = {**os.environ, TOKEN_VAR: sb.token, "PYTHONPATH": str(ROOT)}
    os.environ[TOKEN_VAR] = sb.token
    return Env(folder, config, url, environ)


def crm_state(sb: HubSpotSandbox) -> dict[str, dict[str, str | None]]:
    """Every contact's leadsync output values in the sandbox (without the moving `scored_at`)."""
    table = sb.store.table("contacts")
    names = [n for n in OUTPUT_NAMES if n != "scored_at"]
    with sb.store.lock:
        return {
            str(i): {n: table.text(table.rows[i], f"leadsync_{n}") for n in names}
            for i in table.ids
            if not table.rows[i].archived
        }


def popen(env: Env, *args: str) -> subprocess.Popen[str]:
    """Start a Python module (`-m ...`) in the background with the test environment."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def linked(sb: HubSpotSandbox, object_type: str) -> set[int]:
    """Ids of the `object_type` records linked to live contacts (primary company only)."""
    store = sb.store
    table = store.table("contacts")
    found: set[int] = set()
    with store.lock:
        for contact in table.ids:
            if table.rows[contact].archived:
                continue
            ids = store.associated("contacts", contact, object_type)
            found.update(ids[:1] if object_type == "companies" else ids)
    return found


def full_run_minimum(sb: HubSpotSandbox, live: int, written: int) -> int:
    """The fewest calls a full run of the example model can make at HubSpot's batch sizes:
    lists and writes of 100, per 1,000 contacts one association call for each of companies,
    meetings and calls, the linked records 100 a batch read, and the call dispositions once."""
    related = sum(-(-len(linked(sb, t)) // 100) for t in ("companies", "meetings", "calls"))
    return -(-live // 100) + -(-written // 100) + 3 * -(-live // 1000) + related + 1
