"""Cell formatting shared by the console and Markdown renderers, by column kind."""

from __future__ import annotations

from typing import Any

from sentinel.report.model import Column
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


def is_numeric(column: Column) -> bool:
    return column.kind in ("int", "bytes", "float", "rate", "percent")


def human_bytes(n: float) -> str:
    """'1.5 MB': a byte count in a sentence or a title (decimal units)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
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
