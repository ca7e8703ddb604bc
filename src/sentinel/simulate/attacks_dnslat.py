"""Labelled attacks for the dns, lateral and exfiltration detectors: DNS tunnelling to an outside
resolver, a rogue resolver in use, lateral fan-out on admin ports, and an exfiltration spread over the
addresses of one /24."""

from __future__ import annotations

import numpy as np

from sentinel.simulate.addresses import EXFIL_BLOCKS
from sentinel.simulate.attacks import Attack, AttackContext, acks, attack
from sentinel.simulate.flows import HOUR, MINUTE, SECOND, TCP, UDP, FlowBatch, lognormal_bytes, split_total

TUNNEL_MAX_QUERIES = 1500


@attack("dns_tunnel", alert_type="dns_tunnel", max_flows=TUNNEL_MAX_QUERIES, clients=1)
def dns_tunnel(ctx: AttackContext) -> Attack:
    """A client tunnels data through DNS to an outside name server of its own: 500-1,500 udp/53 queries
    of ~280 bytes up (long encoded names) in 1-3 hours, answered with ~150-300 bytes."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    server = ctx.new_external()
    n = int(rng.integers(500, TUNNEL_MAX_QUERIES + 1))
    duration = int(rng.integers(1 * HOUR, 3 * HOUR + 1))
    start = int(rng.integers(9 * HOUR, 18 * HOUR - duration))
    ts = start + np.sort(rng.integers(0, duration, n))
    up = lognormal_bytes(rng, 280, 0.15, n, floor=120)
    down = lognormal_bytes(rng, 220, 0.3, n, floor=90)
    return Attack(FlowBatch.make(ts, host, server, UDP, 53, up, down), [host], [server], "udp", 53)


ROGUE_MAX_QUERIES = 100


@attack("rogue_resolver", alert_type="dns_tunnel", max_flows=ROGUE_MAX_QUERIES, clients=1)
def rogue_resolver(ctx: AttackContext) -> Attack:
    """A client's resolver was changed (DNS changer malware): 20-100 ordinary-looking queries over the
    working day go to an outside resolver nobody else uses; its volume is not out of line."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    resolver = ctx.new_external()
    n = int(rng.integers(20, ROGUE_MAX_QUERIES + 1))
    ts = np.sort(rng.integers(8 * HOUR, 18 * HOUR, n))
    up = lognormal_bytes(rng, 75, 0.2, n, floor=60)
    down = lognormal_bytes(rng, 180, 0.5, n, floor=80)
    return Attack(FlowBatch.make(ts, host, resolver, UDP, 53, up, down), [host], [resolver], "udp", 53)


LATERAL_MAX_TARGETS = 20
LATERAL_FLOWS_PER_TARGET = 3  # session, tool copied up, service run


@attack(
    "lateral_fanout",
    alert_type="lateral",
    max_flows=LATERAL_MAX_TARGETS * LATERAL_FLOWS_PER_TARGET,
    clients=1,
)
def lateral_fanout(ctx: AttackContext) -> Attack:
    """A compromised client runs PsExec-style commands on 8-20 other workstations within 10-40 minutes, one
    after another, all over SMB (445): a session set up, a tool copied up, a service run (1-3 flows each)."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    others = np.array([int(c) for c in ctx.places.clients if int(c) != host])
    k = int(rng.integers(8, min(LATERAL_MAX_TARGETS, len(others)) + 1))
    targets = np.sort(rng.choice(others, size=k, replace=False))
    duration = int(rng.integers(10 * MINUTE, 40 * MINUTE + 1))
    start = int(rng.integers(10 * HOUR, 17 * HOUR))
    per = rng.integers(1, LATERAL_FLOWS_PER_TARGET + 1, k)
    dst = np.repeat(rng.permutation(targets), per)
    first = np.repeat(start + np.sort(rng.integers(0, duration, k)), per)
    step = np.concatenate([np.arange(p) for p in per])
    ts = first + step * rng.integers(1, 5, len(dst)) * SECOND
    up = np.where(step == 1, rng.integers(40_000, 400_000, len(dst)), rng.integers(1_500, 4_000, len(dst)))
    down = rng.integers(1_500, 6_000, len(dst))
    flows = FlowBatch.make(ts, host, dst, TCP, 445, up, down)
    return Attack(flows, [host], [int(t) for t in targets], "tcp", 445)


SPREAD_MAX_DESTINATIONS = 24
SPREAD_MAX_FLOWS = SPREAD_MAX_DESTINATIONS * 8


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
    upload spread over 12-24 addresses of one /24: each address gets about one median client's day,
    under the one-destination alert threshold; together they are a transfer out."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    dsts = np.array(neighbours(ctx, int(rng.integers(12, SPREAD_MAX_DESTINATIONS + 1))))
    per = rng.integers(3, 9, len(dsts))
    dst = np.repeat(dsts, per)
    n = len(dst)
    start = int(rng.integers(1 * HOUR, 3 * HOUR))
    ts = start + np.sort(rng.integers(0, 2 * HOUR, n))
    up = split_total(rng, int(rng.uniform(15, 25) * max(ctx.median_client_upload, 100_000)), n, sigma=0.4)
    return Attack(
        FlowBatch.make(ts, host, dst, TCP, 443, up, acks(rng, up)), [host], [int(d) for d in dsts], "tcp", 443
    )
