import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentinel import pipeline
from sentinel.detectors import dns
from sentinel.report.evidence_charts import alert_chart
from tests.flows import config_for, flow, write_flows

# Every test here runs on every engine (DuckDB, and Spark in the `spark` group): same flows, same results.
pytestmark = pytest.mark.usefixtures("every_engine")

RESOLVER = "192.168.1.250"  # the office's resolver
UPSTREAM = "8.8.8.8"


def _query(ts: int, src: str, dst: str = RESOLVER, up: int = 75, down: int = 180, port: int = 53) -> dict:
    return flow(ts, src, dst, up=up, down=down, port=port, proto="udp")


def _office() -> list[dict]:
    """Ten clients asking the office resolver (30 to 75 queries each), the resolver forwarding upstream."""
    rows = []
    for h in range(10, 20):
        rows += [_query(h * 100 + i * 997, f"192.168.1.{h}", up=70 + i % 10) for i in range(30 + 5 * (h - 10))]
    rows += [_query(50 + i * 331, RESOLVER, UPSTREAM, up=80) for i in range(400)]
    return rows


def _run(tmp_path, rows, **params):
    path = write_flows(tmp_path / "f.parquet", rows)
    return pipeline.run(config_for(path, "dns", dns=dns.Params(**params)))


def test_office_alone_raises_nothing_and_lists_resolvers(tmp_path):
    report = _run(tmp_path, _office())
    assert report.alerts == []
    payload = report.section("dns").json()
    assert payload["internal_resolvers"] == [RESOLVER]
    assert payload["hosts_speaking_dns"] == 11  # ten clients and the resolver (forwarding)
    first, second = payload["resolvers"]
    assert (first["resolver"], first["role"], first["hosts_using"]) == (RESOLVER, "internal resolver", 10)
    assert (second["resolver"], second["hosts_using"], second["flows"]) == (UPSTREAM, 1, 400)


def test_rogue_resolver_alone_is_medium(tmp_path):
    # 192.168.1.12 also asks a resolver nobody else uses, a few times: rogue, volume ordinary.
    rows = _office() + [_query(9000 + i, "192.168.1.12", "45.33.32.156") for i in range(5)]
    [alert] = _run(tmp_path, rows).alerts
    assert (alert.type, alert.hosts, alert.dst_ip, alert.severity, alert.score) == (
        "dns_tunnel",
        ["192.168.1.12"],
        "45.33.32.156",
        "medium",
        0.5,
    )
    assert alert.evidence.findings == ["rogue resolver"]
    assert alert.evidence.rogue_resolvers == ["45.33.32.156"]
    roles = {r["resolver"]: (r["role"], r["hosts_using"]) for r in alert.evidence.resolvers}
    assert roles == {"45.33.32.156": ("rogue", 1), RESOLVER: ("internal resolver", 10)}
    assert (alert.proto, alert.port) == ("udp", 53)


def test_tunnel_to_own_resolver_is_critical_with_chart(tmp_path):
    # 3000 queries of 220 bytes up to an outside name server: rogue and far out of line in volume.
    tunnel = [_query(100_000 + i * 100, "192.168.1.15", "95.24.1.2", up=220, down=300) for i in range(3000)]
    report = _run(tmp_path, _office() + tunnel)
    [alert] = report.alerts
    assert alert.hosts == ["192.168.1.15"] and alert.dst_ip == "95.24.1.2"
    assert alert.evidence.findings == ["rogue resolver", "volume out of line"]
    assert alert.evidence.dns_up_bytes == 3000 * 220 + sum(70 + i % 10 for i in range(55))
    assert alert.evidence.z_bytes_per_query > 4 and alert.evidence.z_up_bytes > 4
    assert alert.severity == "critical" and alert.score >= 0.9
    assert "RU" in alert.summary  # the resolver described with its country
    assert alert_chart(alert) is not None and sum(alert_chart(alert).values) == alert.evidence.dns_up_bytes
    assert alert_chart(alert).labels[0] == "+00:00"


