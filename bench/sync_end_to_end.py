"""Benchmark: the whole sync (connector, scoring, plan, state store, writes) against the HubSpot
sandbox. Model: `config/examples/models/hubspot-professional.yaml` (properties and rollups only,
so the minimum cost of a run is one read per 100 contacts plus one write per 100 changes).

Phases (figures in the closing JSON):

1. limited: 20,000 contacts, 80 ms median latency, 190 calls per rolling 10 s, sandbox in this
   process. A full run: API calls against the minimum ceil(N/100) reads + ceil(written/100)
   writes (target <= 1.02x) and seconds against what the limit allows for those calls,
   calls x 10 s / 190 (target <= 1.15x). Then the sandbox clock moves 5 minutes and an
   incremental run re-reads our own writes (it writes only records whose interest crossed a
   recency band in those minutes); the clock moves again, 1% of the contacts get new activity,
   and an incremental run must cost at most the reads of the changed records
   (ceil(changed/100)) plus ceil(written/100) writes.
2. throughput: 20,000 contacts, no limit, no latency, a full run on a fresh sandbox and state
   store; contacts per second end to end (target >= 3,000), with the sandbox in this process (one
   GIL for both) and with the sandbox in its own process (each on its own core); the median of
   `--runs` runs of each, every run printed (a shared VM's speed drifts by 10% between runs).
3. memory: peak RSS of a process running a full sync of 20,000 and of 100,000 contacts (the
   sandbox in another process, so the figure is leadsync's alone; target: flat).

The machine is shared with other work; run it when it is quiet for stable timings.

    .venv/bin/python bench/sync_end_to_end.py [--contacts 20000] [--rss-sizes 20000,100000]
        [--runs 3] [--only limited|throughput|memory]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.model_loader import load_model  # noqa: E402
from connectors.hubspot import HubSpotConnector, HubSpotOptions  # noqa: E402
from connectors.outputs import output_fields  # noqa: E402
from sandbox.hubspot import HubSpotSandbox  # noqa: E402
from sync.engine import Engine, RunOptions  # noqa: E402
from sync.state.store import StateStore  # noqa: E402

MODEL = ROOT / "config" / "examples" / "models" / "hubspot-professional.yaml"
LIMIT_10S = 190
UNLIMITED = 10**9

SERVER = """
import json, sys
from sandbox.hubspot import HubSpotSandbox
sandbox = HubSpotSandbox(contacts={n}, rate_limit_10s={limit}, search_per_second={limit},
                         tier="professional").start()
