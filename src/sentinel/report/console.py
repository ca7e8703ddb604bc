"""Plain-text rendering for the terminal: each section's tables, then the alerts.

Every piece of text goes through `visible`: a name from the data must not be able to send the terminal
escape sequences, ring it, or reorder the line with bidirectional controls.
"""

from __future__ import annotations

from sentinel.report.escape import visible
from sentinel.report.formatting import cell, is_numeric
from sentinel.report.model import Report, Table
from sentinel.timefmt import span_text


def render_table(table: Table, max_rows: int | None = None) -> str:
    rows = table.rows if max_rows is None else table.rows[:max_rows]
    header = [visible(c.label) for c in table.columns]
    body = [[visible(cell(r.get(c.key), c)) for c in table.columns] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if is_numeric(c) else v.ljust(w) for v, w, c in zip(values, widths, table.columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(b) for b in body] if body else ["(none)"]
    if max_rows is not None and len(table.rows) > max_rows:
        out.append(f"... {len(table.rows) - max_rows} more rows in the reports")
    return "\n".join(out)


def render(report: Report, max_rows: int = 25) -> str:
    out: list[str] = []
    inp = report.input
    sources = ", ".join(inp.sources[:3]) + (f" and {len(inp.sources) - 3} more files" if len(inp.sources) > 3 else "")
    out.append(
        f"Sentinel {visible(report.version)}: {inp.flows:,} flows from {visible(sources)}"
        f" ({visible(inp.format)}; {visible(span_text(inp.first_seen, inp.last_seen))})"
    )
    out.extend(f"note: {visible(n)}" for n in report.notes)
    for section in report.sections:
        out.append("")
        out.append(f"[!] {visible(section.title)}")
        for table in section.tables:
            out.append("")
            if len(section.tables) > 1:
                out.append(visible(table.title))
            out.append(render_table(table, max_rows))
    for skipped in report.skipped:
        out += ["", f"[-] {visible(skipped.title)}: not run, {visible(skipped.reason)}"]
    out.append("")
    if report.alerts:
        out.append(f"[!] {len(report.alerts)} alert(s)")
        for a in report.alerts:
            out.append(f"  #{a.id} {visible(a.type)} {visible(a.severity)} (score {a.score:.2f}): {visible(a.summary)}")
    else:
        out.append("[ok] no alerts")
    return "\n".join(out) + "\n"
