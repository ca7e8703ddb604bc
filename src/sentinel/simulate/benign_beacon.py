"""Benign look-alikes of beacons: a monitoring server's polls and clients' CDN keep-alives.

Both keep a schedule as strictly as any C&C, so flow timing alone would call them beacons; what tells them
apart is that many hosts share the schedule (the beacon detector's fleet and poller factors).

- **Monitoring**: a monitoring server (on the free address below the vulnerability scanner's) scrapes an
  agent on every host of the office (tcp/9100, as Prometheus' node exporter) every minute. A minute's polls
  of every host is hundreds of thousands of rows a day, so on a day too small for them it polls every
  5 minutes, and where even that would take more than `BUDGET_SHARE` of the day, a subset of the hosts; the
  label says the period and lists the hosts polled.
- **CDN keep-alives**: a share of the clients run an app that keeps a connection to a CDN open while they
  work (their working day, 08:00-18:00 shifted by the host's own start), one small keep-alive record every
  `period_s` seconds (one period for the day: one app); each client is pinned to one of the CDN's addresses
  in one /24 (DNS load balancing), so no single address has all the clients. At least `MIN_KEEPALIVE_CLIENTS`
  and at most `KEEPALIVE_SHARE` of the clients, fewer where the rows would take more than `BUDGET_SHARE`.

Only on days with attacks (the days detectors are measured on) of `MIN_DAY_FLOWS` or more, as the
vulnerability scanner.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sentinel.simulate import benign_scan
from sentinel.simulate.addresses import AddressBook, draw_in_blocks
from sentinel.simulate.flows import DAY, HOUR, SECOND, TCP, FlowBatch, lognormal_bytes

if TYPE_CHECKING:  # the simulator's modules import this one
    from sentinel.simulate.labels import Names
    from sentinel.simulate.office import Hosts, Places

MIN_DAY_FLOWS = benign_scan.MIN_DAY_FLOWS
#: Most of the day's rows each look-alike may take.
BUDGET_SHARE = 0.04
MONITOR_PORT = 9100
MONITOR_PERIODS_S = (60, 300)  # every minute; every 5 minutes where a minute would exceed the budget
KEEPALIVE_PORT = 443
KEEPALIVE_PERIODS_S = (30, 45, 60, 90, 120)
KEEPALIVE_SHARE = 0.2
MIN_KEEPALIVE_CLIENTS = 4
KEEPALIVE_ADDRESSES = 4
WORK_START, WORK_END = 8 * HOUR, 18 * HOUR
#: CDN edge networks the keep-alive addresses are drawn from (Cloudflare, Akamai, Fastly).
CDN_BLOCKS = ("104.16.0.0/13", "23.32.0.0/11", "151.101.0.0/16")


def budget(flows: int) -> int:
    return int(BUDGET_SHARE * flows) if flows >= MIN_DAY_FLOWS else 0


def flows_max(hosts: int, flows: int) -> int:
    """Most rows the look-alikes add to a day of `flows` (each keeps within its budget)."""
    return 2 * budget(flows)


def monitor_address(network: ipaddress.IPv4Network, hosts: int) -> int | None:
    """The free address just below the vulnerability scanner's, if the clients leave it free."""
    scanner = benign_scan.scanner_address(network, hosts)
    if scanner is None or scanner - 1 <= int(network.network_address) + 1 + hosts:
        return None
    return scanner - 1


