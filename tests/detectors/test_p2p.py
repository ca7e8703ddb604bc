import pytest

from sentinel import pipeline
from sentinel.detectors import p2p
from sentinel.report.evidence import BotnetEvidence
from sentinel.report.evidence_charts import alert_chart
from tests.flows import config_for, flow, write_flows

# Every test here runs on every engine (DuckDB, and Spark in the `spark` group): same flows, same results.
pytestmark = pytest.mark.usefixtures("every_engine")


def _clients_and_servers() -> list[dict]:
    rows = []
    for c in range(10, 30):
        client = f"192.168.5.{c}"
        rows += [flow(c * 10 + k, client, "192.168.5.250", port=53, proto="udp") for k in range(3)]
        rows += [flow(c * 10 + 5, client, "192.168.5.251", port=445)]
        rows += [flow(c * 10 + 6, client, "192.168.5.252", port=8080)]  # intranet app on a high port
    return rows


def _mesh(members: list[str], port: int = 31337) -> list[dict]:
    return [flow(1000 * i + j, a, b, port=port) for i, a in enumerate(members) for j, b in enumerate(members) if a != b]


def test_servers_are_context_not_botnets(tmp_path):
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", _clients_and_servers()), "botnet"))
    assert report.alerts == []
    servers = {r["server"]: r for r in report.section("botnet").json()["servers"]}
    assert set(servers) == {"192.168.5.250", "192.168.5.251", "192.168.5.252"}
    assert servers["192.168.5.250"]["clients"] == 20 and servers["192.168.5.250"]["services"] == "udp/53"
    assert servers["192.168.5.252"]["services"] == "tcp/8080"


def test_p2p_group_alerts_exact(tmp_path):
    members = ["192.168.5.11", "192.168.5.12", "192.168.5.13", "192.168.5.14"]
    rows = _clients_and_servers() + _mesh(members)
    report = pipeline.run(
        config_for(write_flows(tmp_path / "f.parquet", rows), "botnet", botnet=p2p.Params(cidr="192.168.5.0/24"))
    )
    [alert] = report.alerts
    assert alert.type == "botnet" and alert.hosts == members
    ev = alert.evidence
    assert isinstance(ev, BotnetEvidence)
    assert ev.ports == ["tcp/31337"] and ev.flows == 12 and ev.density == 1.0
    assert ev.rate_per_second == 12 / ((3000 + 2 - 0 - 1) / 100)  # flows per second, not per 1/100 s
    assert alert.score == 0.8125 and alert.severity == "high"  # a full mesh of 4: 1.0 x (0.75 + 0.25 x 2/8)


def test_score_grows_with_structure_and_size():
    assert p2p.score(1.0, 1.0, 3, 3) == 0.7812  # the smallest full mesh is high
    assert p2p.score(1.0, 1.0, 10, 3) == 1.0  # ten members: critical
    assert p2p.score(0.5, 0.5, 10, 3) < p2p.score(1.0, 1.0, 10, 3)
    assert p2p.score(1.0, 1.0, 4, 3) < p2p.score(1.0, 1.0, 5, 3)


def test_subnet_filter_excludes_other_subnets(tmp_path):
    rows = _mesh(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    path = write_flows(tmp_path / "f.parquet", rows)
    assert pipeline.run(config_for(path, "botnet", botnet=p2p.Params(cidr="192.168.5.0/24"))).alerts == []
    assert len(pipeline.run(config_for(path, "botnet", botnet=p2p.Params(cidr="0.0.0.0/0"))).alerts) == 1


def test_pairs_and_well_known_ports_do_not_alert(tmp_path):
    rows = _mesh(["192.168.5.11", "192.168.5.12"])  # only two hosts: below min_group
    rows += _mesh(["192.168.5.21", "192.168.5.22", "192.168.5.23"], port=137)  # NetBIOS chatter
    assert pipeline.run(config_for(write_flows(tmp_path / "f.parquet", rows), "botnet")).alerts == []


def test_one_way_high_port_fan_out_is_not_p2p():
    edges = [
        {
            "src_ip": "a",
            "dst_ip": d,
            "proto": "tcp",
            "port": 5000,
            "flows": 1,
            "up_bytes": 1,
            "down_bytes": 1,
            "first_ts": 0,
            "last_ts": 1,
        }
        for d in ("b", "c", "d")
    ]
    assert p2p.p2p_groups(edges, p2p.find_services(edges, p2p.Params()), p2p.Params()) == []


def test_api_subnet_outside_internal_networks_is_a_config_error(tmp_path):
    import pytest

    from sentinel.errors import ConfigError

    path = write_flows(tmp_path / "f.parquet", _mesh(["100.70.0.1", "100.70.0.2", "100.70.0.3"]))
    with pytest.raises(ConfigError, match="outside the internal networks"):
        pipeline.run(config_for(path, "botnet", botnet=p2p.Params(cidr="100.70.0.0/16")))


def test_ipv6_subnet_botnet(tmp_path):
    """-bn with an IPv6 CIDR: members chosen by the dimension's numeric columns, ordered by value."""
    members = ["fd00:104::a", "fd00:104::9", "fd00:104::1:0", "FD00:104::B"]
    others = ["fd00:105::1", "fd00:105::2", "fd00:105::3"]
    path = write_flows(tmp_path / "f.parquet", _mesh(members) + _mesh(others))
    config = config_for(path, "botnet", botnet=p2p.Params(cidr="fd00:104::/64"))
    [alert] = pipeline.run(config).alerts
    assert alert.hosts == ["fd00:104::9", "fd00:104::a", "fd00:104::b", "fd00:104::1:0"]  # canonical text
    assert pipeline.run(config_for(path, "botnet", botnet=p2p.Params(cidr="fd00:106::/64"))).alerts == []
    assert len(pipeline.run(config_for(path, "botnet", botnet=p2p.Params(cidr="::/0"))).alerts) == 2


def test_ipv6_prefix_longer_than_64_bits(tmp_path):
    members = ["fd00:104::1:1", "fd00:104::1:2", "fd00:104::1:3"]
    outside = ["fd00:104::2:1", "fd00:104::2:2", "fd00:104::2:3"]
    path = write_flows(tmp_path / "f.parquet", _mesh(members) + _mesh(outside))
    [alert] = pipeline.run(config_for(path, "botnet", botnet=p2p.Params(cidr="fd00:104::1:0/112"))).alerts
    assert alert.hosts == members


def test_groups_and_servers_are_ordered_by_address_value():
    assert p2p._members(
        [{"src_ip": "10.0.0.10", "dst_ip": "10.0.0.9"}, {"src_ip": "fd00::1", "dst_ip": "10.0.0.2"}]
    ) == [
        "10.0.0.2",
        "10.0.0.9",
        "10.0.0.10",
        "fd00::1",
    ]


def test_alert_chart_is_the_group_graph(tmp_path):
    members = ["192.168.5.11", "192.168.5.12", "192.168.5.13"]
    rows = [*_mesh(members), flow(9000, "192.168.5.11", "192.168.5.12", port=31337)]
    [alert] = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", rows), "botnet")).alerts
    chart = alert_chart(alert)
    assert chart is not None and chart.kind == "graph" and chart.labels == members
    assert chart.edges == [
        ("192.168.5.11", "192.168.5.12", 3.0),  # both directions together: 1 + 1, and one more
        ("192.168.5.11", "192.168.5.13", 2.0),
        ("192.168.5.12", "192.168.5.13", 2.0),
    ]
    assert chart.values == [5.0, 5.0, 4.0]  # each member's flows within the group
