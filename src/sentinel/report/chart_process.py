"""Drawing charts in a Python process of their own, for runs that draw many.

Matplotlib draws in Python, holding the GIL, and a large capture's report has an evidence chart per alert
(dozens): drawn on a thread, they took that time from the detectors' own Python work and then kept the run
waiting at its end (README, Performance: the time after the last pass at 100M flows). A child process draws them
on the other core instead. It is a plain `python -m sentinel.report.chart_process`, not multiprocessing,
which would re-import the caller's main script (a user's script calling `sentinel.cli.main` at top level
would run again). Charts go to it as JSON over its standard input, one at a time (no pickle: SECURITY.md);
PNG or SVG bytes come back. Both ways each message is framed by its length. The same code draws in both
processes: the bytes are the same.

The child ignores Ctrl-C (the run handles it and exits) and ends when its input closes, which the run's
exit does. When the child cannot draw (it failed to start, died, or the chart raised), `render` answers
None and the caller draws the chart itself: a failure is then raised where the chart is wanted, as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import struct
import subprocess
import sys
from typing import IO, Any

from sentinel.report.model import Chart, Series

_HEADER = struct.Struct(">?I")  # drawn or not, length of what follows (the bytes, or the error's text)
_LENGTH = struct.Struct(">I")  # of a chart's JSON


def _plain(value: Any) -> Any:
    """JSON for what the standard encoder does not know: NumPy's numbers (their Python value)."""
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def encode(chart: Chart, fmt: str) -> bytes:
    """A chart and the format to draw it in, as the child reads them (JSON)."""
    text = json.dumps({"fmt": fmt, "chart": dataclasses.asdict(chart)}, default=_plain)
    return text.encode("utf-8")


def decode(message: bytes) -> tuple[Chart, str]:
    """The chart and format `encode` wrote (NumPy numbers arrive as Python's: drawn the same)."""
    job = json.loads(message)
    fields = dict(job["chart"])
    fields["series"] = [Series(**s) for s in fields["series"]]
    fields["edges"] = [tuple(e) for e in fields["edges"]]
    return Chart(**fields), str(job["fmt"])


def _read(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


class ChartProcess:
    """The parent's side: starts the child at once (its imports overlap with the caller's work)."""

    def __init__(self, command: list[str] | None = None) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        # Without an interpreter to start (an embedded Python), the run draws its charts itself.
        with contextlib.suppress(OSError):
            self._child = subprocess.Popen(
                command or [sys.executable, "-m", "sentinel.report.chart_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # failures come back framed, or as the pipe closing
            )

    def render(self, chart: Chart, fmt: str) -> bytes | None:
        """The chart drawn by the child, or None where it could not be (draw it here)."""
        child = self._child
        if child is None or child.stdin is None or child.stdout is None:
            return None
        try:
            message = encode(chart, fmt)
        except (TypeError, ValueError):  # something in the chart JSON cannot carry: draw it here
            return None
        try:
            child.stdin.write(_LENGTH.pack(len(message)) + message)
            child.stdin.flush()
            header = _read(child.stdout, _HEADER.size)
            drawn, size = _HEADER.unpack(header) if header else (False, 0)
            payload = _read(child.stdout, size) if header else None
        except (OSError, ValueError):  # the child is gone (ValueError: a closed pipe)
            payload = None
        if payload is None:
            self.close()
            return None
        return payload if drawn else None

    def close(self) -> None:
        """Close the child's input: it ends after its current chart. Nobody waits for it."""
        child, self._child = self._child, None
        if child is not None and child.stdin is not None:
            with contextlib.suppress(OSError):
                child.stdin.close()


def main() -> None:
    """The child: draw each chart read from standard input, answer on standard output, until input ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run handles Ctrl-C; its exit closes our input
    from sentinel.report.charts import RENDER

    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            length = _read(source, _LENGTH.size)
            message = _read(source, _LENGTH.unpack(length)[0]) if length else None
        except OSError:
            return
        if message is None:  # the run closed our input (or is gone)
            return
        try:
            chart, fmt = decode(message)
            drawn, payload = True, RENDER[fmt](chart)
        except Exception as exc:  # the run draws it again itself and raises it there
            drawn, payload = False, f"{type(exc).__name__}: {exc}".encode()
        try:
            sink.write(_HEADER.pack(drawn, len(payload)) + payload)
            sink.flush()
        except OSError:  # the run is gone
            return


if __name__ == "__main__":
    main()
