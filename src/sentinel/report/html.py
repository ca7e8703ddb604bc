"""The HTML report: one self-contained file (`--html`) a person reads, mails, archives or prints.

* Self-contained: charts are SVG inside the file (data: URIs), the style and the small script are inline;
  nothing is fetched, and a Content-Security-Policy forbids the page to fetch anything or run any script
  but its own (pinned by its SHA-256), so even markup slipped past escaping could not act.
* Escaped: every string from the data, a database, DNS or a file name goes through `text`: control and
  bidirectional characters shown as escapes (as on the console), then HTML-escaped (quotes included, so
  attribute values are safe too).
* Read on a screen: a summary at the top (inputs, time span, flows, alerts by severity), then each
  analysis with its charts and tables (sortable by a click on a column, filterable by a search box), then
  every alert with a "why" panel: its chart where it has one, and the figures behind it.
* Printed (and so the PDF): no controls, every table whole, each part on a new page.
* Deterministic: the same report gives the same bytes, the generation time aside.
"""

from __future__ import annotations

import base64
import hashlib
import html as _html
from collections.abc import Callable, Iterable
from typing import Any

from sentinel.report import charts
from sentinel.report.escape import visible
from sentinel.report.evidence_charts import alert_chart
from sentinel.report.formatting import cell, cut_line, is_numeric
from sentinel.report.model import SEVERITIES, Alert, Chart, Column, Report, Section, Table
from sentinel.timefmt import Instant, span_text


def text(value: object) -> str:
    """Data as inert HTML text (and attribute value): controls shown as escapes, markup escaped."""
    return _html.escape(visible(value), quote=True)


SCRIPT = """
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-v");
    if (v !== null && v !== "") { return [0, parseFloat(v), ""]; }
    return [1, 0, cell.textContent.trim().toLowerCase()];
  }
  function compare(a, b) {
    if (a[0] !== b[0]) { return a[0] - b[0]; }
    if (a[0] === 0) { return a[1] - b[1]; }
    return a[2] < b[2] ? -1 : (a[2] > b[2] ? 1 : 0);
  }
  function sortBy(table, index, button) {
    var th = button.parentNode;
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r, s) {
      var order = compare(key(r.cells[index]), key(s.cells[index]));
      if (order === 0) { order = r.getAttribute("data-i") - s.getAttribute("data-i"); return order; }
      return ascending ? order : -order;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function filter(table, input) {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var line = r.textContent.toLowerCase();
      var keep = words.every(function (w) { return line.indexOf(w) >= 0; });
      r.hidden = !keep;
      if (keep) { shown += 1; }
    });
    var count = document.getElementById(input.getAttribute("data-count"));
    if (count) { count.textContent = words.length ? shown + " of " + table.tBodies[0].rows.length + " rows" : ""; }
  }
  document.querySelectorAll("table.data").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = th.querySelector("button");
      if (button) { button.addEventListener("click", function () { sortBy(table, index, button); }); }
    });
  });
  document.querySelectorAll("input[data-table]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    input.addEventListener("input", function () { filter(table, input); });
  });
  document.documentElement.classList.add("js");
})();
""".strip()

