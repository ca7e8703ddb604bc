"""threat_intel: listed addresses matched over the distinct addresses (IPv4 and IPv6), alerts with the list,
entry, comment, hosts and volume; other findings on a listed address raised."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentinel import pipeline
from sentinel.detectors import exfiltration as ex
from sentinel.detectors import threat_intel as ti
from sentinel.detectors.base import severity_for
from sentinel.errors import InputError
from sentinel.report import json_report, markdown
from tests.flows import config_for, flow, write_flows

# Every test here runs on every engine (DuckDB, and Spark in the `spark` group): same flows, same results.
pytestmark = pytest.mark.usefixtures("every_engine")

MB = 1_000_000


def lists(tmp_path):
    drop = tmp_path / "drop.txt"
    drop.write_text("; test DROP list\n193.136.0.0/16 ; SBL1\n2a00:1450::/32 ; SBL2\n10.0.0.0/8 ; bogon\n")
    feodo = tmp_path / "feodo.csv"
    feodo.write_text(
        '# "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\n'
        '"2024-01-01 00:00:00","193.136.0.1","443","online","2024-02-01","QakBot"\n'
    )
    return (str(drop), str(feodo))


def test_alerts_name_lists_entries_hosts_and_volume(tmp_path):
    rows = [
        flow(0, "192.168.1.10", "193.136.0.1", up=500, down=4000),  # callback to a listed C&C (two lists)
        flow(1, "192.168.1.11", "193.136.0.1", up=300, down=100),
        flow(2, "193.136.9.9", "192.168.1.12", up=60, down=0),  # knocked from a listed network, unanswered
        flow(3, "192.168.1.10", "2a00:1450::5", up=10, down=20),  # IPv6, listed
        flow(4, "192.168.1.10", "8.8.8.8", up=10, down=20),  # not listed
        flow(5, "192.168.1.10", "10.9.9.9", up=10, down=20),  # "listed" as a bogon, but never matched: internal
    ]
    config = config_for(
        write_flows(tmp_path / "f.parquet", rows), "threat_intel", threat_intel=ti.Params(lists=lists(tmp_path))
    )
    report = pipeline.run(config)
    by_dst = {a.dst_ip: a for a in report.alerts}
    assert set(by_dst) == {"193.136.0.1", "193.136.9.9", "2a00:1450::5"}
    c2 = by_dst["193.136.0.1"]
    assert c2.type == "threat_intel" and c2.hosts == ["192.168.1.10", "192.168.1.11"]
    # Most specific first: the Feodo /32 before the DROP /16.
    assert c2.evidence.lists == ["feodo.csv: 193.136.0.1 (QakBot)", "drop.txt: 193.136.0.0/16 (SBL1)"]
    assert [e["comment"] for e in c2.evidence.entries] == ["QakBot", "SBL1"]
    assert (c2.evidence.flows, c2.evidence.bytes_sent_to_listed, c2.evidence.bytes_received_from_listed) == (
        2,
        800,
        4100,
    )
    assert c2.evidence.opened_by_hosts is True
    assert c2.score == ti.score(True, True, 2) == 0.85 and c2.severity == "high"
    knock = by_dst["193.136.9.9"]
    assert knock.hosts == ["192.168.1.12"] and knock.score == ti.score(False, False, 1) == 0.3
    assert knock.evidence.opened_by_hosts is False
    assert by_dst["2a00:1450::5"].evidence.lists == ["drop.txt: 2a00:1450::/32 (SBL2)"]
    section = report.section("threat_intel")
    assert sorted(section.json()["listed"]) == ["193.136.0.1", "193.136.9.9", "2a00:1450::5"]
    assert [x["entries"] for x in section.json()["lists"]] == [3, 1]
    assert report.hosts["193.136.0.1"].intel == c2.evidence.lists
    json_report.render(report)  # serialisable
    text = markdown.render(report, {})
    assert "QakBot" in text and "SBL1" in text


def test_other_findings_on_a_listed_address_are_raised(tmp_path):
    office = [
        flow(i * 1000 + h, f"192.168.1.{h}", f"8.8.{h}.{i}", up=100_000 + h * 1000, down=1_000_000)
        for h in range(10, 20)
        for i in range(20)
    ]
    exfil = [flow(50_000 + i, "192.168.1.99", "193.136.0.1", up=MB, down=1000) for i in range(30)]
    path = write_flows(tmp_path / "f.parquet", office + exfil)
    plain = pipeline.run(config_for(path, "exfiltration", exfiltration=ex.Params(percentile=80)))
    [before] = plain.alerts
    config = config_for(
        path,
        "exfiltration",
        "threat_intel",
        exfiltration=ex.Params(percentile=80),
        threat_intel=ti.Params(lists=lists(tmp_path)),
    )
    report = pipeline.run(config)
    exfil_alert = next(a for a in report.alerts if a.type == "exfiltration")
    assert exfil_alert.score == ti.boosted(before.score, 0.5) > before.score
    assert exfil_alert.evidence.score_before_threat_intel == before.score
    assert exfil_alert.evidence.threat_intel == [
        "193.136.0.1 on feodo.csv: 193.136.0.1 (QakBot)",
        "193.136.0.1 on drop.txt: 193.136.0.0/16 (SBL1)",
    ]
    assert [a.id for a in report.alerts] == [1, 2]


def test_without_lists_the_section_says_so(tmp_path):
    path = write_flows(tmp_path / "f.parquet", [flow(0, "192.168.1.10", "193.136.0.1")])
    report = pipeline.run(config_for(path, "threat_intel"))
    assert report.alerts == [] and "no list given" in report.section("threat_intel").tables[0].note


def test_a_list_without_entries_fails_before_the_data(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n")
    config = config_for(tmp_path / "absent.parquet", "threat_intel", threat_intel=ti.Params(lists=(str(bad),)))
    with pytest.raises(InputError, match=r"bad\.txt: --intel: no address"):
        pipeline.run(config)


@given(st.floats(0, 1), st.floats(0, 1))
def test_boost_never_lowers_nor_leaves_the_unit_interval(score, boost):
    raised = ti.boosted(score, boost)
    assert score - 1e-4 <= raised <= 1.0
    severity_for(raised)


@given(st.booleans(), st.booleans(), st.integers(1, 20))
def test_score_bounds_and_order(outbound, answered, n):
    value = ti.score(outbound, answered, n)
    assert 0.3 <= value <= 0.95
    assert ti.score(True, answered, n) >= ti.score(False, True, n) >= ti.score(False, False, n)
