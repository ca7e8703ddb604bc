from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentinel import pipeline, schema
from sentinel.config import Config
from sentinel.detectors import scan
from sentinel.errors import ConfigError
from sentinel.importer import import_flows
from sentinel.registry import UNITS
from sentinel.report.evidence import ScanEvidence
from sentinel.report.evidence_charts import alert_chart
from sentinel.units import check_params
from tests.flows import config_for, flow, write_flows

# Every test here runs on every engine (DuckDB, and Spark in the `spark` group): same flows, same results.
pytestmark = pytest.mark.usefixtures("every_engine")

SCANNER = "192.168.5.66"
SECOND = 100  # course timestamps count hundredths


def _office() -> list[dict]:
    """Clients using servers and the Internet: answered flows, many sources per destination."""
    rows = []
    for c in range(10, 40):
        client = f"192.168.5.{c}"
        rows += [flow(c * 50 + k, client, "192.168.5.250", up=70, down=180, port=53, proto="udp") for k in range(3)]
        rows += [flow(c * 50 + 5, client, "192.168.5.251", up=2_000, down=40_000, port=445)]
        rows += [flow(c * 50 + 6, client, f"52.1.0.{c}", up=900, down=12_000, port=443)]
    return rows


def _run(tmp_path, rows, **params):
    path = write_flows(tmp_path / "f.parquet", rows)
    return pipeline.run(config_for(path, "scan", scan=scan.Params(**params)))


def test_horizontal_scan_alerts_exact(tmp_path):
    probes = [flow(10_000 + i * SECOND, SCANNER, f"192.168.5.{100 + i}", up=44, down=0, port=445) for i in range(12)]
    report = _run(tmp_path, _office() + probes)
    [alert] = report.alerts
    assert alert.type == "scan" and alert.hosts == [SCANNER] and alert.src_ip == SCANNER
    assert (alert.proto, alert.port, alert.dst_ip) == ("tcp", 445, None)
    ev = alert.evidence
    assert isinstance(ev, ScanEvidence)
    assert ev.kinds == ["horizontal", "sweep"]  # twelve internal hosts on one port: both
    assert (ev.hosts, ev.ports, ev.targets, ev.probes) == (12, 1, 12, 12)
    assert ev.unanswered_share == 1.0 and ev.duration_seconds == 11.0
    assert ev.probe_share == 1.0
    assert alert.score == 0.5455 and alert.severity == "medium"  # 12/10 -> 1.2/2.2
    assert alert_chart(alert) is not None and sum(alert_chart(alert).values) == 12
    assert report.section("scan").json()["outside"] == []


def test_share_of_probes_by_literal_filter_or_join(tmp_path, monkeypatch):
    """The scanner's flows within its scan are counted by a join pruned by literals, or by the join alone past
    LITERAL_SPANS scanners: the same count either way (the scanner also made 4 answered flows during its scan)."""
    probes = [flow(10_000 + i * SECOND, SCANNER, f"192.168.5.{100 + i}", up=44, down=0, port=445) for i in range(12)]
    busy = [flow(10_050 + i * SECOND, SCANNER, "52.1.0.9", up=900, down=12_000, port=443) for i in range(4)]
    shares = []
    for most in (scan.LITERAL_SPANS, 0):
        monkeypatch.setattr(scan, "LITERAL_SPANS", most)
        [alert] = _run(tmp_path, _office() + probes + busy).alerts
        shares.append(alert.evidence.probe_share)
    assert shares == [0.75, 0.75]  # 12 probes of 16 flows


def test_vertical_scan_of_one_host(tmp_path):
    target = "192.168.5.251"
    probes = [flow(10_000 + i, SCANNER, target, up=44, down=40, port=1 + i) for i in range(30)]  # resets back
    [alert] = _run(tmp_path, _office() + probes).alerts
    assert alert.evidence.kinds == ["vertical"] and alert.dst_ip == target and alert.port is None
    assert alert.evidence.top_hosts == [{"ip": target, "ports": 30}]
    assert alert.evidence.unanswered_share == 0.0  # every port answered with a reset
    assert alert.score == 0.75 and alert.severity == "high"  # three times min_ports


def test_below_thresholds_and_answered_flows_are_no_scan(tmp_path):
    few = [flow(10_000 + i, SCANNER, f"192.168.5.{100 + i}", up=44, down=0, port=445) for i in range(9)]
    answered = [flow(20_000 + i, SCANNER, f"10.1.1.{i}", up=150, down=900, port=22) for i in range(50)]
    report = _run(tmp_path, _office() + few + answered)
    assert report.alerts == []
    assert report.section("scan").json()["scanners"] == []


def test_probes_in_different_windows_do_not_add_up(tmp_path):
    hour = 3600 * SECOND
    probes = [flow(i * hour + 60, SCANNER, f"203.0.113.{i}", up=44, down=0, port=23) for i in range(20)]
    assert _run(tmp_path, _office() + probes).alerts == []
    assert len(_run(tmp_path, _office() + probes, window_minutes=24 * 60).alerts) == 1


