"""Labelled attacks for the dns, lateral and exfiltration detectors: DNS tunnelling to an outside
resolver, a rogue resolver in use, lateral fan-out on admin ports, and an exfiltration spread over the
addresses of one /24."""

from __future__ import annotations

import numpy as np

from sentinel.simulate.addresses import EXFIL_BLOCKS
from sentinel.simulate.attacks import Attack, AttackContext, acks, attack
from sentinel.simulate.flows import HOUR, MINUTE, SECOND, TCP, UDP, FlowBatch, lognormal_bytes, split_total

TUNNEL_MAX_QUERIES = 6000


@attack("dns_tunnel", alert_type="dns_tunnel", max_flows=TUNNEL_MAX_QUERIES, clients=1)
def dns_tunnel(ctx: AttackContext) -> Attack:
    """A client tunnels data through DNS to an outside name server of its own: 1,500-6,000 udp/53 queries
    of ~200 bytes up (long encoded names) in 1-3 hours, answered with ~150-300 bytes."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    server = ctx.new_external()
    n = int(rng.integers(1500, TUNNEL_MAX_QUERIES + 1))
    duration = int(rng.integers(1 * HOUR, 3 * HOUR + 1))
    start = int(rng.integers(9 * HOUR, 18 * HOUR - duration))
    ts = start + np.sort(rng.integers(0, duration, n))
    up = lognormal_bytes(rng, 200, 0.15, n, floor=120)
    down = lognormal_bytes(rng, 220, 0.3, n, floor=90)
    return Attack(FlowBatch.make(ts, host, server, UDP, 53, up, down), [host], [server], "udp", 53)


ROGUE_MAX_QUERIES = 150


@attack("rogue_resolver", alert_type="dns_tunnel", max_flows=ROGUE_MAX_QUERIES, clients=1)
def rogue_resolver(ctx: AttackContext) -> Attack:
    """A client's resolver was changed (DNS changer malware): 20-150 ordinary-looking queries over the
    working day go to an outside resolver nobody else uses; its volume is not out of line."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    resolver = ctx.new_external()
    n = int(rng.integers(20, ROGUE_MAX_QUERIES + 1))
    ts = np.sort(rng.integers(8 * HOUR, 18 * HOUR, n))
    up = lognormal_bytes(rng, 75, 0.2, n, floor=60)
    down = lognormal_bytes(rng, 180, 0.5, n, floor=80)
    return Attack(FlowBatch.make(ts, host, resolver, UDP, 53, up, down), [host], [resolver], "udp", 53)


LATERAL_MAX_TARGETS = 25
LATERAL_FLOWS_PER_TARGET = 6


@attack(
    "lateral_fanout",
    alert_type="lateral",
    max_flows=LATERAL_MAX_TARGETS * LATERAL_FLOWS_PER_TARGET,
    clients=1,
)
def lateral_fanout(ctx: AttackContext) -> Attack:
    """A compromised client opens admin sessions on 8-25 other workstations within 10-40 minutes
    (PsExec-style: RPC 135 then SMB 445 with a tool copied up; WinRM 5985 on some), one after another."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    others = [int(c) for c in ctx.places.clients if int(c) != host]
    k = int(rng.integers(8, min(LATERAL_MAX_TARGETS, len(others)) + 1))
    targets = rng.choice(others, size=k, replace=False)
    duration = int(rng.integers(10 * MINUTE, 40 * MINUTE + 1))
    start = int(rng.integers(10 * HOUR, 17 * HOUR))
    first = start + np.sort(rng.integers(0, duration, k))
    ts, dst, port, up, down = [], [], [], [], []
    for t, at in zip(targets, first, strict=True):
        steps = [(135, 2_000, 1_500), (445, int(rng.integers(40_000, 400_000)), int(rng.integers(3_000, 9_000)))]
        if rng.random() < 0.4:
            steps.append((5985, int(rng.integers(3_000, 20_000)), int(rng.integers(2_000, 10_000))))
        for i, (p, u, d) in enumerate(steps):
            ts.append(at + i * int(rng.integers(1, 5)) * SECOND)
            dst.append(int(t))
            port.append(p)
            up.append(u)
            down.append(d)
    flows = FlowBatch.make(np.array(ts), host, np.array(dst), TCP, np.array(port), np.array(up), np.array(down))
    return Attack(flows, [host], [], "tcp", 445)


SPREAD_MAX_DESTINATIONS = 30
SPREAD_MAX_FLOWS = SPREAD_MAX_DESTINATIONS * 20


def neighbours(ctx: AttackContext, k: int) -> list[int]:
    """k addresses of one /24 in the exfiltration blocks that nothing else in the day talks to."""
    first = ctx.new_external(EXFIL_BLOCKS)
    base = ctx.book.ints()[first] & np.uint32(0xFFFFFF00)
    last = ctx.rng.choice(np.arange(1, 255), size=k + 8, replace=False)
    picked = [int(base) + int(x) for x in last if int(base) + int(x) not in ctx.book][:k]
    return [int(i) for i in ctx.book.add(picked)]


@attack("exfil_spread", alert_type="exfiltration", max_flows=SPREAD_MAX_FLOWS, clients=1)
def exfil_spread(ctx: AttackContext) -> Attack:
    """At night (01:00-05:00, when the office is quiet), a client uploads 15-25x the median client's daily
    upload spread over 15-30 addresses of one /24: each address gets about one median client's day,
    under the one-destination alert threshold; together they are a transfer out."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    dsts = np.array(neighbours(ctx, int(rng.integers(15, SPREAD_MAX_DESTINATIONS + 1))))
    per = rng.integers(5, 21, len(dsts))
    dst = np.repeat(dsts, per)
    n = len(dst)
    start = int(rng.integers(1 * HOUR, 3 * HOUR))
    ts = start + np.sort(rng.integers(0, 2 * HOUR, n))
    up = split_total(rng, int(rng.uniform(15, 25) * max(ctx.median_client_upload, 100_000)), n, sigma=0.4)
    return Attack(
        FlowBatch.make(ts, host, dst, TCP, 443, up, acks(rng, up)), [host], [int(d) for d in dsts], "tcp", 443
    )
