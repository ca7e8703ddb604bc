import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentinel import pipeline
from sentinel.detectors import exfiltration as ex
from sentinel.detectors.base import severity_for
from sentinel.report.evidence_charts import alert_chart
from tests.flows import config_for, flow, write_flows

# Every test here runs on every engine (DuckDB, and Spark in the `spark` group): same flows, same results.
pytestmark = pytest.mark.usefixtures("every_engine")

MB = 1_000_000


def _office(extra: list[dict]) -> list[dict]:
    """Ten hosts browsing (download-heavy) plus whatever the test adds."""
    rows = []
    for h in range(10, 20):
        for i in range(20):
            rows.append(flow(i * 1000 + h, f"192.168.1.{h}", f"8.8.{h}.{i}", up=100_000 + h * 1000, down=1_000_000))
    return rows + extra


def test_ranking_and_transfer_alert_exact(tmp_path):
    # 192.168.1.99 sends 30 MB to one server in 30 flows and gets 30 kB back.
    exfil = [flow(50_000 + i, "192.168.1.99", "193.136.0.1", up=MB, down=1000) for i in range(30)]
    rows = _office(exfil)
    report = pipeline.run(
        config_for(write_flows(tmp_path / "f.parquet", rows), "exfiltration", exfiltration=ex.Params(percentile=80))
    )
    section = report.section("exfiltration")
    listed = section.json()["rows"]
    assert len(listed) == 2  # int(11 hosts * 20%)
    assert listed[0]["src_ip"] == "192.168.1.99" and listed[0]["alert"] is True
    assert listed[0]["up_bytes"] == 30 * MB and listed[0]["down_bytes"] == 30_000
    assert listed[1]["alert"] is False
    [alert] = report.alerts
    assert alert.type == "exfiltration" and alert.hosts == ["192.168.1.99"]
    assert alert.dst_ip == "193.136.0.1"
    assert alert.evidence.transfer_out_bytes == 30 * MB - 30_000
    assert alert.evidence.transfers[0]["flows"] == 30
    assert "PT" in alert.summary


def test_transfer_totals_count_every_flow_of_the_pair(tmp_path):
    # The same server also answered two ordinary requests (down > up) and another host downloads from it:
    # the pair's totals then come from a pass over all its flows, not only the upload-dominant ones.
    exfil = [flow(50_000 + i, "192.168.1.99", "193.136.0.1", up=MB, down=1000) for i in range(30)]
    exfil += [flow(60_000 + i, "192.168.1.99", "193.136.0.1", up=1000, down=200_000) for i in range(2)]
    exfil += [flow(70_000, "192.168.1.10", "193.136.0.1", up=100, down=5_000)]
    report = pipeline.run(
        config_for(
            write_flows(tmp_path / "f.parquet", _office(exfil)), "exfiltration", exfiltration=ex.Params(percentile=80)
        )
    )
    [alert] = report.alerts
    [transfer] = alert.evidence.transfers
    assert (transfer["flows"], transfer["up_bytes"], transfer["down_bytes"]) == (32, 30 * MB + 2000, 430_000)
    assert alert.first_seen.text() == "+00:08:20.00" and alert.last_seen.text() == "+00:10:00.01"


def test_download_heavy_host_is_never_an_alert(tmp_path):
    heavy = [flow(60_000 + i, "192.168.1.98", "8.8.8.8", up=5 * MB, down=50 * MB) for i in range(30)]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", _office(heavy)), "exfiltration"))
    assert report.alerts == []


def test_internal_backup_is_not_exfiltration(tmp_path):
    # the original counted every destination; a nightly backup to the NAS must not count as data leaving
    backup = [flow(i, "192.168.1.200", "192.168.1.250", up=100 * MB, down=1000, port=873) for i in range(50)]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", _office(backup)), "exfiltration"))
    assert report.alerts == []
    assert "192.168.1.200" not in [r["src_ip"] for r in report.section("exfiltration").json()["rows"]]


def test_score_hosts_excess_ranks_volume_over_ratio():
    params = ex.Params()
    rows = [
        {"src_ip": "a", "flows": 100, "up_bytes": 10 * MB, "down_bytes": 100 * MB},
        {"src_ip": "b", "flows": 100, "up_bytes": 20 * MB, "down_bytes": 100 * MB},
        {"src_ip": "c", "flows": 100, "up_bytes": 10 * MB, "down_bytes": 100 * MB},
        {"src_ip": "tiny", "flows": 100, "up_bytes": 1000, "down_bytes": 10},  # big ratio, no volume
    ]
    ranked, peers = ex.score_hosts(rows, params)
    assert peers.median_up == 10 * MB  # median of 1 kB, 10 MB, 10 MB, 20 MB
    assert ranked[0]["src_ip"] == "b"
    assert ranked[-1]["src_ip"] != "b"
    assert ranked[0]["excess_bytes"] > ranked[[r["src_ip"] for r in ranked].index("tiny")]["excess_bytes"]


