"""Charts draw whatever the data hold: exact byte sums beyond 64 bits included."""

from sentinel.report import charts
from sentinel.report.model import Chart, Series

HUGE = 300 * 2**62  # 300 flows of 2^62 bytes each: an exact sum no int64 holds


def test_bars_and_heat_maps_beyond_int64_draw():
    bars = Chart(
        "bytes",
        "Bytes",
        ["a", "b"],
        [HUGE, 1],
        "host",
        "bytes",
        unit="bytes",
        series=[Series("down", [HUGE, 2], unit="bytes")],
    )
    heat = Chart("heat", "Heat", ["00", "01"], [], "hour", "host", kind="heatmap", rows=["h"], matrix=[[HUGE, 0]])
    for chart in (bars, heat):
        assert charts.render_png(chart).startswith(b"\x89PNG")
        assert b"<svg" in charts.render_svg(chart)


def test_a_heat_maps_colour_bar_labels_stay_inside_the_image():
    """Its tick labels ("3,000", "16 GB") and its unit fell off the right edge of the PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for unit, top in (("flows", 3_250), ("bytes", 16 * 2**30)):
        matrix = [[top, 0, top // 2], [1, 2, 3]]
        heat = Chart(
            "h",
            "Heat",
            ["00", "01", "02"],
            [],
            "hour",
            "host",
            kind="heatmap",
            unit=unit,
            rows=["a", "b"],
            matrix=matrix,
        )
        with charts._style():
            fig = charts.draw(heat)
            renderer = FigureCanvasAgg(fig).get_renderer()
            bar = fig.axes[-1]  # the colour bar's own axes
            width = fig.bbox.width
            texts = [*bar.get_yticklabels(), bar.yaxis.label]
            assert all(t.get_text() for t in texts)
            assert max(t.get_window_extent(renderer).x1 for t in texts) <= width


def test_a_heat_maps_colour_bar_ticks_are_whole_counts():
    """Flows in a cell are whole: a bar from 0 to 2 flows read 0, 0.25, ..., 1.75, 2."""
    heat = Chart(
        "h", "Heat", ["00", "01"], [], "hour", "host", kind="heatmap", unit="flows", rows=["a"], matrix=[[2, 1]]
    )
    with charts._style():
        fig = charts.draw(heat)
        fig.canvas.draw()
        ticks = [t for t in fig.axes[-1].get_yticks() if 0 <= t <= 2]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_axis_byte_counts_reach_exabytes():
    assert [charts.human_bytes(v) for v in (0, 1_500, 2.5e18, 9.2e21)] == ["0", "1.5 kB", "2.5 EB", "9200 EB"]


def test_alert_charts_submitted_early_are_the_ones_the_report_gets(monkeypatch):
    from sentinel.report.evidence_charts import alert_chart
    from sentinel.report.model import Alert
    from tests.report.hostile import botnet_evidence

    ev = botnet_evidence(["10.0.0.1", "10.0.0.2"], [("10.0.0.1", "10.0.0.2", 3)], up_bytes=300, down_bytes=300)
    alert = Alert("botnet", "high", 0.8, ["10.0.0.1"], "s", id=4, evidence=ev)
    chart = alert_chart(alert)
    assert chart is not None and chart.key == "alert-4"
    drawn: list[tuple[str, str]] = []
    real = dict(charts.RENDER)
    for fmt in real:
        monkeypatch.setitem(charts.RENDER, fmt, lambda c, f=fmt: drawn.append((c.key, f)) or real[f](c))
    drawing = charts.BackgroundCharts(["png", "svg"])
    try:
        drawing.submit_alerts([alert])
        png, svg = drawing.png(chart), drawing.image(chart, "svg")
    finally:
        drawing.close()
    assert sorted(drawn) == [("alert-4", "png"), ("alert-4", "svg")]  # drawn once each, on the worker
    assert png == real["png"](chart) and svg == real["svg"](chart)
