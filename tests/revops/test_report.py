"""The HTML reports open with no network, every chart renders, and nothing on the page overlaps
(headless Chromium measures every element)."""

import json
import re
import shutil
import subprocess
import textwrap
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

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
#: Rules enough for a rule chart taller than the default chart box, with long names.
PAGES_RULES = 24
MODEL = textwrap.dedent(
    """\
    name: report-test
    object: contact
    fit:
      rules:
        - {name: VP </script> title, if: {title: vp}, points: 60}
        - {name: Big company, if: {size: {gte: 100}}, points: 40}
    %s
    interest:
      decay: {half_life_days: 30}
      rules:
        - {name: Demo request, event: form_submission, points: 60}
        - {name: Opens, property: opens, bands: [{min: 1, max: 3, points: 10}, {min: 4, points: 3}]}
    qualify:
      enter: {score: {gte: 50}}
    """
) % "\n".join(
    f"    - {{name: Read the long product page number {k} of the catalogue, if: {{p{k}: yes}}, "
    "points: 5}"
    for k in range(PAGES_RULES)
)
#: Measures the page once plotly has drawn: the box of every top-level block and, per chart,
#: of its svg, title, legend, plot area, axis titles, colour bar and tick labels; written into
#: the DOM as JSON, which `--dump-dom` prints.
GEOMETRY = """
(function () {
  function box(el) {
    var r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  }
  function shown(root, selector) {
    return Array.prototype.filter.call(root.querySelectorAll(selector), function (el) {
      var r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0;
    });
  }
  function measure() {
    var out = {blocks: [], charts: {}};
    Array.prototype.forEach.call(document.body.children, function (el) {
      if (el.tagName === "SCRIPT" || el.getBoundingClientRect().height === 0) return;
      out.blocks.push({name: el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""), box: box(el)});
    });
    document.querySelectorAll("div.chart").forEach(function (div) {
      var chart = {div: box(div), svg: shown(div, "svg.main-svg").map(box)};
      [["title", ".g-gtitle"], ["legend", ".legend"], ["plot", ".draglayer .nsewdrag"],
       ["xtitle", ".g-xtitle"], ["ytitle", ".g-ytitle"], ["colorbar", ".colorbar"]
      ].forEach(function (part) { chart[part[0]] = shown(div, part[1]).map(box); });
      ["x", "y"].forEach(function (axis) {
        var ticks = shown(div, "." + axis + "tick text");
        chart[axis + "ticks"] = ticks.map(box);
        chart[axis + "labels"] = ticks.map(function (t) { return t.textContent; });
      });
      out.charts[div.id] = chart;
    });
    var pre = document.createElement("pre");
    pre.id = "geometry";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  window.addEventListener("load", function () { setTimeout(measure, 500); });
})();
"""
PARTS = ("title", "legend", "plot", "xtitle", "ytitle", "colorbar")


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
        for k in range(PAGES_RULES):
            # Pages read mostly by converted records (k < 6) or mostly by the others: lifts
            # from about 0.1 to 5, for a log axis spanning two decades.
            leaning = won if k < 6 else not won
            read = (i * 7 + k * 13) % 10 < (6 if leaning else 1)
            properties[f"p{k}"] = "yes" if read else "no"
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
            "--window-size=1280,900", "--dump-dom", page.as_uri(),
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


def geometry(dom: str) -> dict[str, Any]:
    """The measurements `GEOMETRY` wrote into the page."""
    match = re.search(r'<pre id="geometry">(.*?)</pre>', dom, re.S)
    assert match is not None, "the page was not measured"
    text = match[1].replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    measured: dict[str, Any] = json.loads(text.replace("&amp;", "&"))
    return measured


def overlap(a: list[float], b: list[float]) -> bool:
    """Two boxes share more than half a pixel each way (touching is fine)."""
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5


def within(inner: list[float], outer: list[float]) -> bool:
    return (
        inner[0] >= outer[0] - 1 and inner[1] >= outer[1] - 1
        and inner[2] <= outer[2] + 1 and inner[3] <= outer[3] + 1
    )  # fmt: skip


def _number(text: str) -> float | None:
    try:
        return float(text.replace("\u2212", "-").replace(",", ""))
    except ValueError:
        return None


def layout_problems(page: str, measured: dict[str, Any]) -> list[str]:
    """Everything on the page that overlaps something else or spills out of its box."""
    problems = [
        f"{page}: {a['name']} overlaps {b['name']}"
        for a, b in combinations(measured["blocks"], 2)
        if overlap(a["box"], b["box"])
    ]
    for chart_id, chart in measured["charts"].items():
        where = f"{page} {chart_id}"
        parts = [(name, box) for name in PARTS for box in chart[name]]
        for name, box in [*(("svg", box) for box in chart["svg"]), *parts]:
            if not within(box, chart["div"]):
                problems.append(f"{where}: {name} spills out of the chart's box")
        problems += [
            f"{where}: {a} overlaps {b}" for (a, box_a), (b, box_b) in combinations(parts, 2)
            if overlap(box_a, box_b)
        ]  # fmt: skip
        for axis in ("x", "y"):
            labels = chart[f"{axis}labels"]
            for tick, text in zip(chart[f"{axis}ticks"], labels, strict=True):
                for name in ("title", "legend", f"{axis}title"):
                    if any(overlap(tick, box) for box in chart[name]):
                        problems.append(f"{where}: {axis} tick {text!r} overlaps the {name}")
            numbers = [n for n in map(_number, labels) if n is not None]
            if labels and len(numbers) == len(labels) and numbers != sorted(set(numbers)):
                problems.append(f"{where}: {axis} tick labels {labels} are not plain numbers")
    return problems


def test_every_chart_of_every_report_renders_and_nothing_overlaps(tmp_path):
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
        page.write_text(html.replace("</body>", f"<script>{GEOMETRY}</script></body>"))
        browsers[name] = open_in_chromium(page, tmp_path / f"profile-{name}")
    charts, measured = {}, {}
    for name, browser in browsers.items():
        dom, _ = browser.communicate(timeout=120)
        assert browser.returncode == 0
        charts[name] = rendered_charts(dom)
        measured[name] = geometry(dom)
    assert {name: len(c) for name, c in charts.items()} == {
        "backtest": 5, "calibrate": 5, "preview": 2,
    }  # fmt: skip
    assert all(all(c.values()) for c in charts.values()), charts
    problems = [p for name, m in measured.items() for p in layout_problems(name, m)]
    assert problems == [], "\n".join(problems)
    # The rule chart (one bar per rule, taller than the default box) on a log axis whose
    # ticks read as plain numbers.
    rules = measured["backtest"]["charts"]["chart-5"]
    assert rules["xlabels"] == ["0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10"]
    top, bottom = rules["div"][1], rules["div"][3]
    assert bottom - top == 22 * 29 + 120  # 29 rules and bands with a positive lift
