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
