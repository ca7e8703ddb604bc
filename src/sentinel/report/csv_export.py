"""Every table of a report as CSV (`--csv-dir`): one file per table, plus the alerts.

A data export for spreadsheets and SIEMs, not a reading view: a table's file has every row, as the JSON
report has, including those past `Table.limit` that the console, Markdown and HTML reports leave out.

Values are raw, for programs: whole numbers without separators, ratios as decimals (a share of 0.25, not
25%), times as RFC 3339 UTC (day-relative text where the day is unknown), lists joined with "; ", nothing
as an empty cell. The header is the column keys of the JSON report.

A spreadsheet runs a cell that starts with "=", "+", "-", "@" (or a tab or carriage return) as a formula:
text from the data that starts so (a DNS name, a protocol, a file name) gets a leading "'", which
spreadsheets show as text and do not evaluate (OWASP's advice on CSV injection). Numbers are never altered.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sentinel.report.model import Report, Table
from sentinel.timefmt import Instant

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def _text(value: object) -> str:
    if isinstance(value, Instant):
        return value.text()  # Sentinel's own text ("+07:54:42.00" where the day is unknown), not data
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def cell(value: Any) -> str:
    """One CSV cell: numbers as they are, text neutralised against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not isinstance(value, Instant):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return _text("; ".join(str(v.text() if isinstance(v, Instant) else v) for v in value))
    return _text(value)


def _render(columns: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def table_csv(table: Table) -> bytes:
    return _render(
        [c.key for c in table.columns],
        [[cell(row.get(c.key)) for c in table.columns] for row in table.rows],
    )


ALERT_COLUMNS = (
    "id",
    "type",
    "severity",
    "score",
    "hosts",
    "src_ip",
    "dst_ip",
    "proto",
    "port",
    "first_seen",
    "last_seen",
    "summary",
)


def alerts_csv(report: Report) -> bytes:
    rows = [[cell(getattr(a, key)) for key in ALERT_COLUMNS] for a in report.alerts]
    return _render(list(ALERT_COLUMNS), rows)


def files(report: Report) -> dict[str, bytes]:
    """File name -> CSV: `<table key>.csv` for every table (a repeated key gets -2, -3, ...), `alerts.csv`."""
    out: dict[str, bytes] = {}
    for section in report.sections:
        for table in section.tables:
            stem = _UNSAFE_NAME.sub("_", table.key) or "table"
            name, n = f"{stem}.csv", 1
            while name in out or name == "alerts.csv":
                n += 1
                name = f"{stem}-{n}.csv"
            out[name] = table_csv(table)
    out["alerts.csv"] = alerts_csv(report)
    return out
