"""SimulationConfig and its validation (every problem is a one-line ConfigError)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sentinel.errors import ConfigError
from sentinel.simulate import benign_scan
from sentinel.simulate.addresses import PUBLIC_NTP, RESERVED_LOW, SERVER_COUNT, Layout
from sentinel.simulate.attacks import ATTACK_KINDS
from sentinel.simulate.benign_dnslat import benign_flows_max
from sentinel.simulate.office import EXTERNAL_SHARE, LOGIN_SERVICES, MIN_INTERNAL_SHARE, periodic_flows_max

MIN_HOSTS = 10
MIN_FLOWS = 1000


@dataclass(frozen=True)
class SimulationConfig:
    hosts: int = 200  # internal client workstations
    flows: int = 1_000_000  # total flows in the day (exact row count of the output)
    seed: int = 0
    network: str = "192.168.104.0/24"  # the office network (IPv4 CIDR)
    attacks: bool = False  # inject the labelled attacks (every kind in ATTACK_KINDS)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        for name in ("hosts", "flows", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{name} must be an integer, not {value!r}")
        if self.hosts < MIN_HOSTS:
            raise ConfigError(f"hosts={self.hosts}: need at least {MIN_HOSTS} client hosts")
        if self.flows < MIN_FLOWS:
            raise ConfigError(f"flows={self.flows}: need at least {MIN_FLOWS} flows")
        if self.seed < 0:
            raise ConfigError(f"seed={self.seed}: must be zero or positive")
        if not isinstance(self.attacks, bool):
            raise ConfigError(f"attacks must be true or false, not {self.attacks!r}")
        network = self.ipv4_network()
        if not Layout.fits(network, self.hosts):
            room = network.num_addresses - RESERVED_LOW - SERVER_COUNT - 1
            raise ConfigError(
                f"network {self.network} is too small for {self.hosts} clients and "
                f"{SERVER_COUNT} servers (room for {max(room, 0)} clients); use a larger one"
            )
        attack_clients = sum(kind.clients for kind in ATTACK_KINDS.values())
        if self.attacks and self.hosts < attack_clients:
            raise ConfigError(f"hosts={self.hosts}: the attacks need {attack_clients} distinct clients")
        if not flows_suffice(self.flows, self.hosts, self.attacks):
            what = "periodic and attack traffic" if self.attacks else "periodic traffic"
            need = min_flows(self.hosts, self.attacks)
            raise ConfigError(
                f"flows={self.flows} is too few for hosts={self.hosts}: the {what} would leave "
                f"too little ordinary traffic; use flows >= {need}"
            )

    def ipv4_network(self) -> ipaddress.IPv4Network:
        try:
            network = ipaddress.ip_network(self.network)
        except ValueError as exc:
            raise ConfigError(f"network {self.network!r}: not a valid IPv4 CIDR ({exc})") from None
        if not isinstance(network, ipaddress.IPv4Network):
            raise ConfigError(f"network {self.network}: must be IPv4")
        return network

    def as_dict(self) -> dict[str, object]:
        return {
            "hosts": self.hosts,
            "flows": self.flows,
            "seed": self.seed,
            "network": self.network,
            "attacks": self.attacks,
        }


def attack_flows_max(attacks: bool, hosts: int = 0, flows: int = 0) -> int:
    """Most rows the attacks and the look-alikes that come with them (benign_scan) add."""
    if not attacks:
        return 0
    return sum(kind.max_flows for kind in ATTACK_KINDS.values()) + benign_scan.flows_max(hosts, flows)


def flows_suffice(flows: int, hosts: int, attacks: bool) -> bool:
    """Whether, in the worst case, the periodic, login and attack flows leave enough internal traffic."""
    core = flows - periodic_flows_max(hosts, flows, len(PUBLIC_NTP))
    internal = core - round(EXTERNAL_SHARE * core) - LOGIN_SERVICES * hosts - attack_flows_max(attacks, hosts, flows)
    internal -= benign_flows_max(hosts, flows)
    return internal >= MIN_INTERNAL_SHARE * flows


def min_flows(hosts: int, attacks: bool) -> int:
    """The smallest flow count that suffices (bisection: sufficiency grows with flows)."""
    low, high = MIN_FLOWS, MIN_FLOWS
    while not flows_suffice(high, hosts, attacks):
        low, high = high, high * 2
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if flows_suffice(mid, hosts, attacks) else (mid + 1, high)
    return high