def test_tunnel_through_the_company_resolver_is_volume_only(tmp_path):
    tunnel = [_query(100_000 + i * 100, "192.168.1.15", up=200, down=250) for i in range(3000)]
    [alert] = _run(tmp_path, _office() + tunnel).alerts
    assert alert.evidence.findings == ["volume out of line"]
    assert alert.evidence.rogue_resolvers == []
    assert alert.dst_ip == RESOLVER
    assert alert.severity in ("high", "critical")


def test_floors_keep_small_hosts_quiet(tmp_path):
    # Long queries, but only 50 of them (under min_flows) to the company resolver: no alert.
    rows = _office() + [_query(100_000 + i, "192.168.1.15", up=400) for i in range(50)]
    assert _run(tmp_path, rows).alerts == []


def test_small_network_is_not_judged(tmp_path):
    # Three hosts only: a resolver used by one of them proves nothing.
    rows = [_query(i, f"192.168.1.{10 + i % 3}", "1.1.1.1" if i % 3 == 0 else RESOLVER) for i in range(30)]
    assert _run(tmp_path, rows).alerts == []


def test_dot_and_tcp_count_as_dns_but_other_ports_do_not(tmp_path):
    rows = [*_office(), flow(9000, "192.168.1.12", "9.9.9.9", port=853, proto="tcp")]
    rows += [flow(9001, "192.168.1.13", "9.9.9.10", port=5353, proto="udp")]  # mDNS: not DNS to a resolver
    [alert] = _run(tmp_path, rows).alerts
    assert alert.hosts == ["192.168.1.12"] and alert.dst_ip == "9.9.9.9"


def test_sweep_of_port_53_is_not_rogue_resolvers(tmp_path):
    # A vulnerability scanner asks port 53 of every client once: ten "resolvers" nobody else uses is a sweep.
    rows = _office() + [_query(9000 + h, "192.168.1.200", f"192.168.1.{h}", up=60, down=70) for h in range(10, 20)]
    report = _run(tmp_path, rows)
    assert report.alerts == []
    # three such destinations or fewer are still rogue resolvers
    rows = _office() + [_query(9000 + h, "192.168.1.200", f"192.168.1.{h}", up=60, down=70) for h in range(10, 13)]
    [alert] = _run(tmp_path, rows).alerts
    assert len(alert.evidence.rogue_resolvers) == 3 and alert.evidence.dns_sweep_targets == 0


def test_resolver_forwarding_is_never_alerted(tmp_path):
    # The resolver sends 20x the clients' volume to a destination only it uses: forwarding, not a tunnel.
    rows = _office() + [_query(i * 7, RESOLVER, "203.0.113.53", up=300) for i in range(5000)]
    assert _run(tmp_path, rows).alerts == []


# -- pure scoring ---------------------------------------------------------------------------------------


def test_score_table():
    assert dns.score(False, math.nan, 4.0) == 0.0
    assert dns.score(True, math.nan, 4.0) == 0.5
    assert dns.score(False, 4.0, 4.0) == 0.5
    assert dns.score(False, 12.0, 4.0) == pytest.approx(0.8333, abs=1e-4)
    assert dns.score(True, 4.0, 4.0) == 0.75


@given(
    st.booleans(),
    st.one_of(st.floats(min_value=-50, max_value=1e6), st.just(math.nan)),
    st.floats(min_value=0.5, max_value=20),
)
def test_score_in_unit_interval_and_monotone(rogue, z, threshold):
    s = dns.score(rogue, z, threshold)
    assert 0.0 <= s <= 1.0
    if not math.isnan(z):
        assert dns.score(rogue, z + 1.0, threshold) >= s
    assert dns.score(True, z, threshold) >= dns.score(False, z, threshold)


@given(st.lists(st.floats(min_value=1, max_value=1e9), min_size=5, max_size=40), st.randoms())
def test_log_z_ignores_peer_order(values, random):
    shuffled = list(values)
    random.shuffle(shuffled)
    z = dns.log_z(values, values, 0.05)
    again = dns.log_z(values, shuffled, 0.05)
    assert np.allclose(z, again, equal_nan=True)


def test_is_rogue_needs_enough_hosts():
    params = dns.Params()
    assert dns.is_rogue(1, 5, params) and not dns.is_rogue(1, 4, params) and not dns.is_rogue(2, 50, params)