def test_transfer_rule():
    params = ex.Params(min_transfer_ratio=5)
    assert ex.is_transfer({"up_bytes": 50 * MB, "down_bytes": MB}, 20 * MB, params)
    assert not ex.is_transfer({"up_bytes": 50 * MB, "down_bytes": 20 * MB}, 20 * MB, params)  # ratio 2.5
    assert not ex.is_transfer({"up_bytes": 10 * MB, "down_bytes": 0}, 20 * MB, params)  # too small
    assert ex.transfer_threshold(ex.Peers(0.1, 0), params) == params.min_transfer_bytes
    assert ex.transfer_threshold(ex.Peers(0.1, 100 * MB), params) == 200 * MB


def test_severity_scale():
    assert severity_for(ex.score(20 * MB, 20 * MB)) == "medium"
    assert severity_for(ex.score(60 * MB, 20 * MB)) == "high"
    assert severity_for(ex.score(250 * MB, 20 * MB)) == "critical"
    assert severity_for(ex.score(1_000 * MB, 2_000 * MB)) == "high"  # a gigabyte out is never below high
    assert severity_for(ex.score(11_000 * MB, 20_000 * MB)) == "critical"


# -- spread transfers and quiet hours (issue 7) ------------------------------------------------------------


def _spread(src: str, dsts: list[str], each: int, start: int = 50_000) -> list[dict]:
    return [flow(start + i, src, d, up=each // 5, down=1000) for i, d in enumerate(dsts) for _ in range(5)]


def test_transfer_spread_over_one_slash24_alerts_as_one(tmp_path):
    # 192.168.1.99 sends 12 addresses of 193.136.7.0/24 about 4 MB each: under the one-destination threshold
    # (2x the median host's ~2.1 MB and 1 MB ... 4.2 MB), 48 MB together.
    dsts = [f"193.136.7.{i}" for i in range(10, 22)]
    report = pipeline.run(
        config_for(
            write_flows(tmp_path / "f.parquet", _office(_spread("192.168.1.99", dsts, 4 * MB))),
            "exfiltration",
            exfiltration=ex.Params(percentile=80),
        )
    )
    [alert] = report.alerts
    assert alert.hosts == ["192.168.1.99"]
    [transfer] = alert.evidence.transfers
    assert transfer["spread_over"] == "193.136.7.0/24" and transfer["destinations"] == 12
    assert transfer["up_bytes"] == 12 * 5 * (4 * MB // 5) and transfer["flows"] == 60
    assert transfer["country"] == "PT"
    assert "12 addresses of 193.136.7.0/24" in alert.summary
    assert alert.evidence.transfer_out_bytes == transfer["up_bytes"] - transfer["down_bytes"]


def test_a_transfer_to_an_address_of_a_spread_group_joins_it(tmp_path):
    # The same spread, plus 40 MB to one more address of the /24 (a transfer on its own): one transfer to 13
    # addresses, quoting the largest first.
    dsts = [f"193.136.7.{i}" for i in range(10, 22)]
    rows = _office(_spread("192.168.1.99", dsts, 4 * MB) + _spread("192.168.1.99", ["193.136.7.200"], 40 * MB))
    report = pipeline.run(
        config_for(write_flows(tmp_path / "f.parquet", rows), "exfiltration", exfiltration=ex.Params(percentile=80))
    )
    [alert] = report.alerts
    [transfer] = alert.evidence.transfers
    assert transfer["spread_over"] == "193.136.7.0/24" and transfer["destinations"] == 13
    assert transfer["dst_ip"] == alert.dst_ip == "193.136.7.200"
    assert transfer["up_bytes"] == 12 * 5 * (4 * MB // 5) + 5 * (40 * MB // 5)


def test_spread_needs_enough_destinations(tmp_path):
    dsts = ["193.136.7.10", "193.136.7.11"]  # two addresses: under min_spread_destinations
    rows = _office(_spread("192.168.1.99", dsts, 4 * MB))
    report = pipeline.run(
        config_for(write_flows(tmp_path / "f.parquet", rows), "exfiltration", exfiltration=ex.Params(percentile=80))
    )
    assert report.alerts == []


def test_spread_over_one_as_organisation(tmp_path, shared_data):
    # Google addresses in four different /24s, 4 MB each: one AS organisation with the legacy ASN database.
    asn = shared_data / "geoip-legacy" / "GeoIPASNum-20140916.dat"
    dsts = ["8.8.8.8", "8.8.4.4", "74.125.1.1", "173.194.2.2"]
    config = config_for(
        write_flows(tmp_path / "f.parquet", _office(_spread("192.168.1.99", dsts, 4 * MB))),
        "exfiltration",
        exfiltration=ex.Params(percentile=80),
    )
    config = type(config)(**{**config.__dict__, "org_db": str(asn)})
    [alert] = pipeline.run(config).alerts
    [transfer] = alert.evidence.transfers
    assert transfer["spread_over"].startswith("AS organisation AS15169") and transfer["destinations"] == 4
    assert transfer["as_org"].startswith("AS15169")


# The alerting hosts' pass filters their flows by literals too (LITERAL_HOSTS), or by the join alone (0).
BY_LITERALS_OR_JOIN = pytest.mark.parametrize("literal_hosts", [ex.LITERAL_HOSTS, 0])


@BY_LITERALS_OR_JOIN
def test_transfer_in_quiet_hours_scores_up(tmp_path, monkeypatch, literal_hosts):
    # The office and the host browse during hour 0 to hour 9; the host's transfer happens at 05:00, when its
    # other traffic stopped: the score rises by half its distance to 1.
    monkeypatch.setattr(ex, "LITERAL_HOSTS", literal_hosts)
    rows = []
    for h in range(10, 20):
        for i in range(40):
            ts = (i % 10) * 360_000 + h  # hours 0-9
            rows.append(flow(ts, f"192.168.1.{h}", f"8.8.{h}.{i}", up=100_000, down=1_000_000))
    rows += [flow(i * 36_000, "192.168.1.99", f"9.9.{i}.1", up=1000, down=100_000) for i in range(30)]  # 00-03h
    rows += [flow(5 * 360_000 + i, "192.168.1.99", "193.136.0.1", up=MB, down=1000) for i in range(30)]
    report = pipeline.run(
        config_for(write_flows(tmp_path / "f.parquet", rows), "exfiltration", exfiltration=ex.Params(percentile=80))
    )
    [alert] = report.alerts
    assert alert.evidence.quiet_hours_share == 1.0
    base = ex.score(alert.evidence.transfer_out_bytes, alert.evidence.alert_threshold_bytes)
    assert alert.score == ex.with_quiet(base, 1.0, 0.5) == pytest.approx(1 - (1 - base) * 0.5, abs=1e-4)
    assert alert_chart(alert) is not None and sum(alert_chart(alert).values) == 30 * MB


def test_quiet_share_and_with_quiet():
    series = [
        {"other_flows": 100, "out_bytes": 0},
        {"other_flows": 100, "out_bytes": 10},
        {"other_flows": 2, "out_bytes": 30},
        {"other_flows": 0, "out_bytes": 60},
    ]
    assert ex.quiet_share(series, 0.1) == 0.9
    assert ex.quiet_share([{"other_flows": 0, "out_bytes": 5}], 0.1) is None  # nothing to compare with
    assert ex.with_quiet(0.5, None, 0.5) == 0.5 and ex.with_quiet(0.5, 1.0, 0.5) == 0.75


@given(st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=1))
def test_with_quiet_stays_in_unit_interval_and_never_lowers(value, share, weight):
    raised = ex.with_quiet(value, share, weight)
    assert 0.0 <= raised <= 1.0 and raised >= value - 1e-4  # rounded to 4 places


@BY_LITERALS_OR_JOIN
def test_alert_chart_is_the_upload_timeline(tmp_path, monkeypatch, literal_hosts):
    """The alert's chart: bytes sent to the destination and back, per hour over the capture's span."""
    monkeypatch.setattr(ex, "LITERAL_HOSTS", literal_hosts)
    hour = 360_000  # hundredths of a second
    exfil = [flow(3 * hour + i, "192.168.1.99", "193.136.0.1", up=MB, down=1000) for i in range(20)]
    exfil += [flow(5 * hour + i, "192.168.1.99", "193.136.0.1", up=MB, down=1000) for i in range(10)]
    exfil += [flow(9 * hour, "192.168.1.10", "8.8.8.8")]  # the capture runs on to 09h
    report = pipeline.run(
        config_for(
            write_flows(tmp_path / "f.parquet", _office(exfil)), "exfiltration", exfiltration=ex.Params(percentile=80)
        )
    )
    [alert] = report.alerts
    chart = alert_chart(alert)
    assert chart is not None and chart.unit == "bytes" and "193.136.0.1" in chart.title
    assert chart.labels == [f"+{h:02d}h" for h in range(10)]  # the day is unknown: hours from its 00:00
    assert chart.values == [0, 0, 0, 20 * MB, 0, 10 * MB, 0, 0, 0, 0]
    assert chart.series[0].values[3] == 20_000 and chart.series[0].unit == "bytes"


def test_timeline_buckets_fit_long_captures():
    assert ex.timeline_buckets([5, 7], [0, 30]) == (list(range(31)), 1)
    week = 7 * 24
    assert ex.timeline_buckets([500, 503], [0, 10 * week]) == ([500, 501, 502, 503], 1)  # the alert's own hours
    days, width = ex.timeline_buckets([0, 10 * week], [0, 10 * week])
    assert width == 24 and days == [24 * d for d in range(70 + 1)]
    days, width = ex.timeline_buckets([0, 10**9], [0, 10**9])  # a stray time: only the days with traffic
    assert width == 24 and days == [0, 10**9 // 24 * 24]
