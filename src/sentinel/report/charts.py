"""PNG bar charts of report sections (matplotlib, Agg: no display needed)."""

from __future__ import annotations

import threading
from io import BytesIO

from sentinel.report.model import Chart

_preloaded: threading.Thread | None = None


def _import_matplotlib() -> None:
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401


def preload() -> None:
    """Import matplotlib (~0.4 s) in the background while the engine works: it runs in native code with
    the GIL released, so the import is off the critical path when charts are wanted."""
    global _preloaded
    if _preloaded is None:
        _preloaded = threading.Thread(target=_import_matplotlib, name="sentinel-preload-charts", daemon=True)
        _preloaded.start()


def render_png(chart: Chart) -> bytes:
    if _preloaded is not None:
        _preloaded.join()
    # Figure without pyplot: no global state, no GUI backend.
    from matplotlib.figure import Figure

    many = len(chart.labels) > 24
    fig = Figure(figsize=(10, 5.5))
    # Fixed margins: a layout engine costs more time than the drawing itself.
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.2 if many or _long(chart.labels) else 0.12)
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
    ax.set_title(chart.title)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    buffer = BytesIO()
    # No timestamp or software version in the file: identical input gives an identical PNG.
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _long(labels: list[str]) -> bool:
    return any(len(label) > 4 for label in labels)
