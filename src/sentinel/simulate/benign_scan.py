"""Benign look-alike of scans: an internal vulnerability scanner's nightly run.

The vulnerability scanner sits on the free address just below the servers; it probes every host of the
office on a list of common ports once a night, and grabs the banner of what answers. It is a scanner by
design: a site allow-lists it (`--set scan.allow=ADDRESS/32`); without that, Sentinel reports it as the
scanner it is. Its label carries the allow-list entry.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import numpy as np

from sentinel.simulate.addresses import RESERVED_LOW, SERVER_COUNT, AddressBook
from sentinel.simulate.flows import HOUR, MINUTE, SECOND, TCP, FlowBatch, lognormal_bytes

if TYPE_CHECKING:  # the simulator's modules import this one
    from sentinel.simulate.labels import Names
    from sentinel.simulate.office import Places

VULN_PORTS = (22, 23, 53, 80, 135, 139, 443, 445, 3389, 8080)
#: Which of the ports each server role answers on (clients answer on 135, 139, 445 as Windows does).
SERVER_PORTS: dict[str, tuple[int, ...]] = {
    "dns": (53,),
    "file": (445, 139),
    "web": (80, 443),
    "ntp": (),
    "backup_nas": (22,),
    "backup_host": (22,),
}
CLIENT_PORTS = (135, 139, 445)
SCAN_START = 21 * HOUR
#: Days smaller than this have no vulnerability scan: its rows would crowd out their ordinary traffic.
MIN_DAY_FLOWS = 100_000


def scanner_address(network: ipaddress.IPv4Network, hosts: int) -> int | None:
    """The free address just below the servers, if the clients leave it free."""
    candidate = int(network.broadcast_address) - 1 - SERVER_COUNT
    last_client = int(network.network_address) + RESERVED_LOW + hosts - 1
    return candidate if candidate > last_client else None


def flows_max(hosts: int, flows: int) -> int:
    """Most rows the look-alike adds to a day of `flows`: the scanner's probes and banners."""
    if flows < MIN_DAY_FLOWS:
        return 0
    return (hosts + SERVER_COUNT) * (len(VULN_PORTS) + len(CLIENT_PORTS))


def vulnerability_scan(
    rng: np.random.Generator, network: ipaddress.IPv4Network, hosts_count: int, places: Places, book: AddressBook
) -> tuple[FlowBatch | None, int | None]:
    """(flows, scanner's book index) of the nightly run; (None, None) where no address is free."""
    address = scanner_address(network, hosts_count)
    if address is None:
        return None, None
    (scanner,) = book.add([address])
    hosts: list[tuple[int, tuple[int, ...]]] = [(int(c), CLIENT_PORTS) for c in places.clients]
    hosts += [(int(i), SERVER_PORTS[role]) for role, idx in places.servers.items() for i in idx]
    dst = np.repeat([h for h, _ in hosts], len(VULN_PORTS))
    port = np.tile(VULN_PORTS, len(hosts))
    is_open = np.array([p in ports for _, ports in hosts for p in VULN_PORTS])
    ts = SCAN_START + int(rng.integers(0, 10 * MINUTE)) + np.sort(rng.integers(0, 40 * MINUTE, len(dst)))
    probes = FlowBatch.make(ts, scanner, dst, TCP, port, 44, np.where(is_open, 44, 40))
    # Then a banner grab on every open port: a real, answered session.
    n = int(is_open.sum())
    banner_ts = ts[is_open] + rng.integers(1 * SECOND, 5 * SECOND, n)
    banners = FlowBatch.make(
        banner_ts,
        scanner,
        dst[is_open],
        TCP,
        port[is_open],
        lognormal_bytes(rng, 400, 0.3, n, floor=200),
        lognormal_bytes(rng, 1_500, 0.5, n, floor=300),
    )
    return FlowBatch.concat([probes, banners]), int(scanner)


def labels(names: Names, scanner: int | None) -> list[dict[str, object]]:
    if scanner is None:
        return []
    ip = names.one(scanner)
    return [
        {
            "kind": "vulnerability_scanner",
            "hosts": [ip],
            "proto": "tcp",
            "ports": list(VULN_PORTS),
            "allow": f"{ip}/32",
            # an authenticated scan opens admin sessions on every host: declared as an admin host too
            "allow_list": {"lateral.admin_hosts": [ip]},
            "start": SCAN_START,
        }
    ]
