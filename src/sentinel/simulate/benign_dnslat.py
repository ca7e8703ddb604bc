"""Benign look-alikes of DNS tunnelling and lateral movement, labelled in the day's `benign` list.

* `backup_pull`: the backup host pulls every client's documents over SMB (445) in the evening: one host
  opening admin sessions on every workstation, as lateral movement does. It is what an allow-list is
  for: its label names the parameter that declares it (`lateral.admin_hosts`).
* `busy_dns_server`: the web server resolves its visitors (PTR lookups) through the company resolvers:
  far more DNS than any client, ordinary queries, shared resolvers.
* The internal resolvers forwarding upstream (office.internal_traffic) are labelled as `dns_forwarding`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sentinel.simulate.flows import HOUR, TCP, UDP, FlowBatch, lognormal_bytes

if TYPE_CHECKING:  # labels imports the configuration, which imports this module
    from sentinel.simulate.labels import Names
    from sentinel.simulate.office import Places

BACKUP_PULL_FLOWS_PER_CLIENT = 3
SMB = 445


def benign_flows_max(hosts: int, flows: int) -> int:
    """Most rows the look-alikes below add to a day."""
    return hosts * BACKUP_PULL_FLOWS_PER_CLIENT + busy_dns_queries(flows)


def busy_dns_queries(flows: int) -> int:
    return int(np.clip(flows // 200, 20, 5_000))


def backup_pull(rng: np.random.Generator, places: Places) -> FlowBatch:
    """From 21:00, the backup host visits each client in turn on SMB: 1-3 flows, megabytes down."""
    n = len(places.clients)
    per = rng.integers(1, BACKUP_PULL_FLOWS_PER_CLIENT + 1, n)
    client = np.repeat(places.clients, per)
    slot = 2 * HOUR // n  # done by 23:00
    ts = 21 * HOUR + np.repeat(np.arange(n) * slot, per) + rng.integers(0, slot, len(client))
    down = lognormal_bytes(rng, 8_000_000, 1.0, len(client), floor=50_000)
    up = down // 300 + lognormal_bytes(rng, 2_000, 0.3, len(client))
    return FlowBatch.make(ts, places.server("backup_host"), client, TCP, SMB, up, down)


def busy_dns_server(rng: np.random.Generator, places: Places, flows: int) -> FlowBatch:
    """The web server's PTR lookups for its log: ordinary queries, through the company resolvers."""
    n = busy_dns_queries(flows)
    dns = places.servers["dns"]
    ts = np.sort(rng.integers(7 * HOUR, 20 * HOUR, n))
    up = lognormal_bytes(rng, 80, 0.2, n, floor=60)
    down = lognormal_bytes(rng, 160, 0.4, n, floor=80)
    return FlowBatch.make(ts, places.server("web"), rng.choice(dns, n), UDP, 53, up, down)


def labels(places: Places, names: Names) -> list[dict[str, object]]:
    return [
        {
            "kind": "backup_pull",
            "hosts": names(places.servers["backup_host"]),
            "proto": "tcp",
            "port": SMB,
            "allow_list": {"lateral.admin_hosts": names(places.servers["backup_host"])},
        },
        {
            "kind": "busy_dns_server",
            "hosts": names(places.servers["web"]),
            "dst_ips": names(places.servers["dns"]),
            "proto": "udp",
            "port": 53,
        },
        {
            "kind": "dns_forwarding",
            "hosts": names(places.servers["dns"]),
            "dst_ips": names(places.resolvers),
            "proto": "udp",
            "port": 53,
        },
    ]
