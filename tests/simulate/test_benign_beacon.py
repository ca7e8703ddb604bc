"""The beacon look-alikes: a monitoring server's polls and CDN keep-alives, bounded and labelled as drawn."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sentinel.simulate import SimulationConfig, benign_beacon, simulate


def rows_of(sim, src, dst=None, port=None):
    t = sim.flows
    mask = pc.is_in(t["src_ip"], value_set=pa.array(src))
    if dst is not None:
        mask = pc.and_(mask, pc.is_in(t["dst_ip"], value_set=pa.array(dst)))
    if port is not None:
        mask = pc.and_(mask, pc.equal(t["port"], port))
    return t.filter(mask)


@pytest.mark.parametrize(("hosts", "flows"), [(60, 150_000), (240, 2_000_000)])
def test_look_alikes_bounded_and_labelled(hosts, flows):
    sim = simulate(SimulationConfig(hosts=hosts, flows=flows, seed=3, attacks=True))
    assert sim.flows.num_rows == flows
    kinds = {b["kind"]: b for b in sim.labels["benign"]}
    monitor, cdn = kinds["monitoring_poll"], kinds["cdn_keepalive"]

    polls = rows_of(sim, monitor["hosts"], port=benign_beacon.MONITOR_PORT)
    assert 0 < polls.num_rows <= benign_beacon.budget(flows)
    assert sorted(set(polls["dst_ip"].to_pylist())) == sorted(monitor["dst_ips"])
    one = polls.filter(pc.equal(polls["dst_ip"], monitor["dst_ips"][0]))["timestamp"].to_numpy()
    period = np.median(np.diff(np.sort(one))) / 100
    assert abs(period - monitor["period_s"]) <= 1  # the label's period is the one drawn

    keep = rows_of(sim, cdn["hosts"], dst=cdn["dst_ips"], port=cdn["port"])
    assert 0 < keep.num_rows <= benign_beacon.budget(flows)
    assert set(keep["src_ip"].to_pylist()) == set(cdn["hosts"]) and len(cdn["hosts"]) >= 3
    assert len({ip.rsplit(".", 1)[0] for ip in cdn["dst_ips"]}) == 1  # one /24


def test_monitoring_polls_every_minute_when_the_day_is_large_enough():
    # 60 hosts + 7 servers polled every minute is 96,480 rows: 4 % of a 2.5M-flow day
    sim = simulate(SimulationConfig(hosts=60, flows=2_500_000, seed=0, attacks=True))
    monitor = next(b for b in sim.labels["benign"] if b["kind"] == "monitoring_poll")
    assert monitor["period_s"] == 60 and len(monitor["dst_ips"]) == 67


def test_no_look_alikes_without_attacks_or_on_small_days():
    for config in (SimulationConfig(hosts=60, flows=150_000, attacks=False), SimulationConfig(hosts=60, flows=50_000)):
        assert not {"monitoring_poll", "cdn_keepalive"} & {b["kind"] for b in simulate(config).labels["benign"]}