def monitoring(
    rng: np.random.Generator,
    network: ipaddress.IPv4Network,
    hosts_count: int,
    flows: int,
    places: Places,
    book: AddressBook,
) -> tuple[FlowBatch, int, np.ndarray, int] | None:
    """(flows, monitor's book index, book indices of the hosts polled, period in seconds); None where no
    address is free or the day is too small."""
    address = monitor_address(network, hosts_count)
    room = budget(flows)
    if address is None or room == 0:
        return None
    targets = np.concatenate([places.clients, *places.servers.values()]).astype(np.int32)
    for period_s in MONITOR_PERIODS_S:
        polls = DAY // (period_s * SECOND)
        if len(targets) * polls <= room:
            break
    else:  # even every 5 minutes is too much: a subset of the hosts, in address order
        keep = max(1, room // polls)
        targets = np.sort(rng.choice(targets, size=keep, replace=False))
    (monitor,) = book.add([address])
    period = period_s * SECOND
    phase = rng.integers(0, period, len(targets))  # each host's scrape at its own offset in the period
    k = np.arange(polls)
    ts = (phase[:, None] + k[None, :] * period + rng.integers(0, SECOND // 2, (len(targets), polls))).ravel()
    dst = np.repeat(targets, polls)
    up = lognormal_bytes(rng, 220, 0.05, len(ts), floor=150)
    down = lognormal_bytes(rng, 6_000, 0.3, len(ts), floor=1_000)
    return FlowBatch.make(ts, monitor, dst, TCP, MONITOR_PORT, up, down), int(monitor), targets, period_s


def cdn_keepalives(
    rng: np.random.Generator, flows: int, places: Places, hosts: Hosts, book: AddressBook
) -> tuple[FlowBatch, np.ndarray, np.ndarray, int] | None:
    """(flows, book indices of the clients, of the CDN addresses, period in seconds); None on small days."""
    room = budget(flows)
    if room == 0:
        return None
    period_s = int(rng.choice(KEEPALIVE_PERIODS_S))
    period = period_s * SECOND
    per_client = (WORK_END - WORK_START) // period
    n = min(max(MIN_KEEPALIVE_CLIENTS, int(KEEPALIVE_SHARE * len(places.clients))), room // per_client)
    n = min(n, len(places.clients))
    if n < 1:
        return None
    while True:  # one /24 of a CDN none of whose addresses the day already has
        (first,), _ = draw_in_blocks(rng, list(CDN_BLOCKS), np.ones(len(CDN_BLOCKS)), 1)
        net = int(first) & ~0xFF
        offsets = rng.choice(np.arange(1, 255), size=KEEPALIVE_ADDRESSES, replace=False)
        candidates = [net + int(o) for o in np.sort(offsets)]
        if not any(c in book for c in candidates):
            break
    edges = book.add(candidates)
    chosen = np.sort(rng.choice(len(places.clients), size=n, replace=False))
    pinned = edges[rng.integers(0, len(edges), n)]
    start = WORK_START + hosts.shift[chosen] + rng.integers(0, period, n)
    k = np.arange(per_client)
    # A keep-alive timer drifts by a few hundredths of a second at most.
    ts = (start[:, None] + k[None, :] * period + rng.integers(0, 5, (n, per_client))).ravel()
    src = np.repeat(places.clients[chosen], per_client)
    dst = np.repeat(pinned, per_client)
    up = lognormal_bytes(rng, 90, 0.05, len(ts), floor=60)
    down = lognormal_bytes(rng, 90, 0.05, len(ts), floor=60)
    return FlowBatch.make(ts, src, dst, TCP, KEEPALIVE_PORT, up, down), places.clients[chosen], edges, period_s


@dataclass(frozen=True)
class Found:
    """One look-alike of the day, in address-book indices, for its label."""

    kind: str
    hosts: np.ndarray
    dsts: np.ndarray
    port: int
    period_s: int
    note: str


def look_alikes(
    rng_monitor: np.random.Generator,
    rng_cdn: np.random.Generator,
    network: ipaddress.IPv4Network,
    flows: int,
    places: Places,
    hosts: Hosts,
    book: AddressBook,
) -> tuple[list[FlowBatch], list[Found]]:
    """The look-alikes' rows and what their labels say."""
    batches: list[FlowBatch] = []
    found: list[Found] = []
    monitor = monitoring(rng_monitor, network, len(places.clients), flows, places, book)
    if monitor is not None:
        rows, index, targets, period_s = monitor
        batches.append(rows)
        note = f"polls {len(targets)} hosts every {period_s} s (at most {BUDGET_SHARE:.0%} of the day's rows)"
        found.append(Found("monitoring_poll", np.array([index]), targets, MONITOR_PORT, period_s, note))
    cdn = cdn_keepalives(rng_cdn, flows, places, hosts, book)
    if cdn is not None:
        rows, clients, edges, period_s = cdn
        batches.append(rows)
        note = f"{len(clients)} clients, each pinned to one of {len(edges)} CDN addresses of one /24, 08-18 h"
        found.append(Found("cdn_keepalive", clients, edges, KEEPALIVE_PORT, period_s, note))
    return batches, found


def labels(names: Names, found: list[Found]) -> list[dict[str, object]]:
    return [
        {
            "kind": f.kind,
            "hosts": names(f.hosts),
            "dst_ips": names(f.dsts),
            "proto": "tcp",
            "port": f.port,
            "period_s": f.period_s,
            "note": f.note,
        }
        for f in found
    ]
