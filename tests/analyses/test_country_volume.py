import dataclasses
import ipaddress

import pytest

from sentinel import pipeline
from sentinel.analyses.country_volume import Params
from sentinel.errors import ConfigError
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
    got = report.section("country_volume").json()["rows"]
    assert got == [
        {"country": "US", "flows": 2, "share": 0.4, "up_bytes": 30, "down_bytes": 300},
        {"country": "PT", "flows": 1, "share": 0.2, "up_bytes": 5, "down_bytes": 50},
        {
            **{"country": None, "scope": "internal", "address_class": "internal"},
            **{"flows": 1, "share": 0.2, "up_bytes": 1, "down_bytes": 2},
        },
        {
            **{"country": None, "scope": "special", "address_class": "multicast"},
            **{"flows": 1, "share": 0.2, "up_bytes": 3, "down_bytes": 0},
        },
    ]
    labels = [r["label"] for r in report.section("country_volume").tables[0].rows]
    assert labels == ["US", "PT", "(internal)", "(multicast)"]


def test_public_network_declared_internal_is_internal_not_its_country(tmp_path):
    rows = [
        flow(0, "64.225.56.201", "8.8.8.8", up=10, down=100),
        flow(1, "8.8.8.8", "64.225.56.201", up=20, down=200),
        flow(2, "64.225.56.201", "169.254.0.1"),
        flow(3, "64.225.56.201", "255.255.255.255"),
        flow(4, "64.225.56.201", "10.1.2.3"),  # private, but not declared internal here
    ]
    config = config_for(write_flows(tmp_path / "f.parquet", rows), "country_volume")
    config = dataclasses.replace(config, internal=(ipaddress.ip_network("64.225.56.201/32"),))
    table = pipeline.run(config).section("country_volume").tables[0]
    labels = {r["label"] for r in table.rows}
    assert labels == {"US", "(internal)", "(link-local)", "(broadcast)", "(private)"}


def test_by_asn_groups_volume_by_autonomous_system(tmp_path):
    rows = [
        flow(0, "192.168.1.10", "8.8.8.8", up=10, down=100),
        flow(1, "192.168.1.11", "8.8.4.4", up=20, down=200),
        flow(2, "192.168.1.10", "1.1.1.1", up=5, down=50),
        flow(3, "192.168.1.10", "192.168.1.1", up=1, down=2),
    ]
    config = config_for(write_flows(tmp_path / "f.parquet", rows), "country_volume", country_volume=Params(by="asn"))
    section = pipeline.run(config).section("country_volume")
    as_rows = section.json()["as_rows"]
    assert [(r["asn"], r["flows"], r["up_bytes"]) for r in as_rows] == [(15169, 2, 30), (13335, 1, 5), (None, 1, 1)]
    assert as_rows[0]["as_org"].startswith("AS15169 Google")
    assert as_rows[2]["address_class"] == "internal"
    assert [r["label"] for r in section.tables[0].rows][2] == "(internal)"
    assert section.charts[0].values == [2, 1]
    assert section.json()["rows"][0]["country"] == "US"  # the per-country rows stay (schema v1)


def test_by_must_be_country_or_asn():
    with pytest.raises(ConfigError, match="--by"):
        Params(by="city")


def test_chart_holds_top_countries(tmp_path):
    rows = [flow(i, "10.0.0.1", ip) for i, ip in enumerate(["8.8.8.8", "8.8.4.4", "193.136.0.1"])]
    config = config_for(write_flows(tmp_path / "f.parquet", rows), "country_volume", country_volume=Params(chart_top=1))
    chart = pipeline.run(config).section("country_volume").charts[0]
    assert (chart.labels, chart.values) == (["US", "other countries (1)"], [2, 1])
    assert [s.values for s in chart.series] == [[200, 100], [2000, 1000]]  # bytes each way, same bars