def test_poller_is_told_apart(tmp_path):
    """A monitoring server checking 20 hosts every minute: answered, so no probes; and where its checks are
    tiny (a health check that only connects), its re-probing scores it down to info."""
    poller = "192.168.5.240"
    answered = [
        flow(m * 60 * SECOND + h, poller, f"192.168.5.{10 + h}", up=120, down=400, port=161, proto="udp")
        for m in range(60)
        for h in range(20)
    ]
    assert _run(tmp_path, _office() + answered).alerts == []
    tiny = [{**f, "up_bytes": 60, "down_bytes": 0} for f in answered]
    [alert] = _run(tmp_path, _office() + tiny).alerts
    assert alert.evidence.widest_window["probes_per_target"] == 60.0
    assert alert.score == round(scan.score(2.0, 60.0, 4.0), 4) and alert.severity == "info"


def test_outside_scanner_is_context_with_what_answered(tmp_path):
    outsider = "198.51.100.7"
    probes = [flow(10_000 + i, outsider, "192.168.5.251", up=44, down=0, port=1 + i) for i in range(15)]
    probes.append(flow(10_100, outsider, "192.168.5.251", up=44, down=44, port=445))  # SYN-ACK: open
    report = _run(tmp_path, _office() + probes)
    assert report.alerts == []
    [row] = report.section("scan").json()["outside"]
    assert row["src_ip"] == outsider and row["kinds"] == ["vertical"] and row["ports"] == 16
    [table] = [t for t in report.section("scan").tables if t.key == "scan_outside"]
    assert table.rows[0]["answered_internal"] == ["192.168.5.251 tcp/445"]


def test_allow_listed_scanner_is_context(tmp_path):
    probes = [flow(10_000 + i, SCANNER, f"192.168.5.{100 + i}", up=44, down=0, port=445) for i in range(40)]
    report = _run(tmp_path, _office() + probes, allow="192.168.5.64/30")
    assert report.alerts == []
    assert [r["src_ip"] for r in report.section("scan").json()["allowed"]] == [SCANNER]
    assert len(_run(tmp_path, _office() + probes, allow="10.0.0.0/8").alerts) == 1


def test_bad_parameters_are_usage_errors():
    unit = UNITS["scan"]
    with pytest.raises(ConfigError, match=r"scan\.allow"):
        unit.check(scan.Params(allow="192.168.5.7/24"), None)
    with pytest.raises(ConfigError, match=r"scan\.min_hosts"):
        check_params(unit, scan.Params(min_hosts=0), None)  # a declared bound


def test_probe_predicate_uses_optional_columns():
    params = scan.Params()
    bare = scan.probe_predicate(frozenset(), params)
    assert "conn_state" not in bare and "up_bytes <= 200" in bare and "down_bytes <= 60" in bare
    rich = scan.probe_predicate(frozenset({"conn_state", "service", "src_port", "up_packets"}), params)
    assert "conn_state" in rich and "service" in rich and "src_port" in rich and "up_packets <= 4" in rich


# -- pure functions ----------------------------------------------------------------------------------


def test_score_table():
    assert scan.score(1.0, 1.0, 4.0) == 0.5  # at the threshold: medium
    assert scan.score(3.0, 2.0, 4.0) == 0.75  # three times: high
    assert scan.score(9.0, 1.0, 4.0) == 0.9  # nine times: critical
    assert scan.score(9.0, 8.0, 4.0) == 0.45  # re-probed twice as often as a scanner does: halved


@given(
    st.floats(min_value=0, max_value=1e6),
    st.floats(min_value=0, max_value=1e4),
    st.floats(min_value=0.1, max_value=100),
)
def test_score_in_unit_interval_and_monotone(breadth, repeats, max_repeat):
    value = scan.score(breadth, repeats, max_repeat)
    assert 0.0 <= value <= 1.0
    assert scan.score(breadth * 2, repeats, max_repeat) >= value
    assert scan.score(breadth, repeats * 2 + 1, max_repeat) <= value


_targets = st.lists(
    st.fixed_dictionaries(
        {
            "dst_ip": st.sampled_from([f"10.0.0.{i}" for i in range(8)] + ["203.0.113.1"]),
            "proto": st.sampled_from(["tcp", "udp"]),
            "port": st.integers(1, 6),
            "probes": st.integers(1, 5),
        }
    ),
    max_size=40,
    unique_by=lambda t: (t["dst_ip"], t["proto"], t["port"]),
)


@given(_targets, st.randoms())
def test_window_stats_ignore_order(targets, rnd):
    rows = [t | {"internal": t["dst_ip"].startswith("10.")} for t in targets]
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert scan.window_stats(0, rows) == scan.window_stats(0, shuffled)
    stats = scan.window_stats(0, rows)
    assert stats.targets == len(rows) and stats.width <= len(rows) and stats.depth <= 12


