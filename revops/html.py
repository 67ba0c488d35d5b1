"""A self-contained HTML page of headings, figures, tables and plotly charts.

The page embeds plotly.js once, inline, so the file opens anywhere with no network. Every chart
is a `div.chart` holding one plotly figure; `chart_ids` lists them so a test can check that each
one rendered.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from revops.formatting import fmt

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #1f2933; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; font-size: 1.25rem;
     border-bottom: 1px solid #d9e2ec; padding-bottom: .3rem; }
.sub { color: #52606d; margin-top: 0; }
.stats { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.stat { border: 1px solid #d9e2ec; border-radius: 6px; padding: .5rem .9rem; min-width: 8rem; }
.stat b { display: block; font-size: 1.3rem; } .stat span { color: #52606d; font-size: .85rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid #e4e7eb; padding: .25rem .7rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.warn { background: #fff4e5; border-left: 4px solid #f0b429; padding: .5rem .9rem;
        margin: .5rem 0; }
.chart { width: 100%; height: 380px; margin: 1rem 0; }
pre { background: #f5f7fa; padding: .8rem; overflow-x: auto; font-size: .85rem; }
"""


class HtmlPage:
    """Builds one report page; call the methods in display order, then `render()`."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self._parts: list[str] = [f"<h1>{html.escape(title)}</h1>"]
        if subtitle:
            self._parts.append(f'<p class="sub">{html.escape(subtitle)}</p>')
        self.chart_ids: list[str] = []

    def heading(self, text: str) -> None:
        """A section heading."""
        self._parts.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str) -> None:
        """A paragraph of plain text."""
        self._parts.append(f"<p>{html.escape(text)}</p>")

    def warning(self, text: str) -> None:
        """A highlighted warning line."""
        self._parts.append(f'<div class="warn">{html.escape(text)}</div>')

    def preformatted(self, text: str) -> None:
        """Monospaced text (a diff, a model excerpt)."""
        self._parts.append(f"<pre>{html.escape(text)}</pre>")

    def stats(self, figures: Mapping[str, str]) -> None:
        """A row of headline figures, label -> formatted value."""
        cells = "".join(
            f'<div class="stat"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>'
            for k, v in figures.items()
        )
        self._parts.append(f'<div class="stats">{cells}</div>')

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """A table; cells are formatted with `fmt`."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(fmt(c))}</td>" for c in row) + "</tr>"
            for row in rows
        )
        self._parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def chart(self, figure: go.Figure) -> str:
        """Embed a plotly figure; returns the id of its `div.chart`."""
        div_id = f"chart-{len(self.chart_ids) + 1}"
        self.chart_ids.append(div_id)
        figure.update_layout(margin={"l": 60, "r": 20, "t": 50, "b": 50}, template="plotly_white")
        # A figure taller than the default box (one bar per rule) gets a box that tall: plotly
        # draws at the layout's height whatever the box, and would spill over what follows.
        height = figure.layout.height
        style = f' style="height: {int(height)}px"' if height else ""
        # "</" inside a rule name must not close the script element.
        spec = pio.to_json(figure, validate=True).replace("</", "<\\/")
        self._parts.append(
            f'<div class="chart" id="{div_id}"{style}></div>'
            f"<script>(function() {{ var f = {spec};"
            f" Plotly.newPlot({json.dumps(div_id)}, f.data, f.layout,"
            ' {"responsive": true, "displaylogo": false}); })();</script>'
        )
        return div_id

    def render(self) -> str:
        """The whole page as one HTML string, plotly.js included inline."""
        ids = json.dumps(self.chart_ids)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title>"
            f'<meta name="leadsync-charts" content="{html.escape(ids)}">'
            f"<style>{_STYLE}</style>"
            f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>'
            "</head><body>" + "\n".join(self._parts) + "</body></html>\n"
        )
