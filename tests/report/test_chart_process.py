"""Charts drawn in a child process: the same bytes as drawn in the run, and the run draws them itself when the
child cannot."""

import math
import sys

import numpy as np
import pytest

from sentinel.report import charts
from sentinel.report.chart_process import ChartProcess, decode, encode
from sentinel.report.model import Chart, Series


def _charts() -> list[Chart]:
    bars = Chart(
        "bytes", "Bytes of 192.168.1.<b>", ["a", "b", "c"], [3, 1, 2], "host", "bytes", unit="bytes",
        series=[Series("down", [1, 2, 3], unit="bytes")],
    )  # fmt: skip
    heat = Chart("heat", "Heat", ["00", "01"], [], "hour", "host", kind="heatmap", rows=["h"], matrix=[[5, 0]])
    graph = Chart(
        "graph", "P2P", ["10.0.0.1", "10.0.0.2"], [1, 2], "flows", "bytes", kind="graph",
        edges=[("10.0.0.1", "10.0.0.2", 3.0)],
    )  # fmt: skip
    return [bars, heat, graph]


def test_the_child_draws_the_bytes_the_run_draws():
    process = ChartProcess()
    try:
        for chart in _charts():
            for fmt in ("png", "svg"):
                assert process.render(chart, fmt) == charts.RENDER[fmt](chart)
    finally:
        process.close()


def test_a_child_that_cannot_draw_answers_none_and_the_run_draws(tmp_path):
    gone = ChartProcess([sys.executable, "-c", "pass"])  # exits at once: a broken installation, a crash
    assert gone.render(_charts()[0], "png") is None
    assert gone.render(_charts()[0], "png") is None  # and stays out of the way
    never = ChartProcess([str(tmp_path / "no-such-python")])  # cannot even start
    assert never.render(_charts()[0], "png") is None
    process = ChartProcess()
    try:
        assert process.render(_charts()[0], "gif") is None  # the chart raised there: raised again here
    finally:
        process.close()


@pytest.mark.parametrize("local", [0, 1])
def test_past_local_charts_background_drawing_goes_to_the_child(monkeypatch, local):
    monkeypatch.setattr(charts, "LOCAL_CHARTS", local)
    used: list[str] = []
    render = ChartProcess.render
    monkeypatch.setattr(ChartProcess, "render", lambda self, c, f: used.append(c.key) or render(self, c, f))
    drawing = charts.BackgroundCharts(["png"])
    try:
        for chart in _charts():
            drawing._submit([chart])
        images = [drawing.png(chart) for chart in _charts()]
    finally:
        drawing.close()
    assert images == [charts.render_png(chart) for chart in _charts()]
    # the child starts once the (local + 1)-th chart is submitted; the worker uses it from then on
    assert used and set(used) <= {c.key for c in _charts()[local:]}


def test_the_child_ends_when_its_input_closes():
    process = ChartProcess()
    child = process._child
    assert child is not None and process.render(_charts()[0], "png") is not None
    process.close()
    assert child.wait(timeout=30) == 0  # no child left behind once the run has closed it


def test_charts_travel_as_json_with_numpy_numbers_huge_sums_and_nan():
    chart = Chart(
        "odd", "Odd \u202e values", ["a", "b", "c"], [np.int64(3), 300 * 2**62, math.nan], "x", "bytes",
        unit="bytes", series=[Series("more", [np.float32(1.5), 2, 3])],
    )  # fmt: skip
    back, fmt = decode(encode(chart, "svg"))
    assert fmt == "svg" and back.values[:2] == [3, 300 * 2**62] and math.isnan(back.values[2])
    assert back.series == [Series("more", [1.5, 2, 3])] and back.title == chart.title
    process = ChartProcess()
    try:
        assert process.render(chart, "png") == charts.render_png(chart)
        assert process.render(Chart("s", "set", ["a"], [{1}], "x", "y"), "png") is None  # no JSON: draw here
    finally:
        process.close()
