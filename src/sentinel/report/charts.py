"""Charts of a report (matplotlib, no display needed): PNG files for the Markdown report, SVG for HTML.

Every kind of `Chart` is drawn here: bars (with more series in panels of their own unit), heat maps and
the graph of a group of hosts. What every chart keeps:

* labelled axes with units (flows; bytes as kB/MB/GB);
* the Okabe-Ito palette and the viridis colour map, which readers with colour-blindness tell apart;
* deterministic files: no date or software version in them, SVG ids from a fixed salt, fonts drawn as
  paths (so a chart looks the same wherever it is opened); the same chart gives the same bytes;
* text from the data (country, host, AS names) shown literally: no control character, no mathtext.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from io import BytesIO
from typing import TYPE_CHECKING, Any

from sentinel import interrupt
from sentinel.report.chart_process import ChartProcess
from sentinel.report.escape import visible
from sentinel.report.evidence_charts import alert_chart
from sentinel.report.formatting import BYTE_UNITS
from sentinel.report.model import Alert, Chart, Section

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
COLOUR_MAP = "viridis"  # perceptually uniform and colour-blind-safe
MAX_LABEL = 32  # characters of a label from the data shown on an axis (the tables have it whole)

_RC: dict[str, Any] = {
    "svg.hashsalt": "sentinel",  # ids in SVG files from this salt, not from a random UUID
    "svg.fonttype": "path",
    "text.parse_math": False,  # "$" in a name from the data is a dollar sign, not TeX
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs on every machine
}
_DRAWING = threading.Lock()  # rcParams are process-wide: one chart at a time takes them


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib
    from cycler import cycler

    rc = dict(_RC, **{"axes.prop_cycle": cycler(color=list(PALETTE))})
    with _DRAWING, matplotlib.rc_context(rc):  # type: ignore[arg-type]
        yield


def top_with_other(
    labels: Sequence[str], values: Sequence[float], n: int, other: str = "other"
) -> tuple[list[str], list[float]]:
    """The first `n` (labels, values) and one more bar with the sum of the rest, where there is a rest."""
    head_labels, head_values = list(labels[:n]), list(values[:n])
    rest = values[n:]
    if rest:
        head_labels.append(f"{other} ({len(rest)})")
        head_values.append(sum(rest))
    return head_labels, head_values


def human_bytes(value: float) -> str:
    """Axis text of a byte count: 0, 512 B, 1.5 kB, 20 MB, 3.1 GB (decimal units, as the tables' bytes)."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    value = abs(value)
    for unit in BYTE_UNITS:
        if value < 1000 or unit == BYTE_UNITS[-1]:
            text = f"{value:.1f}".rstrip("0").rstrip(".") if value < 100 else f"{value:.0f}"
            return f"{sign}{text} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _short(label: object) -> str:
    text = visible(label)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _axis_formatter(unit: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    if unit == "bytes":
        return FuncFormatter(lambda x, _pos: human_bytes(x))
    return FuncFormatter(lambda x, _pos: f"{x:,.0f}" if abs(x) >= 10 or x == int(x) else f"{x:,.2f}")


def _axis_label(text: str, unit: str) -> str:
    return text if unit in text else f"{text} ({unit})"


def _floats(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values]


def draw(chart: Chart) -> Figure:
    """The figure of `chart` (call under `_style`)."""
    if chart.kind == "heatmap":
        return _heatmap(chart)
    if chart.kind == "graph":
        return _graph(chart)
    return _bars(chart)


def _bars(chart: Chart) -> Figure:
    from matplotlib.figure import Figure

    # Floats: exact byte sums may be beyond what matplotlib converts as integers (int64).
    panels: dict[str, list[tuple[str, list[float]]]] = {chart.unit: [(chart.ylabel, _floats(chart.values))]}
    for series in chart.series:
        panels.setdefault(series.unit, []).append((series.label, _floats(series.values)))
    labels = [_short(label) for label in chart.labels]
    long_labels = any(len(label) > 4 for label in labels) or len(labels) > 24
    fig = Figure(figsize=(10, 3.2 + 2.4 * len(panels) + (0.6 if long_labels else 0)))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    positions = range(len(labels))
    colour = 0
    for ax, (unit, bars) in zip(axes, panels.items(), strict=True):
        width = 0.8 / len(bars)
        for i, (name, values) in enumerate(bars):
            offset = (i - (len(bars) - 1) / 2) * width
            ax.bar([p + offset for p in positions], values, width=width, label=name, color=PALETTE[colour % 8])
            colour += 1
        ax.set_ylabel(_axis_label(bars[0][0] if len(bars) == 1 else unit, unit))
        ax.yaxis.set_major_formatter(_axis_formatter(unit))
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.margins(x=0.01)
        if len(bars) > 1:
            ax.legend(loc="upper right", fontsize=9, frameon=False)
    bottom = axes[-1]
    step = max(1, math.ceil(len(labels) / 48))  # at most ~48 tick labels: a long timeline stays legible
    shown = list(positions)[::step]
    bottom.set_xticks(
        shown,
        [labels[p] for p in shown],
        rotation=45 if long_labels else 0,
        ha="right" if long_labels else "center",
        fontsize=8 if len(shown) > 12 else 10,
    )
    bottom.set_xlabel(visible(chart.xlabel))
    axes[0].set_title(visible(chart.title))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.93, bottom=0.22 if long_labels else 0.12, hspace=0.12)
    return fig


def _heatmap(chart: Chart) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = [_short(r) for r in chart.rows]
    height = max(3.6, 0.28 * len(rows) + 1.9)
    fig = Figure(figsize=(10, height))
    ax = fig.subplots()
    data = [_floats(row) for row in chart.matrix] if chart.matrix else [[0.0] * len(chart.labels)]
    image = ax.imshow(data, aspect="auto", cmap=COLOUR_MAP, interpolation="nearest", vmin=0)
    ax.set_xticks(range(len(chart.labels)), [_short(label) for label in chart.labels], fontsize=9)
    ax.set_yticks(range(len(rows)), rows, fontsize=8 if len(rows) > 15 else 9)
    ax.set_xlabel(visible(chart.xlabel))
    ax.set_ylabel(visible(chart.ylabel))
    ax.set_title(visible(chart.title))
    bar = fig.colorbar(image, ax=ax, pad=0.015, fraction=0.04)
    bar.set_label(chart.unit)
    # A heat map's cells are counts (flows, bytes): no tick between whole numbers ("1.75 flows").
    bar.locator = MaxNLocator(integer=True)
    bar.formatter = _axis_formatter(chart.unit)
    bar.update_ticks()
    # right: room for the colour bar's tick labels and its label (at 0.98 both fell off the image)
    fig.subplots_adjust(left=0.2, right=0.9, top=1 - 0.5 / height, bottom=0.7 / height + 0.05)
    return fig


def _graph(chart: Chart) -> Figure:
    """Nodes on a circle in label order, edges as lines as wide as their weight: who talks to whom."""
    from matplotlib.figure import Figure

    n = len(chart.labels)
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    angle = [math.pi / 2 - 2 * math.pi * i / max(n, 1) for i in range(n)]
    where = {label: (math.cos(a), math.sin(a)) for label, a in zip(chart.labels, angle, strict=True)}
    heaviest = max((w for _, _, w in chart.edges), default=1) or 1
    for a, b, weight in chart.edges:
        if a in where and b in where:
            (x1, y1), (x2, y2) = where[a], where[b]
            ax.plot([x1, x2], [y1, y2], color=PALETTE[0], alpha=0.55, linewidth=1 + 5 * weight / heaviest, zorder=1)
    biggest = max(chart.values, default=1) or 1
    sizes = [120 + 500 * (v / biggest) for v in chart.values] if chart.values else [200] * n
    xs, ys = [where[label][0] for label in chart.labels], [where[label][1] for label in chart.labels]
    ax.scatter(xs, ys, s=sizes, color=PALETTE[1], edgecolors="#333333", zorder=2)
    for label, (x, y) in where.items():
        ax.annotate(
            _short(label),
            (x, y),
            xytext=(x * 1.18, y * 1.18),
            ha="center" if abs(x) < 0.3 else ("left" if x > 0 else "right"),
            va="center",
            fontsize=9,
        )
    ax.set_xlim(-1.9, 1.9)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(visible(chart.title))
    caption = f"line width: {visible(chart.ylabel)}; node size: {visible(chart.xlabel)}"
    fig.text(0.5, 0.03, caption, ha="center", fontsize=9, color="#333333")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.92, bottom=0.06)
    return fig


