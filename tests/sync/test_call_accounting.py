"""Every API call a command spends counts: the tools', setup's and doctor's beside the runs',
in `status`, the daily budgets of later processes and the state store, exactly as many as the
sandbox served."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import main
from sandbox.hubspot import HubSpotSandbox
from sync.state.store import StateStore

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "config/examples/models/hubspot-contacts.yaml"
NOW = "2026-11-20T12:00:00Z"
EVER = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class World:
    sandbox: HubSpotSandbox
    config: Path
    state_url: str

    def served(self) -> int:
        """Calls the sandbox answered (its count; leadsync's must agree)."""
        return sum(sum(v.values()) for v in self.sandbox.request_counts().values())

    def spent(self) -> dict[str, int]:
        store = StateStore.open(self.state_url, now=datetime.now(UTC))
        try:
            return store.api_calls_by_command("hs", EVER)
        finally:
            store.close()


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    sandbox = HubSpotSandbox(
        contacts=120, now=datetime(2026, 11, 20, 12, tzinfo=UTC), rate_limit_10s=100_000
    ).start()
    url = f"sqlite:///{tmp_path}/state.db"
    config = tmp_path / "leadsync.yaml"
    config.write_text(
        f"state_url: {url}\n"
        "connections:\n"
        "  - name: hs\n"
        "    crm: hubspot\n"
        f'    hubspot: {{base_url: "{sandbox.url}", access_token: "{sandbox.token}", '
        "tier: enterprise, daily_budget: 800}\n"
        f"    objects: [{{kind: contact, model: {MODEL}}}]\n"
    )
    try:
        yield World(sandbox, config, url)
    finally:
        sandbox.stop()


def test_the_tools_calls_are_recorded_and_counted_with_the_runs(world, capsys):
    config = str(world.config)
    steps = (
        ("validate", ["validate", "--config", config]),
        ("setup", ["setup", "--config", config, "--apply"]),
        ("sync", ["sync", "--config", config, "--full", "--now", NOW]),
        ("backtest", ["backtest", "--config", config, "--format", "json"]),
        ("preview", ["preview", "--config", config, "--model", str(MODEL), "--now", NOW]),
    )
    expected: dict[str, int] = {}
    for command, args in steps:
        before = world.served()
        assert main(args) == 0
        expected[command] = world.served() - before
        assert world.spent() == {k: v for k, v in expected.items() if v}, command
    assert all(expected[c] > 0 for c in ("validate", "backtest", "preview"))
    total = sum(expected.values())
    assert total == world.served()
    capsys.readouterr()
    assert main(["status", "--config", config]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("API calls"))
    by = ", ".join(f"{c} {n:,}" for c, n in sorted(expected.items(), key=lambda i: (-i[1], i[0])))
    assert line.startswith(f"API calls today: {total:,} of 800 (daily_budget); by command: {by};")


def test_a_tool_stops_at_the_budget_the_tools_before_it_spent(world, capsys):
    config = str(world.config)
    assert main(["setup", "--config", config, "--apply"]) == 0
    assert main(["sync", "--config", config, "--full", "--now", NOW]) == 0
    # backtests until the day's 800 calls are spent: each counts the ones before it
    for _ in range(60):
        capsys.readouterr()
        code = main(["backtest", "--config", config, "--format", "json"])
        if code != 0:
            break
    assert code == 1
    assert capsys.readouterr().err.startswith(
        "error: BudgetExhausted: daily API budget of 800 calls for this connection is spent"
    )
    assert world.served() == 800
    assert sum(world.spent().values()) == 800
