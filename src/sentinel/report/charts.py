"""PNG bar charts of report sections (matplotlib, Agg: no display needed)."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from io import BytesIO

from sentinel import interrupt
from sentinel.report.model import Chart, Section


class BackgroundCharts:
    """Renders charts on one worker thread while the engine computes the rest of the report.

    The engine runs in native code with the GIL released, so importing matplotlib (~0.4 s) and drawing
    overlap with the heavier detector passes instead of following them. Nothing starts before the first
    section arrives: earlier, the import would compete with start-up's own Python work for the GIL.
    Charts are drawn into memory only; the report writer puts them in files together with the report.
    The worker is a daemon and nobody waits for it past an interrupt: an interrupted run exits at once.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Chart, Future[bytes]] | None] = queue.SimpleQueue()
        self._pending: dict[str, Future[bytes]] = {}
        self._worker: threading.Thread | None = None

    def submit(self, section: Section) -> None:
        for chart in section.charts:
            future: Future[bytes] = Future()
            self._pending[chart.key] = future
            self._jobs.put((chart, future))
        if self._pending and self._worker is None:
            self._worker = threading.Thread(target=self._work, name="sentinel-charts", daemon=True)
            self._worker.start()

    def png(self, chart: Chart) -> bytes:
        pending = self._pending.pop(chart.key, None)
        return interrupt.wait(pending) if pending else render_png(chart)

    def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        self._jobs.put(None)  # the worker ends after its current chart; no one waits for it

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            chart, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(render_png(chart))
            except BaseException as exc:  # handed to whoever waits for the chart
                future.set_exception(exc)


def render_png(chart: Chart) -> bytes:
    # Figure without pyplot: no global state, no GUI backend.
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    many = len(chart.labels) > 24
    fig = Figure(figsize=(10, 5.5))
    # Fixed margins: a layout engine costs more time than the drawing itself.
    fig.subplots_adjust(left=0.1, right=0.98, top=0.92, bottom=0.2 if many or _long(chart.labels) else 0.12)
    ax = fig.subplots()
    positions = range(len(chart.values))
    ax.bar(positions, chart.values, color="#3b6ea8")
    ax.set_xticks(
        list(positions),
        chart.labels,
        rotation=45 if many or _long(chart.labels) else 0,
        ha="right" if many or _long(chart.labels) else "center",
        fontsize=8 if len(chart.labels) > 12 else 10,
    )
    ax.set_xlabel(chart.xlabel)
    ax.set_ylabel(chart.ylabel)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_title(chart.title)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    buffer = BytesIO()
    # No timestamp or software version in the file: identical input gives an identical PNG.
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _long(labels: list[str]) -> bool:
    return any(len(label) > 4 for label in labels)
