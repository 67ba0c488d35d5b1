import json
import textwrap
from pathlib import Path

import pytest

from cli.main import main

DATA = Path(__file__).resolve().parents[1] / "data" / "bank-additional-full.csv"
BANK_MODEL = Path(__file__).resolve().parents[2] / "config/examples/models/bank-marketing.yaml"

MODEL = textwrap.dedent(
    """\
    name: tiny
    object: contact
    fit:
      rules:
        - {name: VP, if: {title: vp}, points: 50}
    interest:
      rules:
        - {name: Demo request, event: form_submission, points: 50}
    qualify:
      enter: {score: {gte: 50}}
    """
)


def day(d: int) -> str:
    return f"2026-01-{d:02d}T00:00:00Z"


def rec(rid: str, title: str, won: str, won_at: str, *demo_days: int) -> str:
    events = [
        {"type": "form_submission", "at": day(d), "attributes": {"form": "demo"}} for d in demo_days
    ]
    properties = {"title": title, "won": won, "won_at": won_at}
    return json.dumps({"id": rid, "properties": properties, "events": events})


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "tiny.yaml"
    model.write_text(MODEL)
    data = tmp_path / "leads.jsonl"
    rows = [
        rec("a", "vp", "yes", "2026-01-10", 5),
        rec("b", "vp", "no", ""),
        rec("c", "engineer", "yes", "2026-01-10", 12),  # demo after the sale: excluded
        rec("d", "engineer", "no", "", 3),
        rec("e", "vp", "yes", "2026-01-25", 20),  # demo after the as-of date: excluded
        rec("f", "engineer", "no", ""),
    ]
    data.write_text("\n".join(rows) + "\n")
    return model, data


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_backtest_exact_figures_with_point_in_time_guard(tiny, capsys):
    model, data = tiny
    code, out, _ = run(
        capsys, "backtest", "--model", str(model), "--input", str(data), "--outcome", "won",
        "--outcome-date", "won_at", "--as-of", "2026-01-15", "--format", "json",
    )  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert result["auc"] == pytest.approx(5.5 / 9)
    assert (result["records"], result["converted"]) == (6, 3)
    assert (result["events_after_outcome"], result["records_after_outcome"]) == (1, 1)
    assert result["events_after_as_of"] == 1
    assert result["qualification"] == {
        "qualified": 1, "converted": 3, "true_positives": 1, "precision": 1.0, "recall": 1 / 3,
    }  # fmt: skip
    labels = {b["name"]: (b["count"], b["converted"]) for b in result["labels"] if b["count"]}
    assert labels == {"B2": (1, 1), "B3": (2, 1), "D2": (1, 0), "D3": (2, 1)}
    rules = {r["rule"]: (r["support"], r["rate_with"], r["rate_without"]) for r in result["rules"]}
    assert rules == {"VP": (3, 2 / 3, 1 / 3), "Demo request": (2, 0.5, 0.5)}
    assert result["warnings"] == []


def test_without_the_outcome_date_the_late_demo_counts(tiny, capsys):
    model, data = tiny
    code, out, _ = run(
        capsys, "backtest", "--model", str(model), "--input", str(data), "--outcome", "won",
        "--as-of", "2026-01-15", "--format", "json",
    )  # fmt: skip
    result = json.loads(out)
    assert code == 0
    assert result["events_after_outcome"] == 0
    assert result["auc"] == pytest.approx(7 / 9)


def test_text_summary_and_usage_errors(tiny, capsys):
    model, data = tiny
    code, out, _ = run(
        capsys, "backtest", "--model", str(model), "--input", str(data), "--outcome", "won",
        "--outcome-date", "won_at", "--as-of", "2026-01-15",
    )  # fmt: skip
    assert code == 0
    assert "ROC AUC 0.611" in out
    assert (
        "point-in-time guard: 1 events after their record's cutoff excluded (1 records), 1 "
        "after the as-of date" in out
    )
    assert run(capsys, "backtest", "--model", str(model))[0] == 2
    code, _, err = run(
        capsys, "backtest", "--model", str(model), "--input", str(data), "--outcome", "title"
    )
    assert code == 2
    assert "column 'title': values that are neither yes nor no: 'vp' (3x), 'engineer' (3x)" in err
    # Options that place cutoffs refuse to be silently ignored for want of their dates.
    offline = ("backtest", "--model", str(model), "--input", str(data), "--outcome", "won")
    code, _, err = run(capsys, *offline, "--horizon-days", "30")
    assert code == 2
    assert "--horizon-days needs --outcome-date with --input" in err
    code, _, err = run(capsys, *offline, "--outcome-date", "won_at", "--window-days", "30")
    assert code == 2
    assert "--window-days needs --created-column with --input" in err
    assert run(capsys, *offline, "--outcome-date", "won_at", "--horizon-days", "3")[0] == 0


def bank_subset(tmp_path: Path, step: int) -> Path:
    lines = DATA.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "bank.csv"
    path.write_text("".join([lines[0], *lines[1::step]]), encoding="utf-8", newline="")
    return path


def test_a_model_using_call_duration_gets_the_leakage_warning(tmp_path, capsys):
    data = bank_subset(tmp_path, 10)
    text = BANK_MODEL.read_text()
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(
        text.replace(
            "  rules:\n    - {name: University degree",
            "  rules:\n    - {name: Long call, if: {duration: {gte: 300}}, points: 40}\n"
            "    - {name: University degree",
            1,
        )
    )
    code, out, _ = run(
        capsys, "backtest", "--model", str(leaky), "--input", str(data), "--outcome", "y"
    )
    assert code == 0
    warnings = [line for line in out.splitlines() if line.startswith("LEAKAGE WARNING")]
    assert warnings == [
        "LEAKAGE WARNING duration: call duration is only known once the sales call is over, and "
        "long calls are the ones that close: the value leaks the result of the call. Remove it "
        "from the model, or backtest on values captured before the outcome."
    ]
    code, out, _ = run(
        capsys, "backtest", "--model", str(BANK_MODEL), "--input", str(data), "--outcome", "y"
    )
    assert code == 0 and "LEAKAGE WARNING" not in out


def test_shipped_bank_model_on_the_full_dataset(capsys):
    # The one slow test: 41,188 real records, semicolon-separated with CRLF line ends.
    code, out, _ = run(
        capsys, "backtest", "--model", str(BANK_MODEL), "--input", str(DATA), "--outcome", "y",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert (result["records"], result["converted"]) == (41188, 4640)
    assert result["auc"] >= 0.78
    assert result["deciles"][0]["lift"] >= 4.0
    assert result["warnings"] == []
