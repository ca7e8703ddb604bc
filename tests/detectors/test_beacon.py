import pytest

from sentinel import pipeline, schema
from sentinel.detectors import beacon as bc
from sentinel.report.evidence_charts import alert_chart
from tests.flows import config_for, flow, write_flows

# Every test here runs on every engine (DuckDB, and Spark in the `spark` group): same flows, same results.
pytestmark = pytest.mark.usefixtures("every_engine")

S = 100  # course timestamps are hundredths of a second


def _noise() -> list[dict]:
    """Five hosts browsing at irregular times (a fixed pseudo-random sequence)."""
    rows, t = [], 0
    for i in range(400):
        t += (i * 7919) % 1000 * S // 10 + S
        rows.append(flow(t, f"192.168.1.{10 + i % 5}", f"8.8.{i % 7}.{i % 3}", up=300 + (i * 31) % 4000))
    return rows


def test_a_periodic_host_alerts_and_noise_does_not(tmp_path):
    beacon = [
        flow(1000 * S + i * 300 * S + (i * 37) % 30 * S, "192.168.1.99", "203.0.113.7", up=512) for i in range(200)
    ]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", _noise() + beacon), "beacon"))
    [alert] = report.alerts
    assert alert.type == "beacon" and alert.hosts == ["192.168.1.99"] and alert.dst_ip == "203.0.113.7"
    assert alert.evidence.kind == "periodic" and 290 <= alert.evidence.period_s <= 320
    assert alert.evidence.connections == 200 and alert.evidence.typical_up_bytes == 512
    assert alert.severity in ("high", "critical") and alert.port == 443 and alert_chart(alert) is not None
    assert sum(alert_chart(alert).values) == 199


def test_rotating_addresses_of_one_24_are_one_finding(tmp_path):
    beacon = [flow(i * 120 * S, "192.168.1.99", f"203.0.113.{1 + i % 5}", up=700) for i in range(300)]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", _noise() + beacon), "beacon"))
    [alert] = report.alerts
    assert alert.evidence.destination_count == 5 and alert.evidence.period_s == pytest.approx(120)
    rows = report.section("beacon").json()["rows"]
    assert rows[0]["destination"] == "203.0.113.0/24"


def test_rotating_ipv6_addresses_of_one_64_are_one_finding(tmp_path):
    # IPv6 destinations take the grouping's slow path (prefixes from the address text, not its number)
    beacon = [flow(i * 120 * S, "fd00::99", f"2001:db8:0:1::{1 + i % 5:x}", up=700) for i in range(300)]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", _noise() + beacon), "beacon"))
    [alert] = report.alerts
    assert alert.hosts == ["fd00::99"] and alert.evidence.destination_count == 5
    rows = report.section("beacon").json()["rows"]
    assert rows[0]["destination"] == "2001:db8:0:1::/64"


def test_a_fleet_schedule_is_scored_down(tmp_path):
    # ten hosts check the same update server every hour: software, not an infection
    fleet = [
        flow(h * 60 * S + i * 3600 * S, f"192.168.1.{20 + h}", "198.51.100.1") for h in range(10) for i in range(24)
    ]
    path = write_flows(tmp_path / "f.parquet", fleet)
    report = pipeline.run(config_for(path, "beacon", beacon=bc.Params(list_score=0.0)))
    assert report.alerts == []
    rows = report.section("beacon").json()["rows"]
    assert len(rows) == 10 and all(r["sharing"] == 10 and r["score"] < 0.25 for r in rows)
    # by default, schedules scored that low are counted, not listed
    section = pipeline.run(config_for(path, "beacon")).section("beacon").json()
    assert section["rows"] == [] and section["unlisted"] == 10


def test_a_fleet_pinned_to_addresses_of_one_network_is_one_fleet(tmp_path):
    # six clients keep an app's connection to a CDN alive every minute, each pinned to one of three edge
    # addresses of one /24 (DNS load balancing): two clients per address, one fleet of six
    fleet = [
        flow(h * 7 * S + i * 60 * S, f"192.168.1.{20 + h}", f"198.51.100.{10 + h % 3}", up=90)
        for h in range(6)
        for i in range(600)
    ]
    params = bc.Params(list_score=0.0)
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", fleet), "beacon", beacon=params))
    assert report.alerts == []
    rows = report.section("beacon").json()["rows"]
    assert len(rows) == 6 and all(r["sharing"] == 6 for r in rows)


def test_inbound_beacon_implicates_the_internal_server(tmp_path):
    beacon = [flow(i * 250 * S, "73.54.23.243", "192.168.1.5", port=80, up=300) for i in range(100)]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", beacon), "beacon"))
    [alert] = report.alerts
    assert alert.hosts == ["192.168.1.5"] and alert.src_ip == "73.54.23.243"


def test_strobe(tmp_path):
    strobe = [flow(i * 10, "192.168.1.9", "203.0.113.9") for i in range(600)]
    params = bc.Params(strobe_connections=500)
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", strobe), "beacon", beacon=params))
    [alert] = report.alerts
    assert alert.evidence.kind == "strobe" and alert.evidence.connections == 600 and alert.score >= 0.6


def test_same_input_same_findings(tmp_path):
    path = write_flows(
        tmp_path / "f.parquet", _noise() + [flow(i * 60 * S, "192.168.1.7", "203.0.113.1") for i in range(50)]
    )
    one = pipeline.run(config_for(path, "beacon")).section("beacon").json()
    two = pipeline.run(config_for(path, "beacon")).section("beacon").json()
    assert one == two and one["rows"]


def test_long_connection_needs_duration(tmp_path):
    # Canonical Parquet with durations (what `sentinel import` writes from Zeek), which both engines read.
    rows = [
        {
            "ts": (1713520800 + i * 97) * 1_000_000,
            "src_ip": f"192.168.1.{10 + i % 4}",
            "dst_ip": f"203.0.113.{i % 9}",
            "proto": "tcp",
            "port": 443,
            "up_bytes": 500,
            "down_bytes": 9000,
            "duration": i % 50 + 0.5,
        }
        for i in range(60)
    ]
    rows.append(
        {
            "ts": 1713520900 * 1_000_000,
            "src_ip": "192.168.1.50",
            "dst_ip": "198.51.100.4",
            "proto": "tcp",
            "port": 22,
            "up_bytes": 4_000_000,
            "down_bytes": 90_000_000,
            "duration": 43200.0,
        }
    )
    path = write_flows(tmp_path / "flows.parquet", rows, schema.arrow_schema((schema.DURATION,)))
    report = pipeline.run(config_for(path, "beacon"))
    [alert] = report.alerts
    assert alert.evidence.kind == "long_connection" and alert.evidence.longest_s == 43200.0
    assert alert.hosts == ["192.168.1.50"] and alert.port == 22 and 0.5 <= alert.score <= 0.7


def test_the_summary_says_who_else_keeps_the_schedule_in_words():
    assert bc._sharing(0) == "no other host or partner keeps this schedule"
    assert bc._sharing(1) == "one other host or partner keeps this schedule"
    assert bc._sharing(4) == "4 other hosts or partners keep this schedule"


def test_pairs_but_no_group_large_enough_is_an_empty_section(tmp_path):
    """Pairs reach min_pair_connections, no group reaches min_connections: a section without findings, no
    error (the column-wise grouping once failed on an empty result)."""
    flows = [flow(i * 100 * S, "192.168.1.10", "203.0.113.5") for i in range(4)]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", flows), "beacon"))
    section = report.section("beacon")
    assert section is not None and section.payload["pairs"] == 1 and section.payload["groups"] == 0
    assert report.alerts == []
