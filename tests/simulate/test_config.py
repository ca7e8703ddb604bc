"""SimulationConfig validation: every bad value is a one-line ConfigError."""

from __future__ import annotations

import pytest

from sentinel.errors import ConfigError
from sentinel.simulate import ATTACK_KINDS, AttackKind, SimulationConfig, simulate
from sentinel.simulate.config import min_flows


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hosts": 9}, "hosts=9"),
        ({"flows": 999}, "flows=999"),
        ({"network": "192.168.104.0/28"}, "too small"),
        ({"network": "192.168.104.0/24", "hosts": 247}, "too small"),
        ({"network": "10.0.0.0/33"}, "not a valid IPv4 CIDR"),
        ({"network": "office"}, "not a valid IPv4 CIDR"),
        ({"network": "192.168.104.7/24"}, "host bits"),
        ({"network": "fd00::/64"}, "must be IPv4"),
        ({"seed": -1}, "seed=-1"),
        ({"hosts": 20.5}, "hosts must be an integer"),
        ({"attacks": "yes"}, "attacks must be true or false"),
        ({"hosts": 200, "flows": 5_000}, "use flows >="),
    ],
)
def test_invalid_config_is_a_one_line_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message) as caught:
        SimulationConfig(**kwargs)
    assert "\n" not in str(caught.value)


def test_attacks_need_enough_distinct_clients(monkeypatch):
    need = sum(kind.clients for kind in ATTACK_KINDS.values())  # grows as attack kinds are added
    enough = min_flows(need + 5, True) + 1_000  # so that only the clients can be what is missing
    SimulationConfig(hosts=need, flows=enough, attacks=True)
    monkeypatch.setitem(ATTACK_KINDS, "big_botnet", AttackKind("big_botnet", "botnet", 10, 5, lambda ctx: None))
    with pytest.raises(ConfigError, match=f"need {need + 5} distinct clients"):
        SimulationConfig(hosts=need, flows=enough, attacks=True)
    SimulationConfig(hosts=need, flows=enough, attacks=False)


def test_largest_office_that_fits_a_slash_24():
    simulate(SimulationConfig(hosts=246, flows=20_000))


def test_the_suggested_minimum_flow_count_is_exact():
    for hosts, attacks in ((200, True), (200, False), (40, True)):
        need = min_flows(hosts, attacks)
        SimulationConfig(hosts=hosts, flows=need, attacks=attacks)
        with pytest.raises(ConfigError, match=f"use flows >= {need}"):
            SimulationConfig(hosts=hosts, flows=need - 1, attacks=attacks)


def test_too_few_flows_names_a_count_that_works():
    """Where the larger days' look-alikes begin, a count may fall short where a smaller one sufficed: the
    error names a count above the one asked for that works."""
    with pytest.raises(ConfigError, match=r"use flows >= (\d+)") as caught:
        SimulationConfig(hosts=600, flows=100_000, network="10.20.0.0/16", attacks=True)
    need = int(caught.value.args[0].rsplit(">= ", 1)[1])
    assert need > 100_000
    SimulationConfig(hosts=600, flows=need, network="10.20.0.0/16", attacks=True)


def test_minimal_config_and_larger_networks_work():
    assert simulate(SimulationConfig(hosts=10, flows=1000)).flows.num_rows == 1000
    sim = simulate(SimulationConfig(hosts=600, flows=150_000, network="10.20.0.0/16", attacks=True))
    assert sim.flows.num_rows == 150_000
    assert sim.labels["clients"][0] == "10.20.0.2" and sim.labels["servers"]["dns"][0] == "10.20.255.254"
