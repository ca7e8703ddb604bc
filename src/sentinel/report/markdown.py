"""The archivable Markdown report: inputs, charts (PNG files beside it, linked), tables, numbered alerts."""

from __future__ import annotations

from typing import Any

from sentinel.report.escape import md_link_target, md_para, md_text
from sentinel.report.evidence_charts import alert_chart, chart_key
from sentinel.report.formatting import cell, cut_line, is_numeric
from sentinel.report.model import Alert, Report, Table
from sentinel.timefmt import Instant, span_text


def _table(table: Table) -> list[str]:
    header = "| " + " | ".join(md_text(c.label) for c in table.columns) + " |"
    align = "|" + "|".join("---:" if is_numeric(c) else "---" for c in table.columns) + "|"
    lines = [header, align]
    for row in table.shown:
        lines.append("| " + " | ".join(md_text(cell(row.get(c.key), c)) for c in table.columns) + " |")
    if not table.shown:
        lines.append("| " + " | ".join(["(none)"] + [""] * (len(table.columns) - 1)) + " |")
    return lines


def _kv(rows: list[tuple[str, str]], head: tuple[str, str]) -> list[str]:
    lines = [f"| {head[0]} | {head[1]} |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return lines


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _evidence_value(value: Any) -> str:
    if isinstance(value, Instant):
        return md_text(value.text())
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return md_text(f"{value:.4g}")
    if isinstance(value, int):
        return md_text(f"{value:,}")
    if isinstance(value, list):
        return md_text(", ".join(str(v) for v in value))
    return md_text("-" if value is None else value)


def alert_chart_key(alert: Alert) -> str:
    """The key of an alert's chart among a report's chart files (`<stem>-alert-<id>.png`)."""
    return chart_key(alert)


def _alert(alert: Alert, report: Report, chart_files: dict[str, str]) -> list[str]:
    lines = [
        f"### Alert {alert.id}: {md_text(alert.type)} ({md_text(alert.severity)}, score {alert.score:.2f})",
        "",
        md_para(alert.summary),
        "",
    ]
    chart = alert_chart(alert)
    if chart is not None and alert_chart_key(alert) in chart_files:
        target = md_link_target(chart_files[alert_chart_key(alert)])
        lines += [f"![{md_text(chart.title)}]({target})", ""]
    named = list(dict.fromkeys([*alert.hosts, *([alert.dst_ip] if alert.dst_ip else [])]))
    lines += [
        "| IP address | role | scope | country | AS organisation | DNS name |",
        "|---|---|---|---|---|---|",
    ]
    for ip in named:
        info = report.hosts.get(ip)
        role = "implicated host" if ip in alert.hosts else "counterpart"
        values = [info.address_class or info.scope, info.country, info.as_org, info.dns_name] if info else [None] * 4
        cells = " | ".join(md_text(v) if v else "-" for v in values)
        lines.append(f"| {md_text(ip)} | {role} | {cells} |")
    lines.append("")
    seen = [("first seen", _evidence_value(alert.first_seen)), ("last seen", _evidence_value(alert.last_seen))]
    all_figures = alert.evidence.figures()
    figures = {k: v for k, v in all_figures.items() if not _is_records(v)}
    evidence = [(md_text(k.replace("_", " ")), _evidence_value(v)) for k, v in figures.items()]
    lines += _kv(seen + evidence, ("figure", "value"))
    lines.append("")
    for key, records in all_figures.items():
        if _is_records(records):  # e.g. the transfers behind an exfiltration alert: a table of their own
            columns = list(dict.fromkeys(k for r in records for k in r))
            lines += [f"{md_text(key.replace('_', ' ').capitalize())}:", ""]
            lines.append("| " + " | ".join(md_text(c) for c in columns) + " |")
            lines.append("|" + "|".join("---" for _ in columns) + "|")
            for r in records:
                lines.append("| " + " | ".join(_evidence_value(r.get(c)) for c in columns) + " |")
            lines.append("")
    return lines


def render(report: Report, chart_files: dict[str, str]) -> str:
    """`chart_files` maps a chart key to the PNG file name written beside the report."""
    inp = report.input
    rejected = f"{inp.rejected_rows:,} malformed rows set aside" if inp.rejected_rows else "no malformed rows"
    lines = [
        "# Sentinel traffic report",
        "",
        f"Generated at **{md_text(report.generated_at)}** by Sentinel {md_text(report.version)}.",
        "",
        "## Inputs",
        "",
    ]
    lines += _kv(
        [
            ("data", ", ".join(md_text(s) for s in inp.sources) + f" ({md_text(inp.format)})"),
            ("flows analysed", f"{inp.flows:,} of {inp.rows:,} rows ({rejected})"),
            ("time span", md_text(span_text(inp.first_seen, inp.last_seen))),
            ("country database", md_text(report.enrichment.get("country", "-"))),
            ("AS organisation database", md_text(report.enrichment.get("as_org", "-"))),
            ("DNS names", md_text(report.enrichment.get("dns", "-"))),
            ("internal networks", md_text(", ".join(report.settings.get("internal", [])))),
        ],
        ("input", "value"),
    )
    lines.append("")
    databases = report.enrichment.get("databases") or []
    if databases:
        lines += ["GeoIP and AS databases used (named ones first):", ""]
        for db in databases:
            provides = ", ".join(db.get("provides") or [])
            date = f", data of {db['date']}" if db.get("date") else ""
            licence = f"; licence: {db['licence']}" if db.get("licence") else ""
            lines.append(
                f"- {md_text(db.get('name'))} ({md_text(db.get('kind'))}: {md_text(provides)}{md_text(date)})"
                f"{md_text(licence)}"
            )
        lines.append("")
    for note in report.notes:
        lines += [f"> {md_text(note)}", ""]
    lines += ["## Summary", ""]
    if report.alerts:
        counts: dict[str, int] = {}
        for a in report.alerts:
            counts[a.type] = counts.get(a.type, 0) + 1
        kinds = ", ".join(f"{n} {md_text(t)}" for t, n in counts.items())
        lines.append(f"**{len(report.alerts)} alert(s)**: {kinds}. Details in [Alerts](#alerts).")
    else:
        lines.append("No alerts.")
    lines.append("")
    for section in report.sections:
        lines += [f"## {md_text(section.title)}", "", md_para(section.description), ""]
        for chart in section.charts:
            if chart.key in chart_files:
                lines += [f"![{md_text(chart.title)}]({md_link_target(chart_files[chart.key])})", ""]
        for table in section.tables:
            if len(section.tables) > 1:
                lines += [f"### {md_text(table.title)}", ""]
            lines += _table(table)
            lines.append("")
            for line in (cut_line(table), table.note):
                if line:
                    lines += [f"*{md_text(line)}*", ""]
    for skipped in report.skipped:
        lines += [f"## {md_text(skipped.title)}", "", f"Not run: {md_text(skipped.reason)}.", ""]
    lines += ["## Alerts", ""]
    if not report.alerts:
        lines += ["No alerts.", ""]
    for alert in report.alerts:
        lines += _alert(alert, report, chart_files)
    return "\n".join(lines)
