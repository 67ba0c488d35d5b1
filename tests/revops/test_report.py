"""The HTML reports open with no network and every chart renders (headless Chromium)."""

import json
import re
import shutil
import subprocess
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.model_loader import parse_model
from revops import backtest
from revops import html_report as report
from revops.calibrate import Target, calibrate
from revops.outcomes import label
from revops.preview import compare
from scoring.types import Event, Record

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`)"
)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
MODEL = textwrap.dedent(
    """\
    name: report-test
    object: contact
    fit:
      rules:
        - {name: VP </script> title, if: {title: vp}, points: 60}
        - {name: Big company, if: {size: {gte: 100}}, points: 40}
    interest:
      decay: {half_life_days: 30}
      rules:
        - {name: Demo request, event: form_submission, points: 60}
        - {name: Opens, property: opens, bands: [{min: 1, max: 3, points: 10}, {min: 4, points: 3}]}
    qualify:
      enter: {score: {gte: 50}}
    """
)


def population(n: int = 400) -> list[Record]:
    records = []
    for i in range(n):
        vp, big, demo, opens = i % 3 == 0, i % 4 == 0, i % 5 == 0, i % 7
        won = (vp and demo) or (big and opens > 3) or i % 11 == 0
        events = (
            [Event("form_submission", datetime(2026, 2, 1 + i % 20, tzinfo=UTC))] if demo else []
        )
        properties = {
            "title": "vp" if vp else "engineer",
            "size": "500" if big else "20",
            "opens": str(opens),
            "won": "yes" if won else "no",
        }
        records.append(Record(str(i), "contact", properties, events))
    return records


def open_in_chromium(page: Path, profile: Path) -> subprocess.Popen[str]:
    """Start headless Chromium dumping the page's DOM after its scripts ran."""
    assert CHROMIUM is not None
    return subprocess.Popen(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
            "--dump-dom", page.as_uri(),
        ],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def rendered_charts(dom: str) -> dict[str, bool]:
    """Chart id -> whether plotly drew an svg with data into its div."""
    meta = re.search(r'<meta name="leadsync-charts" content="([^"]*)"', dom)
    assert meta is not None
    ids = json.loads(meta[1].replace("&quot;", '"'))
    # Plotly adds its own classes to the div once it has drawn into it.
    parts = re.split(r'(?=<div class="chart[^"]*" id="chart-\d+")', dom)
    found = {}
    for part in parts[1:]:
        match = re.match(r'<div class="chart[^"]*" id="(chart-\d+)"', part)
        assert match is not None
        chart_id = match[1]
        drawn = 'class="main-svg"' in part and ('class="trace' in part or 'class="hm"' in part)
        found[chart_id] = drawn
    assert sorted(found) == sorted(ids)
    return found


def test_every_chart_of_every_report_renders(tmp_path):
    model = parse_model(MODEL)
    labelled = label(population(), outcome="won", default_now=NOW)
    pages = {
        "backtest": report.backtest_report(backtest.run(labelled, model, outcome="won")),
        "calibrate": report.calibration_report(
            calibrate(MODEL, model, labelled, Target(), source="m.yaml", out_name="n.yaml", folds=3)
        ),
        "preview": report.preview_report(
            compare(
                population(),
                model,
                parse_model(MODEL.replace("points: 60}", "points: 20}")),
                now=NOW,
                source="test",
            )
        ),
    }
    browsers = {}
    for name, html in pages.items():
        assert "<script src=" not in html and '<link href="http' not in html
        page = tmp_path / f"{name}.html"
        page.write_text(html, encoding="utf-8")
        browsers[name] = open_in_chromium(page, tmp_path / f"profile-{name}")
    charts = {}
    for name, browser in browsers.items():
        dom, _ = browser.communicate(timeout=120)
        assert browser.returncode == 0
        charts[name] = rendered_charts(dom)
    assert {name: len(c) for name, c in charts.items()} == {
        "backtest": 5, "calibrate": 5, "preview": 2,
    }  # fmt: skip
    assert all(all(c.values()) for c in charts.values()), charts
