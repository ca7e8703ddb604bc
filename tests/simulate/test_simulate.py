"""sentinel.simulate: reproducibility, shape of the office day, and labels that agree with the table."""

from __future__ import annotations

import ipaddress
import json
from functools import cache

import iptocc
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sentinel.schema import COURSE_ARROW_SCHEMA as ARROW_SCHEMA
from sentinel.simulate import ATTACK_KINDS, Attack, AttackContext, AttackKind, SimulationConfig, simulate
from sentinel.simulate.flows import HOUR, MINUTE, SECOND, TCP, FlowBatch

CS_PER_HOUR = 360_000
DAY = 8_640_000


@cache
def day(hosts: int = 50, flows: int = 50_000, seed: int = 0, attacks: bool = True):
    return simulate(SimulationConfig(hosts=hosts, flows=flows, seed=seed, attacks=attacks))


@cache
def frame(hosts: int = 50, flows: int = 50_000, seed: int = 0, attacks: bool = True) -> pd.DataFrame:
    return day(hosts, flows, seed, attacks).flows.to_pandas()


def is_internal(ips: pd.Series, network: str = "192.168.104.0/24") -> pd.Series:
    net = ipaddress.ip_network(network)
    return ips.map(lambda ip: ipaddress.ip_address(ip) in net)


def attack(kind: str) -> dict:
    (label,) = [a for a in day().labels["attacks"] if a["kind"] == kind]
    return label


def rows_of(df: pd.DataFrame, label: dict) -> pd.DataFrame:
    """The table rows a label describes: its hosts to its counterparts (or to each other) on its port."""
    peers = label["counterparts"] or label["hosts"]
    return df[
        df.src_ip.isin(label["hosts"])
        & df.dst_ip.isin(peers)
        & ((df.port == label["port"]) | (label["port"] == 0))  # port 0: many ports (a scan)
        & (df.proto == label["proto"])
    ]


# --- reproducibility, schema, size ---------------------------------------------------------------


def test_same_seed_gives_identical_table_and_labels():
    config = SimulationConfig(hosts=30, flows=40_000, seed=7, attacks=True)
    first, second = simulate(config), simulate(config)
    assert first.flows.equals(second.flows)
    sink_a, sink_b = pa.BufferOutputStream(), pa.BufferOutputStream()
    for table, sink in ((first.flows, sink_a), (second.flows, sink_b)):
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    assert sink_a.getvalue().equals(sink_b.getvalue())  # byte-identical
    assert first.labels == second.labels


def test_other_seed_gives_other_day():
    other = simulate(SimulationConfig(hosts=50, flows=50_000, seed=1, attacks=True))
    assert not other.flows.equals(day().flows)
    assert other.labels["attacks"] != day().labels["attacks"]


@pytest.mark.parametrize(("hosts", "flows", "attacks"), [(10, 1000, False), (37, 40_001, True), (50, 50_000, True)])
def test_schema_and_exact_row_count(hosts, flows, attacks):
    table = simulate(SimulationConfig(hosts=hosts, flows=flows, attacks=attacks)).flows
    assert table.schema == ARROW_SCHEMA
    assert table.num_rows == flows
    assert all(column.null_count == 0 for column in table.columns)


def test_timestamps_in_the_day_and_sorted():
    ts = day().flows.column("timestamp").to_numpy()
    assert ts.min() >= 0 and ts.max() < DAY
    assert np.all(np.diff(ts) >= 0)


def test_labels_are_json_serialisable_and_echo_the_config():
    labels = json.loads(json.dumps(day().labels))
    assert labels["format"] == "sentinel-simulation-labels" and labels["version"] == 1
    assert labels["config"] == {"hosts": 50, "flows": 50_000, "seed": 0, "network": "192.168.104.0/24", "attacks": True}
    assert labels["network"] == "192.168.104.0/24"
    assert len(labels["clients"]) == 50
    assert set(labels["servers"]) == {"dns", "file", "web", "ntp", "backup_nas", "backup_host"}
    kinds = [b["kind"] for b in labels["benign"]]
    assert kinds[:3] == ["update_check", "ntp", "nightly_backup"] and "vulnerability_scanner" not in kinds  # 50k
    assert {"backup_pull", "busy_dns_server", "dns_forwarding"} <= set(kinds)
    big = simulate(SimulationConfig(hosts=50, flows=100_000, attacks=True)).labels["benign"]  # vulnerability scan
    assert [b["kind"] for b in big][:4] == ["update_check", "ntp", "nightly_backup", "vulnerability_scanner"]
    assert [a["kind"] for a in labels["attacks"]] == list(ATTACK_KINDS)
    assert day(attacks=False).labels["attacks"] == []


