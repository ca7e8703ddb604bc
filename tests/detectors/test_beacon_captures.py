"""--beacon on real captures (../shared/data, SOURCES.md): the documented C&C channels found and ranked first;
the CTU-Normal days raise nothing at high severity."""

import pytest

from sentinel import pipeline
from sentinel.config import Config
from sentinel.enrich import netclass
from sentinel.registry import default_params


def _run(path, network):
    internal = netclass.parse_cidrs(network, "--internal")
    return pipeline.run(Config(data=path, internal=internal, units={"beacon": default_params("beacon")}))


@pytest.mark.parametrize("day", ["2024-04-19", "2024-04-20", "2024-04-21"])
def test_rita_missing_host_beacon_ranks_first(shared_data, day):
    report = _run(shared_data / "derived-course-schema" / f"rita-missing-host-{day}.parquet", "64.225.56.201/32")
    first = report.alerts[0]
    assert (first.src_ip, first.dst_ip, first.port) == ("73.54.23.243", "64.225.56.201", 80)
    assert first.hosts == ["64.225.56.201"] and 200 <= first.evidence.period_s <= 350


@pytest.mark.parametrize(
    ("name", "src", "dst"),
    [
        ("stratosphere-sdt-001-njrat-cc.parquet", "192.168.1.115", "41.108.179.197"),
        ("stratosphere-slips-test18-remcos-exfil.parquet", "192.168.1.107", "66.63.168.35"),
    ],
)
def test_rat_channels_found_first(shared_data, name, src, dst):
    report = _run(shared_data / "derived-course-schema" / name, "192.168.0.0/16")
    first = report.alerts[0]
    assert (first.src_ip, first.dst_ip, first.type) == (src, dst, "beacon")


def test_remcos_reconnects_sub_second(shared_data):
    report = _run(
        shared_data / "derived-course-schema" / "stratosphere-slips-test18-remcos-exfil.parquet", "192.168.0.0/16"
    )
    assert 0.5 <= report.alerts[0].evidence.period_s <= 1.0


@pytest.mark.parametrize(
    "name",
    [
        "stratosphere-sdt-008-ctu-normal-40-day1.parquet",
        "stratosphere-sdt-010-ctu-normal-42-day2.parquet",
        "stratosphere-sdt-011-ctu-normal-43-day1.parquet",
        "stratosphere-sdt-012-ctu-normal-44-day2.parquet",
    ],
)
def test_ctu_normal_nothing_high(shared_data, name):
    report = _run(shared_data / "derived-course-schema" / name, "147.32.0.0/16")
    assert report.section("beacon").json()["groups"] > 10  # really analysed
    assert all(a.severity in ("info", "low", "medium") for a in report.alerts)


def test_missing_host_logs_no_session_of_an_hour(shared_data):
    # RITA's comment speaks of "an SSH session open the whole time": Zeek logs a connection when it ends, so
    # one still open when the capture stopped is in no conn log; the longest logged session is under 25 min.
    report = _run(shared_data / "rita-missing-host" / "2024-04-20", "64.225.56.201/32")
    assert not [r for r in report.section("beacon").json()["rows"] if r["kind"] == "long_connection"]
    assert report.alerts[0].src_ip == "73.54.23.243"  # the Zeek logs themselves: the beacon first too
