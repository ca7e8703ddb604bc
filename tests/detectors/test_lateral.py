import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentinel import pipeline
from sentinel.detectors import lateral
from sentinel.errors import ConfigError
from sentinel.report.evidence import LateralEvidence
from sentinel.report.evidence_charts import alert_chart
from tests.flows import config_for, flow, write_flows

# Every test here runs on every engine (DuckDB, and Spark in the `spark` group): same flows, same results.
pytestmark = pytest.mark.usefixtures("every_engine")

FILE_SERVER = "192.168.1.250"
MINUTE = 6000  # course hundredths


def _office() -> list[dict]:
    """Twenty clients using the file server over SMB and one RDP host: many clients, one server."""
    rows = []
    for h in range(10, 30):
        rows += [
            flow(h * 100 + i * 5000, f"192.168.1.{h}", FILE_SERVER, up=2000, down=50_000, port=445) for i in range(5)
        ]
    return rows


def _fan_out(src: str, targets: range, port: int = 445, start: int = 360_000, step: int = MINUTE, down: int = 4000):
    return [
        flow(start + i * step, src, f"192.168.1.{t}", up=30_000, down=down, port=port) for i, t in enumerate(targets)
    ]


def _run(tmp_path, rows, **params):
    path = write_flows(tmp_path / "f.parquet", rows)
    return pipeline.run(config_for(path, "lateral", lateral=lateral.Params(**params)))


def test_office_alone_raises_nothing(tmp_path):
    report = _run(tmp_path, _office())
    assert report.alerts == []
    assert report.section("lateral").json()["services"] == 1  # the file server's SMB


def test_fan_out_in_a_burst_is_high_exact(tmp_path):
    # 192.168.1.12 reaches eight workstations on SMB, one a minute, plus RDP on one of them.
    rows = _office() + _fan_out("192.168.1.12", range(40, 48)) + _fan_out("192.168.1.12", range(40, 41), port=3389)
    [alert] = _run(tmp_path, rows).alerts
    assert (alert.type, alert.hosts, alert.src_ip) == ("lateral", ["192.168.1.12"], "192.168.1.12")
    ev = alert.evidence
    assert isinstance(ev, LateralEvidence)
    assert (ev.targets, ev.burst_targets, ev.ports, ev.flows) == (8, 8, ["tcp/3389", "tcp/445"], 9)
    assert ev.sessions[0]["target"] == "192.168.1.40" and ev.sessions[0]["ports"] == ["tcp/3389", "tcp/445"]
    assert alert.score == lateral.score(8, 8, 5) == pytest.approx(1 - (1 - 8 / 13) * 0.5, abs=1e-4)
    assert alert.severity == "high"
    assert alert.proto is None  # several services
    assert (
        alert_chart(alert) is not None
        and sum(alert_chart(alert).values) == 8
        and alert_chart(alert).labels[0] == "+01:00"
    )


def test_slow_fan_out_scores_lower_than_a_burst(tmp_path):
    rows = _office() + _fan_out("192.168.1.12", range(40, 46), step=60 * MINUTE)
    [alert] = _run(tmp_path, rows).alerts
    assert alert.evidence.burst_targets == 1 and alert.severity == "medium"
    assert alert.score < lateral.score(6, 6, 5)


def test_declared_admin_host_is_context(tmp_path):
    rows = _office() + _fan_out("192.168.1.12", range(40, 60))
    report = _run(tmp_path, rows, admin_hosts=("192.168.1.12/32",))
    assert report.alerts == []
    [row] = report.section("lateral").json()["rows"]
    assert row["host"] == "192.168.1.12" and row["declared_admin"] is True and row["targets"] == 20


def test_unanswered_probes_and_few_targets_do_not_alert(tmp_path):
    rows = _office() + _fan_out("192.168.1.12", range(40, 60), down=0)  # a sweep nobody answered: the scan's
    rows += _fan_out("192.168.1.13", range(40, 44), port=3389)  # an admin on four machines: under min_targets
    report = _run(tmp_path, rows)
    assert report.alerts == []
    assert report.section("lateral").json()["rows"] == []  # the sweep has no session, the admin too few


def test_non_admin_ports_and_services_are_not_counted(tmp_path):
    rows = _office() + _fan_out("192.168.1.12", range(40, 60), port=8080)
    rows += _fan_out("192.168.1.14", [250] * 1)  # the file server itself: a service
    assert _run(tmp_path, rows).alerts == []


def test_bad_allow_list_is_a_usage_error(tmp_path):
    path = write_flows(tmp_path / "f.parquet", _office())
    with pytest.raises(ConfigError, match=r"lateral\.admin_hosts"):
        pipeline.run(config_for(path, "lateral", lateral=lateral.Params(admin_hosts=("10.0.0/8",))))


def test_burst_window():
    assert lateral.burst([], 10) == (0, None)
    assert lateral.burst([0, 5, 10, 100, 104], 10) == (3, 0)
    assert lateral.burst([100, 104, 0], 10) == (2, 100)


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000), st.integers(1, 50))
def test_score_in_unit_interval_and_monotone(targets, burst_targets, min_targets):
    s = lateral.score(targets, burst_targets, min_targets)
    assert 0.0 <= s <= 1.0
    assert lateral.score(targets + 1, burst_targets + 1, min_targets) >= s  # one more target, in the burst
    assert lateral.score(targets, burst_targets + 1, min_targets) >= s


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=30), st.randoms())
def test_burst_ignores_order(times, random):
    shuffled = list(times)
    random.shuffle(shuffled)
    assert lateral.burst(times, 1000) == lateral.burst(shuffled, 1000)