# --- the office layout and its traffic ----------------------------------------------------------


def test_layout_clients_low_servers_high_never_network_gateway_broadcast():
    labels = day().labels
    clients = [int(ipaddress.ip_address(c)) for c in labels["clients"]]
    base = int(ipaddress.ip_address("192.168.104.0"))
    assert clients == list(range(base + 2, base + 52))
    servers = [ip for ips in labels["servers"].values() for ip in ips]
    assert len(servers) == len(set(servers)) == 7
    last_octets = sorted(int(s.rsplit(".", 1)[1]) for s in servers)
    assert last_octets == list(range(248, 255))  # top of the /24, below the broadcast .255
    assert not set(servers) & set(labels["clients"])


def test_diurnal_shape():
    per_hour = np.bincount(frame().timestamp // CS_PER_HOUR, minlength=24)
    night, peak = per_hour[0:6].mean(), per_hour[10:16].mean()
    assert peak > 8 * night
    assert per_hour[7] < per_hour[8] < per_hour[9] < per_hour[10]  # morning ramp-up
    assert per_hour[20] < per_hour[17]  # evening decline


def test_hosts_differ_a_lot_in_volume():
    df = frame()
    counts = df[df.src_ip.isin(day().labels["clients"])].src_ip.value_counts()
    assert counts.max() > 10 * counts.min()


def test_every_client_uses_dns_file_and_web_servers():
    df, servers = frame(), day().labels["servers"]
    for ips, proto, port in (
        (servers["dns"][:1], "udp", 53),
        (servers["dns"][1:], "udp", 53),
        (servers["file"], "tcp", 445),
        (servers["web"], "tcp", 443),
    ):
        used = df[df.dst_ip.isin(ips) & (df.proto == proto) & (df.port == port)].src_ip
        assert set(day().labels["clients"]) <= set(used)


def test_dns_goes_out_only_through_the_internal_servers():
    df, labels = frame(), day().labels
    tunnels = {h for a in labels["attacks"] if a["alert_type"] == "dns_tunnel" for h in a["hosts"]}
    dns_out = df[(df.port == 53) & ~is_internal(df.dst_ip) & ~df.src_ip.isin(tunnels)]
    assert set(dns_out.src_ip) == set(labels["servers"]["dns"])
    assert set(dns_out.dst_ip) <= {"8.8.8.8", "8.8.4.4", "1.1.1.1"}
    assert (dns_out.proto == "udp").all()


def test_external_ports_are_mostly_https():
    df = frame()
    external = df[~is_internal(df.dst_ip) & df.src_ip.isin(day().labels["clients"])]
    share = external.groupby(["proto", "port"]).size() / len(external)
    assert share[("tcp", 443)] > 0.7
    assert 0.02 < share[("tcp", 80)] < 0.2
    assert 0.02 < share[("udp", 443)] < 0.2


def test_external_destinations_span_many_countries():
    df = frame()
    destinations = df[~is_internal(df.dst_ip)].dst_ip
    unique = destinations.unique().tolist()
    countries = dict(zip(unique, iptocc.country_code(unique), strict=True))
    assert len({c for c in countries.values() if c}) >= 20
    per_country = destinations.map(countries).value_counts()
    assert per_country.index[0] == "US"  # the big clouds and CDNs
    # Popularity is Zipf-like: a few destinations take a large share, a long tail the rest.
    top = destinations.value_counts()
    assert top.iloc[:10].sum() > 0.15 * len(destinations)
    assert (top == 1).sum() > 0.3 * len(top)


def test_per_client_download_upload_ratio_varies():
    df = frame()
    clients = df[df.src_ip.isin(day().labels["clients"])]
    sums = clients.groupby("src_ip")[["up_bytes", "down_bytes"]].sum()
    ratio = sums.down_bytes / sums.up_bytes
    p10, p50, p90 = np.percentile(ratio, [10, 50, 90])
    assert p90 >= 2 * p10
    assert 4 < p50 < 25


def test_bytes_are_heavy_tailed():
    down = frame().down_bytes
    assert down.max() > 100 * down.median()


# --- benign periodic traffic ----------------------------------------------------------------------


def test_hourly_update_checks():
    df, labels = frame(), day().labels
    (update,) = [b for b in labels["benign"] if b["kind"] == "update_check"]
    checks = df[(df.dst_ip == update["dst_ip"]) & (df.port == 443) & (df.proto == "tcp")]
    assert set(checks.src_ip) == set(labels["clients"])
    assert (checks.groupby("src_ip").size() == 24).all()
    gaps = checks.groupby("src_ip").timestamp.diff().dropna()
    assert gaps.between(3600 * 100 - 1000, 3600 * 100 + 1000).all()  # an hour, give or take a few seconds
    offsets = checks.groupby("src_ip").timestamp.min() % CS_PER_HOUR
    assert offsets.nunique() > 10  # each client at its own minute


def test_ntp_polls_every_1024_seconds():
    df, labels = frame(), day().labels
    (ntp,) = [b for b in labels["benign"] if b["kind"] == "ntp"]
    polls = df[df.src_ip.isin(ntp["hosts"]) & (df.port == 123)]
    assert set(polls.dst_ip) == set(ntp["dst_ips"])
    for _, group in polls.groupby("dst_ip"):
        assert (group.timestamp.diff().dropna() == 102_400).all()
        assert len(group) >= 84


def test_nightly_backup_is_internal_and_matches_its_label():
    df, labels = frame(), day().labels
    (backup,) = [b for b in labels["benign"] if b["kind"] == "nightly_backup"]
    assert backup["hosts"] == labels["servers"]["backup_host"]
    assert backup["dst_ip"] == labels["servers"]["backup_nas"][0]
    rows = df[df.src_ip.isin(backup["hosts"]) & (df.port != 445)]  # 445: its evening pull from the clients
    assert (rows.dst_ip == backup["dst_ip"]).all() and (rows.port == 873).all()
    pull = df[df.src_ip.isin(backup["hosts"]) & (df.port == 445)]
    assert set(pull.dst_ip) == set(labels["clients"]) and (pull.timestamp >= 21 * HOUR).all()
    assert len(rows) == backup["flows"] and rows.up_bytes.sum() == backup["up_bytes"]
    assert rows.timestamp.min() == backup["start"] and rows.timestamp.max() == backup["end"]
    assert backup["start"] >= HOUR and backup["end"] <= 3 * HOUR
    assert backup["up_bytes"] > 2_000_000_000  # several GB
    full_size = simulate(SimulationConfig(hosts=20, flows=1_000_000)).labels["benign"][2]
    assert full_size["flows"] >= 100  # hundreds of flows on a full-size day


# --- attacks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ATTACK_KINDS))
def test_attack_label_totals_match_the_table(kind):
    label, df = attack(kind), frame()
    rows = rows_of(df, label)
    assert len(rows) == label["flows"] > 0
    assert rows.up_bytes.sum() == label["up_bytes"]
    assert rows.down_bytes.sum() == label["down_bytes"]
    assert rows.timestamp.min() == label["start"] and rows.timestamp.max() == label["end"]
    assert set(label["hosts"]) <= set(day().labels["clients"])
    assert label["alert_type"] == ATTACK_KINDS[kind].alert_type


def test_attack_hosts_are_distinct_clients():
    hosts = [h for a in day().labels["attacks"] for h in a["hosts"]]
    assert len(hosts) == len(set(hosts))
    assert set(hosts) <= set(day().labels["clients"])
    servers = {ip for ips in day().labels["servers"].values() for ip in ips}
    assert not set(hosts) & servers


def benign_median_upload(df: pd.DataFrame) -> float:
    """Median over clients of their upload to the Internet, attack rows left out."""
    attack_rows = pd.concat([rows_of(df, a) for a in day().labels["attacks"]]).index
    benign = df.drop(attack_rows)
    outbound = benign[benign.src_ip.isin(day().labels["clients"]) & ~is_internal(benign.dst_ip)]
    return outbound.groupby("src_ip").up_bytes.sum().reindex(day().labels["clients"], fill_value=0).median()


def exfil_checks(label: dict) -> pd.DataFrame:
    df = frame()
    (counterpart,) = label["counterparts"]
    assert len(label["hosts"]) == 1
    assert not is_internal(pd.Series([counterpart])).iloc[0]
    # Nobody else talks to the exfiltration address.
    assert (df[df.dst_ip == counterpart].src_ip == label["hosts"][0]).all()
    # Its country is none of the office's top destination countries (on an ordinary day).
    benign = df.drop(pd.concat([rows_of(df, a) for a in day().labels["attacks"]]).index)
    external = benign[~is_internal(benign.dst_ip)].dst_ip
    unique = external.unique().tolist()
    countries = external.map(dict(zip(unique, iptocc.country_code(unique), strict=True)))
    top = set(countries.value_counts().index[:5])
    assert iptocc.country_code(counterpart) not in top
    rows = rows_of(df, label)
    assert (rows.proto == "tcp").all() and (rows.port == 443).all()
    assert rows.down_bytes.sum() < 0.05 * rows.up_bytes.sum()  # acks only
    # The attacker's ordinary traffic stays.
    assert len(df[df.src_ip == label["hosts"][0]]) > label["flows"]
    return rows


def test_exfil_bulk_is_big_fast_and_in_working_hours():
    label = attack("exfil_bulk")
    exfil_checks(label)
    assert 50 <= label["flows"] <= 500
    assert 20 <= label["up_bytes"] / benign_median_upload(frame()) <= 50.01
    assert label["start"] >= 9 * HOUR and label["end"] <= 17 * HOUR
    assert label["end"] - label["start"] <= 2 * HOUR


def test_exfil_slow_is_spread_over_the_working_day():
    label = attack("exfil_slow")
    rows = exfil_checks(label)
    assert 3 <= label["up_bytes"] / benign_median_upload(frame()) <= 6.01
    assert label["end"] - label["start"] >= 8 * HOUR
    gaps = rows.timestamp.diff().dropna()
    assert gaps.median() <= 10 * MINUTE
    assert rows.up_bytes.max() < 0.1 * label["up_bytes"]  # small flows


def test_p2p_members_both_initiate_and_accept():
    label, df = attack("p2p"), frame()
    assert 4 <= len(label["hosts"]) <= 6 and label["counterparts"] == []
    assert label["proto"] == "tcp" and 10_000 <= label["port"] <= 60_000
    rows = rows_of(df, label)
    assert set(rows.src_ip) == set(rows.dst_ip) == set(label["hosts"])
    pairs = rows.groupby(["src_ip", "dst_ip"]).timestamp
    members = len(label["hosts"])
    assert pairs.ngroups == members * (members - 1)  # every ordered pair
    gaps = pairs.diff().dropna()
    assert gaps.between(4 * MINUTE, 21 * MINUTE).mean() > 0.95  # every ~5-20 minutes
    # Only the mesh uses that port between clients.
    assert len(df[(df.port == label["port"]) & df.src_ip.isin(day().labels["clients"])]) == label["flows"]


def test_attacks_leave_the_benign_client_internet_traffic_unchanged():
    """Attack rows come out of the internal traffic's budget, so detectors see the same Internet day."""
    with_attacks, without = frame(), frame(attacks=False)
    attack_rows = pd.concat([rows_of(with_attacks, a) for a in day().labels["attacks"]]).index
    benign = with_attacks.drop(attack_rows)
    clients = day().labels["clients"]
    external = [f[f.src_ip.isin(clients) & ~is_internal(f.dst_ip)].reset_index(drop=True) for f in (benign, without)]
    pd.testing.assert_frame_equal(*external)


def test_new_attack_kind_is_one_registered_function(monkeypatch):
    def beacon(ctx: AttackContext) -> Attack:
        (host,) = ctx.take_clients(1)
        c2 = ctx.new_external()
        ts = 10 * HOUR + np.arange(30) * 60 * SECOND
        flows = FlowBatch.make(ts, host, c2, TCP, 8443, 300, 200)
        return Attack(flows, hosts=[host], counterparts=[c2], proto="tcp", port=8443)

    monkeypatch.setitem(ATTACK_KINDS, "test_beacon", AttackKind("test_beacon", "c2", 30, 1, beacon))
    sim = simulate(SimulationConfig(hosts=30, flows=40_000, attacks=True))
    (label,) = [a for a in sim.labels["attacks"] if a["kind"] == "test_beacon"]
    assert label["flows"] == 30 and label["up_bytes"] == 9000 and label["alert_type"] == "c2"
    assert label["end"] - label["start"] == 29 * 60 * SECOND
    assert sim.flows.num_rows == 40_000
    hosts = [h for a in sim.labels["attacks"] for h in a["hosts"]]
    assert len(hosts) == len(set(hosts))
