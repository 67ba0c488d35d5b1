"""Fault campaign: a full HubSpot sync through every fault at once, against a fault-free run.

Two sandboxes with the same seed (the same 20,000 contacts by default, 190 calls per rolling
10 s, 30 ms latency). On the first, `leadsync sync --full` runs once without faults: the
reference state and wall time. On the second it runs under

* 5% of requests refused with 429, 2% answered 500/502/503/504 (0.5% each), 1% held past the
  client's timeout (5 s here), and 1% of the records of each batch update failing inside a 207
  (HubSpot's multi-status reply, `INTERNAL_ERROR` per record);
* a 60 s outage (every request 503) once 40% of the reference's write batches have landed;
* five kill -9 of the sync process at request counts drawn from a seeded generator (between 5%
  and 90% of the reference's requests); a supervisor restarts it at once, as systemd or
  Kubernetes would, until a run succeeds.

Figures (goals from issue 15; the last line is one JSON object, `bench.goals`):

* final-state difference: contacts whose leadsync properties differ from the reference [0];
* lost writes: pending outbox entries, open dead letters and applied ledger rows the CRM does
  not hold at the end [0];
* writes repeated: updates the sandbox applied beyond one per contact [at most one HubSpot batch,
  100, per kill];
* wall time of the campaign against the reference run [the issue states no goal; our ceiling is
  the reference twice plus what the faults cost by construction: the outage and the engine's
  doubling pauses that span it (5 + 10 + 20 + 40 s), the timeouts (1% of the reference's calls x
  the 5 s client timeout) and 10 s per kill for a restart].

    .venv/bin/python bench/fault_campaign.py [--contacts 20000] [--seed 15]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.goals import Figure, report, shared_cpu
from sandbox.hubspot import HubSpotSandbox
from scoring.types import OUTPUT_NAMES
from sync.state.store import StateStore

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MODEL = ROOT / "config" / "examples" / "models" / "hubspot-professional.yaml"
TOKEN_VAR = "BENCH_HUBSPOT_TOKEN"
RATES: dict[str, float] = {
    "rate_429": 0.05,
    "burst_429": 1,
    "error_500": 0.005,
    "error_502": 0.005,
    "error_503": 0.005,
    "error_504": 0.005,
    "timeout": 0.01,
    "timeout_s": 8.0,
    "partial_207": 0.01,
}
OUTAGE_S = 60.0
#: The engine's pauses through a 60 s outage: 5, 10, 20, then 40 s (`outage.first_pause` 5 s).
OUTAGE_PAUSES_S = 75.0
CLIENT_TIMEOUT_S = 5.0
KILLS = 5
BATCH = 100  # HubSpot batch update size: the most one kill may repeat
RESTART_S = 10.0


def make_sandbox(contacts: int, seed: int) -> HubSpotSandbox:
    """A sandbox with HubSpot's professional limits, 30 ms latency, on the wall clock."""
    return HubSpotSandbox(
        contacts=contacts, seed=seed, now=NOW, tier="professional", rate_limit_10s=190,
        latency_ms=30,
    ).start()  # fmt: skip


def configure(folder: Path, sb: HubSpotSandbox) -> tuple[Path, dict[str, str]]:
    """A leadsync.yaml for `sb` in `folder` and the environment holding its token."""
    config = folder / "leadsync.yaml"
    config.write_text(
        f"state_url: sqlite:///{folder / 'state.db'}\nconnections:\n"
        f"  - name: hs\n    crm: hubspot\n"
        f'    hubspot: {{base_url: "{sb.url}", access_token: "${{{TOKEN_VAR}}}", '
        f"tier: professional, timeout: {CLIENT_TIMEOUT_S:g}}}\n"
        f"    objects: [{{kind: contact, model: {MODEL}}}]\n"
        "    write: {chunk_size: 1000}\n"
        "logging: {level: WARNING}\n"
    )
    environ = {**os.environ, TOKEN_VAR: sb.token, "PYTHONPATH": str(ROOT)}
    leadsync(config, environ, "setup", "--apply").check_returncode()
    return config, environ


