"""PNG bar charts of report sections (matplotlib, Agg: no display needed)."""

from __future__ import annotations

from io import BytesIO

from sentinel.report.model import Chart


def render_png(chart: Chart) -> bytes:
    # Figure without pyplot: no global state, no GUI backend, cheaper import.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    positions = range(len(chart.values))
    ax.bar(positions, chart.values, color="#3b6ea8")
    ax.set_xticks(
        list(positions),
        chart.labels,
        rotation=45 if len(chart.labels) > 24 else 0,
        fontsize=8 if len(chart.labels) > 12 else 10,
    )
    ax.set_xlabel(chart.xlabel)
    ax.set_ylabel(chart.ylabel)
    ax.set_title(chart.title)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    # No timestamp or software version in the file: identical input gives an identical PNG.
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()
