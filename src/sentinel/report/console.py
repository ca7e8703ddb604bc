"""The console: each section's tables (rich), then the alerts, and the run's progress and summary on stderr.

Tables are sized to the terminal (to $COLUMNS, else 200 columns, when stdout is not one); colours only on
a terminal, never with NO_COLOR set. Every piece of text goes through `visible` and into rich as plain
`Text`, never as markup: a name from the data cannot send the terminal escape sequences, ring it,
reorder the line with bidirectional controls, or style itself with "[bold]".
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any

from sentinel.report.escape import visible
from sentinel.report.formatting import cell, cut_line, is_numeric
from sentinel.report.model import SEVERITIES, Report, Table
from sentinel.timefmt import span_text

if TYPE_CHECKING:
    from rich.console import Console

SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": ""}
PLAIN_WIDTH = 200  # columns of the tables when stdout is no terminal and $COLUMNS is not set


def wants_colour(stream: IO[str]) -> bool:
    """Colours on a terminal only, and never with NO_COLOR set (https://no-color.org)."""
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


def width_for(stream: IO[str]) -> int:
    if hasattr(stream, "isatty") and stream.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return PLAIN_WIDTH


def _console(buffer: io.StringIO, width: int, colour: bool) -> Console:
    from rich.console import Console

    return Console(
        file=buffer,
        width=width,
        color_system="standard" if colour else None,
        force_terminal=colour,
        no_color=not colour,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )


def _rich_table(table: Table, max_rows: int | None, title: bool):  # -> rich.table.Table
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    rows = table.shown if max_rows is None else table.shown[:max_rows]
    out = RichTable(
        title=Text(visible(table.title), style="bold") if title else None,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for c in table.columns:
        out.add_column(Text(visible(c.label)), justify="right" if is_numeric(c) else "left", overflow="fold")
    for r in rows:
        out.add_row(*(Text(visible(cell(r.get(c.key), c))) for c in table.columns))
    if not rows:
        out.add_row(Text("(none)"), *(Text("") for _ in table.columns[1:]))
    return out


def render_table(table: Table, max_rows: int | None = None, width: int = PLAIN_WIDTH, colour: bool = False) -> str:
    buffer = io.StringIO()
    console = _console(buffer, width, colour)
    console.print(_rich_table(table, max_rows, title=False))
    _print_under(console, table, max_rows)
    return buffer.getvalue()


def _print_under(console: Console, table: Table, max_rows: int | None) -> None:
    """Dim lines under a table: how many rows it shows and where the rest are, then its note (how to read it,
    as the Markdown and HTML reports print it)."""
    from rich.text import Text

    for line in (cut_line(table, max_rows), table.note):
        if line:
            console.print(Text(visible(line), style="dim"))


def render(report: Report, max_rows: int = 25, width: int = PLAIN_WIDTH, colour: bool = False) -> str:
    from rich.text import Text

    buffer = io.StringIO()
    console = _console(buffer, width, colour)
    inp = report.input
    sources = ", ".join(inp.sources[:3]) + (f" and {len(inp.sources) - 3} more files" if len(inp.sources) > 3 else "")
    console.print(
        Text(
            f"Sentinel {visible(report.version)}: {inp.flows:,} flows from {visible(sources)}"
            f" ({visible(inp.format)}; {visible(span_text(inp.first_seen, inp.last_seen))})",
            style="bold",
        )
    )
    for note in report.notes:
        console.print(Text(f"note: {visible(note)}", style="yellow"))
    for section in report.sections:
        console.print()
        console.print(Text(f"[!] {visible(section.title)}", style="bold cyan"))
        for table in section.tables:
            console.print()
            console.print(_rich_table(table, max_rows, title=len(section.tables) > 1))
            _print_under(console, table, max_rows)
    for skipped in report.skipped:
        console.print()
        console.print(Text(f"[-] {visible(skipped.title)}: not run, {visible(skipped.reason)}"))
    console.print()
    if report.alerts:
        console.print(Text(f"[!] {len(report.alerts)} alert(s)", style="bold red"))
        for a in report.alerts:
            line = Text(f"  #{a.id} {visible(a.type)} ")
            line.append(visible(a.severity), style=SEVERITY_STYLE.get(a.severity, ""))
            line.append(f" (score {a.score:.2f}): {visible(a.summary)}")
            console.print(line)
    else:
        console.print(Text("[ok] no alerts", style="bold green"))
    return buffer.getvalue()


def summary_line(report: Report, seconds: float) -> str:
    """One line for the end of a run: flows, alerts by severity, time taken."""
    counts = {s: 0 for s in reversed(SEVERITIES)}
    for a in report.alerts:
        counts[a.severity] = counts.get(a.severity, 0) + 1
    by_severity = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    alerts = f"{len(report.alerts)} alert(s) ({by_severity})" if report.alerts else "no alerts"
    return f"sentinel: {report.input.flows:,} flows, {alerts} in {seconds:.1f} s"


class Progress:
    """What a run is doing, on stderr, for runs that last: nothing is shown before `delay` seconds (a quick run
    prints no progress at all), and nothing ever when stderr is no terminal or `enabled` is false."""

    def __init__(self, enabled: bool = True, delay: float = 2.0, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled and hasattr(self._stream, "isatty") and self._stream.isatty()
        self._step = "reading the inputs"
        self._done = 0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._status: Any = None  # rich's Status, once shown
        self._timer: threading.Timer | None = None
        if self._enabled:
            self._timer = threading.Timer(delay, self._show)
            self._timer.daemon = True
            self._timer.start()

    def step(self, what: str) -> None:
        with self._lock:
            self._step = what
            self._done += 1
            if self._status is not None:
                self._status.update(self._text())

    def _text(self) -> str:
        return f"{visible(self._step)} ({time.monotonic() - self._started:.0f} s)"

    def _show(self) -> None:
        from rich.console import Console

        with self._lock:
            if not self._enabled:
                return
            console = Console(file=self._stream, stderr=True, highlight=False, markup=False, emoji=False)
            self._status = console.status(self._text())
            self._status.start()

    def close(self) -> None:
        with self._lock:
            self._enabled = False
            if self._timer is not None:
                self._timer.cancel()
            if self._status is not None:
                self._status.stop()
                self._status = None