def leadsync(config: Path, environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one leadsync command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args, "--config", str(config)],
        cwd=ROOT, env=environ, capture_output=True, text=True, check=False,
    )  # fmt: skip


def sync_process(config: Path, environ: dict[str, str]) -> subprocess.Popen[str]:
    """`leadsync sync --full` in the background (killed with SIGKILL by the campaign)."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "sync", "--full", "--config", str(config),
         "--now", NOW.isoformat()],
        cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def served(sb: HubSpotSandbox) -> int:
    """Requests the sandbox answered so far (any status)."""
    return sum(sum(statuses.values()) for statuses in sb.request_counts().values())


def batches_applied(sb: HubSpotSandbox) -> int:
    """Batch updates the sandbox answered 200 or 207."""
    counts = sb.request_counts()
    return sum(
        n
        for label, statuses in counts.items()
        if label.endswith("/batch/update")
        for status, n in statuses.items()
        if str(status) in ("200", "207")
    )


def outputs(sb: HubSpotSandbox) -> dict[int, tuple[str | None, ...]]:
    """Each live contact's leadsync values (`scored_at` included: every run scores at NOW)."""
    table = sb.store.table("contacts")
    with sb.store.lock:
        return {
            i: tuple(table.text(table.rows[i], f"leadsync_{name}") for name in OUTPUT_NAMES)
            for i in table.ids
            if not table.rows[i].archived
        }


def lost_writes(folder: Path, sb: HubSpotSandbox) -> int:
    """Planned writes that never landed: left in the outbox, dead-lettered, or ledgered as
    applied with values the CRM does not hold."""
    store = StateStore.open(f"sqlite:///{folder / 'state.db'}", now=NOW)
    try:
        latest = {r.record_id: r for r in store.ledger("hs", "contact") if r.status == "applied"}
        crm = outputs(sb)
        names = list(OUTPUT_NAMES)
        wrong = sum(
            1
            for record_id, row in latest.items()
            if any(
                name in row.new_values
                and str(row.new_values[name]) != str(crm[int(record_id)][names.index(name)])
                for name in ("score", "grade", "label")
            )
        )
        return store.pending_count("hs") + len(store.dead_letters("hs")) + wrong
    finally:
        store.close()


def reference(contacts: int, seed: int, folder: Path) -> tuple[dict[int, Any], float, int, int]:
    """The fault-free run: final outputs, wall time, requests and write batches."""
    sb = make_sandbox(contacts, seed)
    try:
        config, environ = configure(folder, sb)
        started = time.monotonic()
        done = leadsync(config, environ, "sync", "--full", "--now", NOW.isoformat())
        elapsed = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"the fault-free run failed: {done.stderr[-2000:]}")
        return outputs(sb), elapsed, served(sb), batches_applied(sb)
    finally:
        sb.stop()


