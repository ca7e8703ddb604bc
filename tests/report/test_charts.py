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