print(json.dumps({{"url": sandbox.url, "token": sandbox.token}}), flush=True)
sys.stdin.read()
sandbox.stop()
"""


class Clock:
    """The sandbox's clock (real time plus an offset the bench moves) and the engine's."""

    def __init__(self) -> None:
        self.offset = 0.0

    def seconds(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.seconds(), UTC)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def minimum(reads_of: int, writes_of: int, linked: int = 0) -> int:
    """The fewest calls that can read `reads_of` and write `writes_of` records, 100 a call,
    with the model's company, meeting and call rules: one associations call per 1,000 records
    and source, `linked` = the batch reads of the linked records (100 a call), and the call
    dispositions once."""
    related = 3 * math.ceil(reads_of / 1000) + linked + 1 if reads_of else 0
    return math.ceil(reads_of / 100) + math.ceil(writes_of / 100) + related


def linked_reads(sandbox: HubSpotSandbox) -> int:
    """Batch reads of 100 that the companies, meetings and calls of the contacts take."""
    kinds = ("companies", "meetings", "calls")
    return sum(math.ceil(len(sandbox.store.linked_to_contacts(k)) / 100) for k in kinds)


def activity(sandbox: HubSpotSandbox, count: int, clock: Clock) -> set[str]:
    """New activity on `count` distinct contacts, each at its own millisecond (as real traffic
    arrives; one shared timestamp would make the search walk page a block by id)."""
    changed: set[str] = set()
    start = clock.now()
    while len(changed) < count:
        at = start - timedelta(milliseconds=count - len(changed))
        changed.update(sandbox.mutate(1, at=at))
    return changed


def live_contacts(sandbox: HubSpotSandbox) -> int:
    table = sandbox.store.table("contacts")
    return sum(1 for i in table.ids if not table.rows[i].archived)


def limited(contacts: int, folder: Path) -> dict[str, Any]:
    """Phase 1: calls and time of full and incremental runs under HubSpot's limit."""
    clock = Clock()
    sandbox = HubSpotSandbox(
        contacts=contacts,
        latency_ms=80,
        rate_limit_10s=LIMIT_10S,
        tier="professional",
        clock=clock.seconds,
    ).start()
    model = load_model(MODEL)
    connector = HubSpotConnector(
        HubSpotOptions(base_url=sandbox.url, access_token=SecretStr(sandbox.token))
    )
    store = StateStore.open(f"sqlite:///{folder / 'limited.db'}", now=clock.now())
    try:
        connector.ensure_schema("contact", output_fields(model.grades, model.labels), apply=True)
        engine = Engine(store, connector, connection="bench", clock=clock.now)
        n = live_contacts(sandbox)
        full = engine.run("contact", model, RunOptions(full=True))
        full_min = minimum(n, full.counts.written, linked_reads(sandbox))
        allowed = full.counts.api_calls * 10 / LIMIT_10S
        print(
            f"full run, {n:,} contacts, 80 ms, {LIMIT_10S}/10 s: {full.counts.api_calls} calls "
            f"(minimum {full_min}, {full.counts.api_calls / full_min:.3f}x), "
            f"{full.elapsed_s:.1f} s (the limit allows {allowed:.1f} s, "
            f"{full.elapsed_s / allowed:.3f}x), {full.counts.rate_limited} 429s"
        )
        # next incremental run 5 minutes later: it re-reads our own writes, and its watermark
        # passes them (start - overlap), so later runs read only new changes
        clock.advance(300)
        absorb = engine.run("contact", model, RunOptions())
        print(
            f"incremental after the full run: read {absorb.counts.read:,} (our own writes), "
            f"wrote {absorb.counts.written}, {absorb.counts.api_calls} calls, "
            f"{absorb.elapsed_s:.1f} s"
        )
        clock.advance(300)
        changed = activity(sandbox, n // 100, clock)
        clock.advance(1)
        after = engine.run("contact", model, RunOptions())
        store_ = sandbox.store
        linked_changed = sum(
            math.ceil(
                len({x for c in changed for x in store_.associated("contacts", int(c), k)[:cap]})
                / 100
            )
            for k, cap in (("companies", 1), ("meetings", None), ("calls", None))
        )
        inc_min = minimum(len(changed), after.counts.written, linked_changed)
        print(
            f"incremental after {len(changed)} contacts changed: read {after.counts.read}, "
            f"wrote {after.counts.written}, {after.counts.api_calls} calls "
            f"(at most {inc_min} allowed), {after.elapsed_s:.1f} s"
        )
        return {
            "contacts": n,
            "full_calls": full.counts.api_calls,
            "full_min_calls": full_min,
            "full_calls_ratio": round(full.counts.api_calls / full_min, 4),
            "full_seconds": round(full.elapsed_s, 2),
            "full_limit_seconds": round(allowed, 2),
            "full_time_ratio": round(full.elapsed_s / allowed, 4),
            "full_429s": full.counts.rate_limited,
            "own_writes_reread": absorb.counts.read,
            "own_writes_rewritten": absorb.counts.written,
            "changed": len(changed),
            "incremental_read": after.counts.read,
            "incremental_written": after.counts.written,
            "incremental_calls": after.counts.api_calls,
            "incremental_max_calls": inc_min,
        }
    finally:
        connector.close()
        store.close()
        sandbox.stop()


def _full_run(url: str, token: str, db: Path) -> tuple[float, int, int]:
    """A full run against `url`; (seconds, records read, API calls)."""
    model = load_model(MODEL)
    connector = HubSpotConnector(HubSpotOptions(base_url=url, access_token=SecretStr(token)))
    store = StateStore.open(f"sqlite:///{db}", now=datetime.now(UTC))
    try:
        connector.ensure_schema("contact", output_fields(model.grades, model.labels), apply=True)
        engine = Engine(store, connector, connection="bench")
        result = engine.run("contact", model, RunOptions(full=True))
        assert result.status == "succeeded", result.error
        return result.elapsed_s, result.counts.read, result.counts.api_calls
    finally:
        connector.close()
        store.close()


def throughput(contacts: int, folder: Path, runs: int) -> dict[str, Any]:
    """Phase 2: contacts per second with no limit and no latency (median of `runs` runs)."""
    same: list[float] = []
    apart: list[float] = []
    for n in range(runs):
        sandbox = HubSpotSandbox(
            contacts=contacts,
            rate_limit_10s=UNLIMITED,
            search_per_second=UNLIMITED,
            tier="professional",
        ).start()
        try:
            seconds, read, _ = _full_run(sandbox.url, sandbox.token, folder / f"same{n}.db")
        finally:
            sandbox.stop()
        same.append(read / seconds)
        print(
            f"throughput, sandbox in this process: {read:,} contacts in {seconds:.2f} s, "
            f"{same[-1]:,.0f} contacts/s"
        )
        with SandboxProcess(contacts) as (url, token):
            seconds, read, _ = _full_run(url, token, folder / f"apart{n}.db")
        apart.append(read / seconds)
        print(
            f"throughput, sandbox in its own process: {read:,} contacts in {seconds:.2f} s, "
            f"{apart[-1]:,.0f} contacts/s"
        )
    return {
        "same_process_per_s": round(statistics.median(same)),
        "separate_process_per_s": round(statistics.median(apart)),
        "separate_process_runs": [round(x) for x in apart],
    }


class SandboxProcess:
    """The sandbox in a child process, for as long as the `with` block runs."""

    def __init__(self, contacts: int) -> None:
        self.contacts = contacts

    def __enter__(self) -> tuple[str, str]:
        code = SERVER.format(n=self.contacts, limit=UNLIMITED)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        return info["url"], info["token"]

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def memory(sizes: list[int], folder: Path) -> dict[str, Any]:
    """Phase 3: peak RSS of a process running a full sync, per size."""
    out: dict[str, Any] = {}
    for n in sizes:
        with SandboxProcess(n) as (url, token):
            child = subprocess.run(
                [sys.executable, __file__, "--child", url, token, str(folder / f"rss{n}.db")],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"memory, {figures['read']:,} contacts: peak RSS {figures['peak_rss_mb']:.0f} MB, "
            f"{figures['seconds']:.1f} s"
        )
        out[str(n)] = figures["peak_rss_mb"]
    return out


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux keeps `ru_maxrss` across exec, so a child started from
    a bench process already holding earlier phases' data would report the parent's peak;
    `VmHWM` belongs to the new program's memory alone."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(url: str, token: str, db: str) -> None:
    """`--child`: one full run, then this process's peak RSS as JSON."""
    seconds, read, calls = _full_run(url, token, Path(db))
    peak_mb = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "read": read, "calls": calls, "peak_rss_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--rss-sizes", default="20000,100000")
    parser.add_argument("--child", nargs=3, metavar=("URL", "TOKEN", "DB"))
    parser.add_argument("--only", choices=("limited", "throughput", "memory"))
    parser.add_argument("--runs", type=int, default=3, help="throughput runs per setting")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="leadsync-bench-") as tmp:
        folder = Path(tmp)
        figures: dict[str, Any] = {}
        targets: dict[str, bool] = {}
        if args.only in (None, "limited"):
            lim = figures["limited"] = limited(args.contacts, folder)
            targets["full_calls_ratio_le_1_02"] = lim["full_calls_ratio"] <= 1.02
            targets["full_time_ratio_le_1_15"] = lim["full_time_ratio"] <= 1.15
            targets["incremental_calls_le_changed_reads_plus_writes"] = (
                lim["incremental_calls"] <= lim["incremental_max_calls"]
            )
        if args.only in (None, "throughput"):
            tp = figures["throughput"] = throughput(args.contacts, folder, args.runs)
            best = max(tp["same_process_per_s"], tp["separate_process_per_s"])
            targets["throughput_ge_3000"] = best >= 3000
        if args.only in (None, "memory"):
            sizes = [int(s) for s in args.rss_sizes.split(",") if s]
            rss = figures["peak_rss_mb"] = memory(sizes, folder)
            targets["rss_flat_within_25pct"] = max(rss.values()) <= 1.25 * min(rss.values())
        figures["targets"] = targets
    print(json.dumps(figures, separators=(",", ":")))


if __name__ == "__main__":
    main()
