import pytest

from sentinel import pipeline
from sentinel.analyses.country_volume import Params
from tests.flows import config_for, flow, write_flows

# Every test here runs on every engine (DuckDB, and Spark in the `spark` group): same flows, same results.
pytestmark = pytest.mark.usefixtures("every_engine")


def test_country_table_exact(tmp_path):
    rows = [
        flow(0, "192.168.1.10", "8.8.8.8", up=10, down=100),
        flow(1, "192.168.1.11", "8.8.8.8", up=20, down=200),
        flow(2, "192.168.1.10", "193.136.0.1", up=5, down=50),
        flow(3, "192.168.1.10", "192.168.1.1", up=1, down=2),  # internal destination
        flow(4, "192.168.1.10", "224.0.0.1", up=3, down=0),  # multicast: reserved, not "unknown"
    ]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", rows), "country_volume"))
    got = report.section("country_volume").payload["rows"]
    assert got == [
        {"country": "US", "flows": 2, "share": 0.4, "up_bytes": 30, "down_bytes": 300},
        {"country": "PT", "flows": 1, "share": 0.2, "up_bytes": 5, "down_bytes": 50},
        {"country": None, "scope": "internal", "flows": 1, "share": 0.2, "up_bytes": 1, "down_bytes": 2},
        {"country": None, "scope": "special", "flows": 1, "share": 0.2, "up_bytes": 3, "down_bytes": 0},
    ]
    labels = [r["label"] for r in report.section("country_volume").tables[0].rows]
    assert labels == ["US", "PT", "(internal)", "(reserved)"]


def test_chart_holds_top_countries(tmp_path):
    rows = [flow(i, "10.0.0.1", ip) for i, ip in enumerate(["8.8.8.8", "8.8.4.4", "193.136.0.1"])]
    config = config_for(write_flows(tmp_path / "f.parquet", rows), "country_volume", country_volume=Params(chart_top=1))
    chart = pipeline.run(config).section("country_volume").charts[0]
    assert (chart.labels, chart.values) == (["US", "other countries (1)"], [2, 1])
    assert [s.values for s in chart.series] == [[200, 100], [2000, 1000]]  # bytes each way, same bars