class Campaign:
    """The faulted sandbox, its supervisor loop, the kills and the outage."""

    def __init__(self, sb: HubSpotSandbox, kill_at: list[int], outage_after: int) -> None:
        self.sb = sb
        self.kill_at = kill_at
        self.outage_after = outage_after
        self.kills = 0
        self.runs = 0
        self.outage: tuple[float, float] | None = None  # (start, end) in monotonic seconds

    def run(self, config: Path, environ: dict[str, str]) -> float:
        """Supervise `sync --full` until a run succeeds; returns the wall time."""
        self.sb.faults.set(**RATES)
        started = time.monotonic()
        while True:
            self.runs += 1
            proc = sync_process(config, environ)
            killed = self._watch(proc)
            if not killed and proc.returncode == 0:
                break
            if self.runs > 30:
                raise SystemExit("no run succeeded after 30 starts")
        return time.monotonic() - started

    def _watch(self, proc: subprocess.Popen[str]) -> bool:
        """Until `proc` ends (or is killed here); True when it was killed."""
        while proc.poll() is None:
            self._tick()
            if self.kills < len(self.kill_at) and served(self.sb) >= self.kill_at[self.kills]:
                proc.kill()
                proc.wait()
                self.kills += 1
                print(f"kill -9 #{self.kills} after {served(self.sb):,} requests", flush=True)
                return True
            time.sleep(0.05)
        return False

    def _tick(self) -> None:
        now = time.monotonic()
        if self.outage is None and batches_applied(self.sb) >= self.outage_after:
            self.sb.faults.set(error_503=1.0)
            self.outage = (now, 0.0)
            print(f"outage: every request 503 for {OUTAGE_S:.0f} s", flush=True)
        elif self.outage is not None and self.outage[1] == 0.0 and now - self.outage[0] >= OUTAGE_S:
            self.sb.faults.set(error_503=RATES["error_503"])
            self.outage = (self.outage[0], now)
            print("outage over", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="leadsync-faults-"))
    (root / "reference").mkdir()
    (root / "campaign").mkdir()
    expected, reference_s, requests, write_batches = reference(
        args.contacts, args.seed, root / "reference"
    )
    print(
        f"fault-free: {len(expected):,} contacts, {requests:,} requests, {write_batches} write "
        f"batches, {reference_s:.1f} s",
        flush=True,
    )
    rng = random.Random(args.seed)
    kill_at = sorted(rng.sample(range(requests // 20, requests * 9 // 10), KILLS))
    sb = make_sandbox(args.contacts, args.seed)
    try:
        config, environ = configure(root / "campaign", sb)
        campaign = Campaign(sb, kill_at, outage_after=write_batches * 2 // 5)
        campaign_s = campaign.run(config, environ)
        final = outputs(sb)
        difference = sum(1 for i, values in expected.items() if final.get(i) != values)
        updates = sb.store.table("contacts").updates
        repeated = sum(n - 1 for n in updates.values() if n > 1)
        lost = lost_writes(root / "campaign", sb)
        statuses: Counter[str] = Counter()
        for by_status in sb.request_counts().values():
            for status, n in by_status.items():
                statuses[str(status)] += n
    finally:
        sb.stop()
    print(
        f"campaign: {campaign.runs} starts, {campaign.kills} kills, {sum(statuses.values()):,} "
        f"requests ({statuses['429']:,} 429, {statuses['503']:,} 503, {statuses['207']:,} 207), "
        f"{campaign_s:.1f} s",
        flush=True,
    )
    timeouts_s = RATES["timeout"] * requests * CLIENT_TIMEOUT_S
    ceiling = reference_s * 2 + OUTAGE_PAUSES_S + timeouts_s + RESTART_S * KILLS
    report(
        [
            Figure("final_state_difference", difference, 0, "contacts", at_most=True),
            Figure("lost_writes", lost, 0, "writes", at_most=True),
            Figure("writes_repeated", repeated, BATCH * campaign.kills, "writes", at_most=True,
                   note=f"one batch of {BATCH} per kill, {campaign.kills} kills"),
            Figure("kills", campaign.kills, KILLS, note="kill -9 of the sync process"),
            Figure("campaign_wall_s", round(campaign_s, 1), round(ceiling, 1), "s", at_most=True,
                   note=f"our ceiling: fault-free {reference_s:.1f} s x 2 + "
                   f"{OUTAGE_PAUSES_S:.0f} s of outage pauses + {timeouts_s:.0f} s of timeouts "
                   f"+ {RESTART_S:.0f} s a kill"),
        ],
        contacts=args.contacts,
        seed=args.seed,
        reference_s=round(reference_s, 1),
        # context, not a second judgement of the same wall time against the same ceiling
        wall_time_vs_fault_free=round(campaign_s / reference_s, 2),
        starts=campaign.runs,
        kill_at_requests=kill_at,
        **shared_cpu(),
    )  # fmt: skip


if __name__ == "__main__":
    main()