STYLE = """
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --accent: #0072B2; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1180px; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 .5rem; padding-bottom: .25rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.4rem 0 .4rem; }
p { margin: .4rem 0; }
.muted, .note, figcaption { color: var(--muted); }
.note { font-size: .9rem; }
nav { margin: .8rem 0 0; font-size: .92rem; }
nav a { margin-right: .9rem; }
a { color: var(--accent); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .7rem .9rem; background: var(--soft); }
.card h2 { border: 0; margin: 0 0 .3rem; padding: 0; font-size: .8rem; text-transform: uppercase;
  letter-spacing: .04em; color: var(--muted); }
.card .big { font-size: 1.5rem; font-weight: 600; }
.warn { border-left: 4px solid #E69F00; background: #fff8e6; padding: .4rem .7rem; margin: .5rem 0; }
.sev { display: inline-block; padding: .05rem .45rem; border-radius: 4px; font-size: .82rem; font-weight: 600;
  border: 1px solid rgba(0,0,0,.25); }
.sev-critical { background: #D55E00; color: #fff; }
.sev-high { background: #E69F00; color: #000; }
.sev-medium { background: #F0E442; color: #000; }
.sev-low { background: #56B4E9; color: #000; }
.sev-info { background: #e8e8e8; color: #000; }
.sev-none { background: #fff; color: var(--muted); }
table { border-collapse: collapse; margin: .4rem 0 .3rem; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .28rem .6rem; text-align: left; vertical-align: top; }
th { background: var(--soft); position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num, td.ip, th { white-space: nowrap; }
td { overflow-wrap: break-word; }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button::after { content: " \\2195"; color: #999; font-weight: 400; }
th[aria-sort="ascending"] button::after { content: " \\2191"; color: var(--ink); }
th[aria-sort="descending"] button::after { content: " \\2193"; color: var(--ink); }
.tools { display: none; margin: .5rem 0 0; gap: .6rem; align-items: center; font-size: .88rem; }
.js .tools { display: flex; }
.tools input { font: inherit; padding: .2rem .45rem; border: 1px solid var(--line); border-radius: 4px; width: 16rem; }
.scroll { overflow-x: auto; max-height: 34rem; overflow-y: auto; }
figure { margin: .8rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figure.small img { max-width: 720px; }
.alert { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; padding: .2rem 1rem .8rem;
  margin: 1.2rem 0; }
.alert.sev-critical, .alert.sev-high, .alert.sev-medium, .alert.sev-low, .alert.sev-info { background: none;
  color: inherit; font-weight: normal; }
.alert.sev-critical { border-left-color: #D55E00; }
.alert.sev-high { border-left-color: #E69F00; }
.alert.sev-medium { border-left-color: #F0E442; }
.alert.sev-low { border-left-color: #56B4E9; }
.why { background: var(--soft); border-radius: 6px; padding: .4rem .9rem .6rem; margin-top: .6rem; }
.why h4 { margin: .3rem 0; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1.2rem; margin: .4rem 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  table { font-size: 8.5pt; }
  nav, .tools { display: none !important; }
  .scroll { max-height: none; overflow: visible; }
  th { position: static; }
  th button::after { content: ""; }
  tr, figure, .card, dl.kv { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  section.part { break-before: page; }
  article.alert { break-inside: avoid-page; }
  .why figure img { max-height: 95mm; width: auto; }  /* an alert's chart leaves room for its figures */
  a { color: inherit; text-decoration: none; }
  tr[hidden] { display: table-row; }
}
@page { size: A4; margin: 14mm 12mm; }
""".strip()


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def _chart(chart: Chart, rendered: charts.BackgroundCharts | None, small: bool = False) -> str:
    svg = rendered.image(chart, "svg") if rendered else charts.render_svg(chart)
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    caption = f"<figcaption>{text(chart.note)}</figcaption>" if chart.note else ""
    css = ' class="small"' if small else ""
    return f'<figure{css}><img src="{uri}" alt="{text(chart.title)}">{caption}</figure>'


def _sort_value(value: Any) -> str:
    """What a numeric cell sorts by (its raw number: a time's microseconds); text cells sort by their text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return repr(value) if isinstance(value, float) else str(int(value))


class _Ids:
    """Element ids: unique in the page, and the same in every run of the same report."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in base) or "x"
        n = self._seen.get(safe, 0) + 1
        self._seen[safe] = n
        return safe if n == 1 else f"{safe}-{n}"


CellHtml = Callable[[Any], str]


def _table(table: Table, ids: _Ids, title: bool = True, html_cells: dict[str, CellHtml] | None = None) -> list[str]:
    """A sortable table (a filter box above it past 5 rows); `html_cells` renders the cells of some columns
    as HTML of Sentinel's own (a severity badge, a link), from values that are not data strings."""
    table_id = ids(f"table-{table.key}")
    out = []
    if title:
        out.append(f"<h3>{text(table.title)}</h3>")
    if len(table.shown) > 5:
        count_id = ids(f"{table_id}-count")
        out.append(
            f'<div class="tools"><input type="search" placeholder="filter rows" aria-label="filter the rows of '
            f'{text(table.title)}" data-table="{table_id}" data-count="{count_id}">'
            f'<span class="muted" id="{count_id}"></span></div>'
        )
    head = "".join(
        f'<th scope="col"{" class=num" if is_numeric(c) else ""}><button type="button">{text(c.label)}</button></th>'
        for c in table.columns
    )
    out.append(f'<div class="scroll"><table class="data" id="{table_id}"><thead><tr>{head}</tr></thead><tbody>')
    for i, row in enumerate(table.shown):
        cells = []
        for c in table.columns:
            value = row.get(c.key)
            sort = _sort_value(value)
            kind = "num" if is_numeric(c) else "ip" if c.kind == "ip" else ""
            attrs = (f' class="{kind}"' if kind else "") + (f' data-v="{sort}"' if sort else "")
            shown = html_cells[c.key](value) if html_cells and c.key in html_cells else text(cell(value, c))
            cells.append(f"<td{attrs}>{shown}</td>")
        out.append(f'<tr data-i="{i}">{"".join(cells)}</tr>')
    if not table.shown:
        out.append(f'<tr data-i="0"><td colspan="{len(table.columns)}" class="muted">(none)</td></tr>')
    out.append("</tbody></table></div>")
    out += [f'<p class="note">{text(line)}</p>' for line in (cut_line(table), table.note) if line]
    return out


