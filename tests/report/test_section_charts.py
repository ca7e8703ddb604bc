"""Section charts drawn from a unit's rows: the same rows its tables and JSON carry."""

from sentinel.report.section_charts import host_hours_heatmap, hourly_bars, volume_bars


def test_volume_bars_keep_the_top_and_sum_the_rest_in_every_series():
    rows = [
        {"label": c, "flows": f, "up_bytes": 10 * f, "down_bytes": 100 * f}
        for c, f in (("US", 50), ("PT", 30), ("DE", 15), ("FR", 5))
    ]
    chart = volume_bars(rows, 2, "country", "other countries")
    assert chart.labels == ["US", "PT", "other countries (2)"] and chart.values == [50, 30, 20]
    assert [s.values for s in chart.series] == [[500, 300, 200], [5000, 3000, 2000]]
    assert all(s.unit == "bytes" for s in chart.series) and chart.xlabel == "destination country"
    assert volume_bars(rows, 10, "autonomous system", "other AS").labels == ["US", "PT", "DE", "FR"]


def test_hourly_bars_and_heat_map_read_the_hour_rows():
    rows = [{"hour": h, "flows": h, "up_bytes": 2 * h, "down_bytes": 3 * h} for h in range(24)]
    chart = hourly_bars(rows, "Europe/Lisbon")
    assert chart.labels[:2] == ["00", "01"] and chart.values[23] == 23 and chart.series[1].values[2] == 6
    assert chart.title == "Connections per hour of the day (Europe/Lisbon)"
    hosts = [{"host": "10.0.0.1", "hours": [1] * 24}, {"host": "10.0.0.2", "hours": list(range(24))}]
    heat = host_hours_heatmap(hosts, "UTC")
    assert heat.kind == "heatmap" and heat.rows == ["10.0.0.1", "10.0.0.2"] and len(heat.labels) == 24
    assert heat.matrix[1][5] == 5.0 and heat.matrix[0] == [1.0] * 24