def test_chart_buckets_fit():
    minute = 60_000_000
    assert scan.chart_bucket_minutes(0, 30 * minute) == 1
    assert scan.chart_bucket_minutes(0, 4 * 3600 * 1_000_000) == 5  # 241 minutes in 49 bars
    starts, counts = scan.new_targets_series([0, minute // 2, 3 * minute], 1)
    assert starts == [0, minute, 2 * minute, 3 * minute] and counts == [2, 0, 0, 1]


# -- richer inputs: ICMP types, unknown bytes (canonical Parquet, so that Spark reads them too) -------------
T0 = 1_700_000_000 * 1_000_000  # µs


def _canonical(tmp_path, rows, optional):
    full = [{"src_port": None, "conn_state": None, "up_packets": None, "down_packets": None} | r for r in rows]
    return write_flows(tmp_path / "canonical.parquet", full, schema.arrow_schema(optional))


def _row(i, src, dst, port, proto="tcp", up=0, down=0, **extra):
    base = {"ts": T0 + i * 1_000_000, "src_ip": src, "dst_ip": dst, "proto": proto, "port": port}
    return base | {"up_bytes": up, "down_bytes": down} | extra


def test_icmp_replies_are_no_probes_but_requests_are(tmp_path):
    """A server answering a scan from outside with port unreachables (Zeek: type 3 in the source port) is no
    scanner; echo requests to as many hosts are a sweep."""
    server, sweeper = "192.168.5.10", "192.168.5.66"
    replies = [_row(i, server, f"203.0.113.{i}", 3, "icmp", up=56, src_port=3) for i in range(40)]
    echoes = [_row(100 + i, sweeper, f"192.168.5.{100 + i}", 0, "icmp", up=28, src_port=8) for i in range(20)]
    path = _canonical(tmp_path, replies + echoes, (schema.SRC_PORT,))
    [alert] = pipeline.run(config_for(path, "scan")).alerts
    assert alert.hosts == [sweeper] and "sweep" in alert.evidence.kinds
    assert alert.evidence.top_ports == [{"proto": "icmp", "port": 0, "hosts": 20}]


def _argus_dataset(tmp_path, lines: list[str], header: str) -> Path:
    """An Argus file without SrcBytes, imported as a dataset (what Spark reads)."""
    text = tmp_path / "capture.binetflow"
    text.write_text(header + "\n" + "\n".join(lines) + "\n")
    dataset = tmp_path / "dataset"
    import_flows(Config(data=str(text)), dataset)
    return dataset


ARGUS_HEADER = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes"


def _argus(second: int, src: str, dst: str, port: int, state: str, proto: str = "tcp", packets: int = 12) -> str:
    time = f"2013/10/21 13:{second // 60:02d}:{second % 60:02d}.000000"
    return f"{time},1.0,{proto},{src},40000,  ->,{dst},{port},{state},0,0,{packets},9000"


def _argus_day() -> list[str]:
    """Without SrcBytes every flow reads 0 bytes each way: a client's sessions to 30 web servers and its
    answered DNS, and a scanner's SYNs to 20 hosts (10 unanswered, 10 refused)."""
    client, scanner = "192.168.1.20", "192.168.1.66"
    rows = [_argus(i, client, f"52.1.0.{i}", 443, "FSPA_FSPA") for i in range(30)]
    rows += [_argus(40 + i, client, f"8.8.{i}.8", 53, "CON", "udp", 2) for i in range(15)]
    rows += [_argus(100 + i, scanner, f"192.168.1.{100 + i}", 445, ("S_", "S_RA")[i % 2], packets=2) for i in range(20)]
    return rows


def test_flows_without_byte_counts_are_probes_only_where_the_state_says_so(tmp_path):
    dataset = _argus_dataset(tmp_path, _argus_day(), ARGUS_HEADER)
    report = pipeline.run(config_for(dataset, "scan"))
    [alert] = report.alerts
    assert alert.hosts == ["192.168.1.66"] and alert.evidence.kinds == ["horizontal", "sweep"]
    assert alert.evidence.targets == 20 and alert.evidence.unanswered_share == 1.0
    assert report.section("scan").json()["outside"] == []


def test_flows_without_byte_counts_or_state_are_never_probes(tmp_path):
    """Nothing says what these flows carried: none is a probe (not all of them)."""
    header = ARGUS_HEADER.replace(",State", "")
    lines = [",".join(p for k, p in enumerate(line.split(",")) if k != 8) for line in _argus_day()]
    report = pipeline.run(config_for(_argus_dataset(tmp_path, lines, header), "scan"))
    assert report.alerts == []
    assert report.section("scan").json()["outside"] == []
