"""Alert charts built from typed evidence, one builder per alert type."""

from sentinel.report import charts
from sentinel.report.evidence import (
    BeaconEvidence,
    DnsEvidence,
    Evidence,
    LateralEvidence,
    ScanEvidence,
    UploadTimeline,
)
from sentinel.report.evidence_charts import alert_chart
from sentinel.report.model import Alert
from sentinel.schema import US_PER_HOUR
from sentinel.timefmt import Instant
from tests.report.hostile import botnet_evidence, exfiltration_evidence

US_PER_MINUTE = US_PER_HOUR // 60
DAY = 19_860  # 2024-05-17, in days since the epoch


def _alert(kind: str, evidence, **extra) -> Alert:
    return Alert(kind, "high", 0.8, ["192.168.1.5"], "s", src_ip="192.168.1.5", id=7, evidence=evidence, **extra)


def _beacon(intervals: list[float], period: float) -> BeaconEvidence:
    figures = dict.fromkeys(
        ("jitter", "timing_score", "missed_beats_share", "active_share", "size_dispersion", "size_score"), 0.0
    )
    figures |= dict.fromkeys(("coverage", "span_share", "coverage_score", "service_share"), 1.0)
    return BeaconEvidence(
        kind="periodic",
        period_s=round(period, 3),
        connections=len(intervals) + 1,
        connections_in_bursts=0,
        gaps=0,
        typical_up_bytes=512,
        destinations=["203.0.113.7"],
        destination_count=1,
        prevalence=1,
        hosts_sharing_schedule=1,
        intervals=intervals,
        period=period,
        partner="203.0.113.7",
        **figures,
    )


def test_beacon_chart_is_the_interval_histogram():
    chart = alert_chart(_alert("beacon", _beacon([300.0] * 9 + [290.0, 1200.0], 300.0)))
    assert chart is not None and chart.key == "alert-7"  # named as its PNG beside the Markdown report
    assert len(chart.labels) == 12 and chart.labels[0] == "0.0s-1.2m" and chart.labels[-1] == "13.8m-15.0m"
    assert chart.values[3] == 1 and chart.values[4] == 9  # 290 s in 225-300 s, 300 s in 300-375 s
    assert chart.values[-1] == 1 and sum(chart.values) == 11  # beyond 3 periods: the last bin
    assert chart.title == "Intervals between connections of 192.168.1.5 to 203.0.113.7"
    assert charts._axis_label(chart.ylabel, chart.unit) == "intervals"  # a count of intervals, not of flows
    assert alert_chart(_alert("beacon", _beacon([], 300.0))) is None  # no intervals, no chart


def test_exfiltration_chart_is_the_upload_timeline_with_dated_labels():
    timeline = UploadTimeline(
        hours=[DAY * 24 + 9, DAY * 24 + 10],
        width=1,
        up_bytes=[5, 2**70],  # beyond int64: a float in the chart, no overflow
        down_bytes=[1, 0],
        destinations=["203.0.113.9", "203.0.113.10"],
        relative=False,
    )
    chart = alert_chart(_alert("exfiltration", exfiltration_evidence("AS", timeline=timeline)))
    assert chart is not None and chart.unit == "bytes" and chart.labels == ["09h", "10h"]
    assert chart.values == [5.0, float(2**70)] and chart.series[0].values == [1.0, 0.0]
    assert chart.title == "Bytes 192.168.1.5 sent to its 2 transfer destinations, per hour (UTC)"
    assert alert_chart(_alert("exfiltration", exfiltration_evidence("AS", timeline=None))) is None


def test_botnet_chart_sums_both_directions_of_each_pair():
    edges = [("10.0.0.10", "10.0.0.2", 2), ("10.0.0.2", "10.0.0.10", 3)]
    ev = botnet_evidence(["10.0.0.2", "10.0.0.10"], edges, ports=["tcp/31337"], reciprocity=1.0)
    chart = alert_chart(_alert("botnet", ev))
    assert chart is not None and chart.kind == "graph"
    assert chart.edges == [("10.0.0.2", "10.0.0.10", 5.0)]  # by address order, not text order
    assert chart.values == [5.0, 5.0]


def test_scan_dns_and_lateral_charts_label_their_times():
    step = 10 * US_PER_MINUTE
    scan = ScanEvidence(
        kinds=["vertical"],
        hosts=1,
        internal_hosts=1,
        ports=30,
        targets=30,
        probes=30,
        unanswered_share=0.0,
        duration_seconds=60.0,
        targets_per_minute=30.0,
        widest_window={},
        top_ports=[],
        top_hosts=[],
        probe_share=1.0,
        bucket_starts=[Instant(US_PER_HOUR + i * step, relative=True) for i in range(2)],
        new_targets=[20, 10],
        step_minutes=10,
    )
    chart = alert_chart(_alert("scan", scan))
    assert chart is not None and chart.labels == ["+01:00:00.00", "+01:10:00.00"] and chart.values == [20.0, 10.0]
    assert chart.title == "Targets 192.168.1.5 probed for the first time, per 10 min"
    assert charts._axis_label(chart.ylabel, chart.unit) == "new targets"  # not "new targets (flows)"

    hours = [Instant((DAY * 24 + h) * US_PER_HOUR) for h in (23, 24)]
    dns = DnsEvidence(
        findings=["volume out of line"],
        dns_flows=9,
        dns_up_bytes=3000,
        dns_down_bytes=10,
        up_bytes_per_query=333.3,
        peer_median_flows=9.0,
        peer_median_up_bytes=1500.0,
        peer_median_bytes_per_query=70.0,
        z_flows=None,
        z_up_bytes=5.0,
        z_bytes_per_query=6.0,
        rogue_resolvers=[],
        dns_sweep_targets=0,
        resolvers=[],
        hosts_speaking_dns=10,
        internal_resolvers=[],
        hours=hours,
        up_bytes_per_hour=[1000, 2000],
    )
    chart = alert_chart(_alert("dns_tunnel", dns))
    assert chart is not None and chart.labels == ["2024-05-17 23:00", "2024-05-18 00:00"]
    assert chart.values == [1000.0, 2000.0] and "1.5 kB a day" in chart.title
    assert chart.unit == "bytes" and charts._axis_label(chart.ylabel, chart.unit) == "bytes up"  # kB ticks

    firsts = [Instant(US_PER_HOUR + m * US_PER_MINUTE, relative=True) for m in (0, 1, 25)]
    lateral = LateralEvidence(
        targets=3,
        burst_targets=3,
        burst_start=firsts[0],
        burst_minutes=30,
        ports=["tcp/445"],
        flows=3,
        up_bytes=1,
        down_bytes=1,
        unanswered_targets=0,
        sessions=[],
        first_contacts=firsts,
    )
    chart = alert_chart(_alert("lateral", lateral))
    assert chart is not None and chart.labels == ["+01:00", "+01:10", "+01:20"] and chart.values == [2.0, 0.0, 1.0]
    assert charts._axis_label(chart.ylabel, chart.unit) == "new targets"


def test_an_alert_type_without_a_chart_has_none():
    assert alert_chart(_alert("threat_intel", Evidence())) is None