def _kv(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list; the values are HTML already (escaped by the caller)."""
    return '<dl class="kv">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in pairs) + "</dl>"


def _evidence_value(value: Any) -> str:
    if isinstance(value, Instant):
        return text(value.text())
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return text(f"{value:.4g}")
    if isinstance(value, int):
        return text(f"{value:,}")
    if isinstance(value, list):
        return text(", ".join(str(v.text() if isinstance(v, Instant) else v) for v in value))
    if isinstance(value, dict):
        return text(", ".join(f"{k}: {v}" for k, v in value.items()))
    return text("-" if value is None else value)


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _severity(severity: str) -> str:
    cls = severity if severity in SEVERITIES else "none"
    return f'<span class="sev sev-{cls}">{text(severity)}</span>'


def _alert(alert: Alert, report: Report, ids: _Ids, rendered: charts.BackgroundCharts | None) -> list[str]:
    cls = alert.severity if alert.severity in SEVERITIES else "none"
    out = [
        f'<article class="alert sev-{cls}" id="alert-{alert.id}">',
        f"<h3>Alert {alert.id}: {text(alert.type)} {_severity(alert.severity)} "
        f'<span class="muted">score {alert.score:.2f}</span></h3>',
        f"<p>{text(alert.summary)}</p>",
    ]
    named = list(dict.fromkeys([*alert.hosts, *([alert.dst_ip] if alert.dst_ip else [])]))
    rows = []
    for ip in named:
        info = report.hosts.get(ip)
        values = [info.scope, info.country, info.as_org, info.dns_name] if info else [None] * 4
        role = "implicated host" if ip in alert.hosts else "counterpart"
        rows.append({"ip": ip, "role": role, **dict(zip(("scope", "country", "as_org", "dns"), values, strict=True))})
    columns = [
        Column("ip", "IP address", "ip"),
        Column("role", "role"),
        Column("scope", "scope"),
        Column("country", "country"),
        Column("as_org", "AS organisation"),
        Column("dns", "DNS name"),
    ]
    out += _table(Table(f"alert-{alert.id}-hosts", "Addresses", columns, rows), ids, title=False)
    out.append('<div class="why"><h4>Why</h4>')
    chart = alert_chart(alert)
    if chart is not None:
        out.append(_chart(chart, rendered, small=chart.kind == "graph"))
    evidence = alert.evidence.figures()
    service = f"{alert.proto or '-'}/{alert.port}" if alert.port is not None else alert.proto
    figures = [
        ("first seen", _evidence_value(alert.first_seen)),
        ("last seen", _evidence_value(alert.last_seen)),
        *([("service", text(service))] if service else []),
        *((text(k.replace("_", " ")), _evidence_value(v)) for k, v in evidence.items() if not _is_records(v)),
    ]
    out.append(_kv(figures))
    for key, records in evidence.items():
        if _is_records(records):  # e.g. the transfers behind an exfiltration alert: a table of their own
            names = list(dict.fromkeys(k for r in records for k in r))
            kinds = {
                n: "int"
                if all(isinstance(r.get(n), int) and not isinstance(r.get(n), Instant) for r in records)
                else "text"
                for n in names
            }
            table = Table(
                f"alert-{alert.id}-{key}",
                key.replace("_", " ").capitalize(),
                [Column(n, n.replace("_", " "), kinds[n]) for n in names],
                records,
            )
            out += _table(table, ids)
    out.append("</div></article>")
    return out


def _summary(report: Report) -> list[str]:
    inp = report.input
    counts = {s: 0 for s in reversed(SEVERITIES)}
    for a in report.alerts:
        counts[a.severity] = counts.get(a.severity, 0) + 1
    badges = " ".join(f"{_severity(s)} {n}" for s, n in counts.items() if n) or '<span class="muted">none</span>'
    sources = inp.sources[:5]
    more = f" and {len(inp.sources) - 5} more" if len(inp.sources) > 5 else ""
    rejected = f"{inp.rejected_rows:,} malformed rows set aside" if inp.rejected_rows else "no malformed rows"
    return [
        '<div class="cards">',
        f'<div class="card"><h2>Alerts</h2><div class="big">{len(report.alerts)}</div><div>{badges}</div></div>',
        f'<div class="card"><h2>Flows analysed</h2><div class="big">{inp.flows:,}</div>'
        f"<div>of {inp.rows:,} rows; {rejected}</div></div>",
        f'<div class="card"><h2>Time span</h2><div>{text(span_text(inp.first_seen, inp.last_seen))}</div></div>',
        f'<div class="card"><h2>Inputs</h2><div>{"<br>".join(text(s) for s in sources)}{text(more)}</div>'
        f'<div class="muted">{text(inp.format)}</div></div>',
        "</div>",
    ]


def _alert_index(report: Report, ids: _Ids) -> list[str]:
    rows = [
        {
            "id": a.id,
            "severity": a.severity,
            "score": a.score,
            "type": a.type,
            "hosts": a.hosts,
            "counterpart": a.dst_ip,
            "summary": a.summary,
        }
        for a in report.alerts
    ]
    columns = [
        Column("id", "#", "int"),
        Column("severity", "severity"),
        Column("score", "score", "float"),
        Column("type", "type"),
        Column("hosts", "hosts", "list"),
        Column("counterpart", "counterpart", "ip"),
        Column("summary", "summary"),
    ]
    # The severity as a badge and the number as a link to the alert's panel.
    html_cells: dict[str, CellHtml] = {"severity": _severity, "id": lambda n: f'<a href="#alert-{int(n)}">{int(n)}</a>'}
    return _table(Table("alerts", "Alerts", columns, rows), ids, title=False, html_cells=html_cells)


def _section(section: Section, ids: _Ids, rendered: charts.BackgroundCharts | None) -> list[str]:
    out = [f'<section class="part" id="{ids("section-" + section.key)}">', f"<h2>{text(section.title)}</h2>"]
    out.append(f"<p>{text(section.description)}</p>")
    for chart in section.charts:
        out.append(_chart(chart, rendered))
    for table in section.tables:
        out += _table(table, ids, title=len(section.tables) > 1 or table.title != section.title)
    out.append("</section>")
    return out


def render(report: Report, rendered: charts.BackgroundCharts | None = None) -> str:
    """The whole page. `rendered` holds section charts drawn during the run (SVG); others are drawn here."""
    ids = _Ids()
    inp = report.input
    title = f"Sentinel traffic report, {report.generated_at}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_csp()}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="Sentinel {text(report.version)}">',
        f"<title>{text(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head><body>",
        "<header>",
        "<h1>Sentinel traffic report</h1>",
        f'<p class="muted">Generated at <time>{text(report.generated_at)}</time> by Sentinel '
        f"{text(report.version)}.</p>",
    ]
    links = [("summary", "Summary"), *((f"section-{s.key}", s.title) for s in report.sections), ("alerts", "Alerts")]
    parts.append("<nav>" + "".join(f'<a href="#{text(i)}">{text(t)}</a>' for i, t in links) + "</nav>")
    parts.append("</header>")
    parts.append('<section id="summary"><h2>Summary</h2>')
    parts += _summary(report)
    for note in report.notes:
        parts.append(f'<p class="warn">{text(note)}</p>')
    settings = [
        ("data format", text(inp.format)),
        ("country database", text(report.enrichment.get("country", "-"))),
        ("AS organisation database", text(report.enrichment.get("as_org", "-"))),
        ("DNS names", text(report.enrichment.get("dns", "-"))),
        ("internal networks", text(", ".join(report.settings.get("internal", [])))),
        *(
            (("columns used besides the required", text(", ".join(inp.optional_columns))),)
            if inp.optional_columns
            else ()
        ),
    ]
    parts.append(_kv(settings))
    if report.alerts:
        parts.append("<h3>Alerts raised</h3>")
        parts += _alert_index(report, ids)
    parts.append("</section>")
    for section in report.sections:
        parts += _section(section, ids, rendered)
    for skipped in report.skipped:
        parts.append(
            f'<section class="part skipped" id="{ids("skipped-" + skipped.key)}"><h2>{text(skipped.title)}</h2>'
            f"<p>Not run: {text(skipped.reason)}.</p></section>"
        )
    parts.append('<section class="part" id="alerts"><h2>Alerts</h2>')
    if not report.alerts:
        parts.append("<p>No alerts.</p>")
    for alert in report.alerts:
        parts += _alert(alert, report, ids, rendered)
    parts.append("</section>")
    parts.append(
        f"<footer>Sentinel {text(report.version)}: every figure here comes from the inputs named above; the JSON "
        "report (--json) has them all as data.</footer>"
    )
    parts.append(f"<script>{SCRIPT}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
