"""Text shared by the reading renderers (console, Markdown, HTML): cells by column kind, and the line under a
table that shows fewer than all its rows."""

from __future__ import annotations

from typing import Any

from sentinel.report.model import Column, Table
from sentinel.timefmt import Instant


def cell(value: Any, column: Column) -> str:
    if value is None:
        return "-"
    if isinstance(value, Instant):
        return value.text()
    kind = column.kind
    if kind in ("int", "bytes"):
        return f"{int(value):,}"
    if kind == "float":
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    if kind == "rate":
        return f"{value:.4f}"
    if kind == "percent":
        return f"{100 * value:.2f}%"
    if kind == "list":
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def cut_line(table: Table, max_rows: int | None = None) -> str:
    """How many of a table's rows a renderer shows and where all of them are; "" when it shows them all.
    `max_rows` is the renderer's own cut on top of `table.limit` (the console's). The CSV files carry every
    row, the JSON report too (where the table has a `json_key`), the Markdown and HTML reports the first
    `limit`."""
    total = len(table.rows)
    kept = len(table.shown)
    here = kept if max_rows is None else min(kept, max_rows)
    if here >= total:
        return ""
    shown = f"{here:,} of {total:,} rows shown"
    json = table.json_key is not None
    if kept == total:  # only the renderer's own cut: every written report has them all
        return f"{shown}; all {total:,} are in the reports (-o, --html{', --json' if json else ''}, --csv-dir)"
    also = f" ({kept:,} in the Markdown and HTML reports)" if here < kept else ""
    where = "the JSON report (--json) and the CSV files" if json else "the CSV files"
    return f"{shown}{also}; all {total:,} are in {where} (--csv-dir)"


def is_numeric(column: Column) -> bool:
    return column.kind in ("int", "bytes", "float", "rate", "percent")


#: Decimal byte units, up to those of 64-bit counters' sums (a flow's bytes reach 9.2 EB).
BYTE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def human_bytes(n: float) -> str:
    """'1.5 MB': a byte count in a sentence or a title (decimal units)."""
    for unit in BYTE_UNITS:
        if abs(n) < 1000 or unit == BYTE_UNITS[-1]:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def seconds_text(seconds: float) -> str:
    """'45.0s', '6.9m', '1.5h': a duration in a sentence or a chart label."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.1f}m"
    return f"{seconds:.1f}s"