def render_png(chart: Chart) -> bytes:
    with _style():
        fig = draw(chart)
        buffer = BytesIO()
        # No timestamp or software version in the file: identical input gives an identical PNG.
        fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def render_svg(chart: Chart) -> bytes:
    with _style():
        fig = draw(chart)
        buffer = BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return buffer.getvalue()


RENDER = {"png": render_png, "svg": render_svg}

#: A run that draws more charts than this draws the rest in CHART_PROCESSES processes of its own
#: (chart_process), one per worker thread.
LOCAL_CHARTS = 16
CHART_PROCESSES = 2


class BackgroundCharts:
    """Renders charts on one worker thread while the engine computes the rest of the report.

    The engine runs in native code with the GIL released, so importing matplotlib (~0.4 s) and drawing
    overlap with the heavier detector passes instead of following them. Nothing starts before the first
    section arrives: earlier, the import would compete with start-up's own Python work for the GIL.
    Alerts' charts are submitted as each detector's alerts come (numbered: their ids name the charts), not
    drawn one after another once the run is over (95 alerts of a 100M-flow day took 11 s there).
    Charts are drawn into memory only, in each of `formats` (png for Markdown, svg for HTML); the report
    writer puts them in files together with the report. The worker is a daemon and nobody waits for it
    past an interrupt: an interrupted run exits at once. Past LOCAL_CHARTS charts the worker has the rest
    drawn by a child process (chart_process), waiting for each without the GIL: a large capture's ~90
    evidence charts then cost the detectors' Python work nothing, and a second worker with a child of its own
    draws beside it (on two cores, half the wait once the engine is done).
    """

    def __init__(self, formats: Sequence[str] = ("png",)) -> None:
        self._formats = tuple(formats)
        self._jobs: queue.SimpleQueue[tuple[Chart, str, Future[bytes]] | None] = queue.SimpleQueue()
        self._pending: dict[tuple[str, str], Future[bytes]] = {}
        self._workers: list[threading.Thread] = []
        self._processes: list[ChartProcess] = []  # worker i draws through process i, once there is one
        self._submitted = 0
        self._drawing_here = threading.Lock()  # matplotlib's style settings are global: one chart at a time

    def submit(self, section: Section) -> None:
        self._submit(section.charts)

    def submit_alerts(self, alerts: Sequence[Alert]) -> None:
        """Draw the evidence charts of `alerts`; their ids must be final (the chart's key is made of it)."""
        self._submit([c for c in map(alert_chart, alerts) if c is not None])

    def _submit(self, charts: Sequence[Chart]) -> None:
        for chart in charts:
            for fmt in self._formats:
                future: Future[bytes] = Future()
                self._pending[(chart.key, fmt)] = future
                self._jobs.put((chart, fmt, future))
                self._submitted += 1
        if self._submitted > LOCAL_CHARTS and not self._processes:
            # started now: their imports overlap with the charts drawn here meanwhile
            self._processes = [ChartProcess() for _ in range(CHART_PROCESSES)]
        wanted = (len(self._processes) or 1) if self._pending else 0
        while len(self._workers) < wanted:
            index = len(self._workers)
            worker = threading.Thread(target=self._work, args=(index,), name="sentinel-charts", daemon=True)
            worker.start()
            self._workers.append(worker)

    def png(self, chart: Chart) -> bytes:
        return self.image(chart, "png")

    def image(self, chart: Chart, fmt: str) -> bytes:
        pending = self._pending.pop((chart.key, fmt), None)
        return interrupt.wait(pending) if pending else self._draw_here(chart, fmt)

    def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        for _ in self._workers:
            self._jobs.put(None)  # each worker ends after its current chart; no one waits for them

    def _draw_here(self, chart: Chart, fmt: str) -> bytes:
        with self._drawing_here:
            return RENDER[fmt](chart)

    def _work(self, index: int) -> None:
        while (job := self._jobs.get()) is not None:
            chart, fmt, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                process = self._processes[index] if index < len(self._processes) else None
                drawn = process.render(chart, fmt) if process is not None else None
                future.set_result(drawn if drawn is not None else self._draw_here(chart, fmt))
            except BaseException as exc:  # handed to whoever waits for the chart
                future.set_exception(exc)
        if index < len(self._processes):
            self._processes[index].close()
