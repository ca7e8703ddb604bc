"""Scans from an internal client, as attack kinds: horizontal (many hosts, one port), vertical (many ports of
one host) and a host-discovery sweep of the office network (a few ports per address). Labels name the
targets as counterparts, and port 0 where many ports were probed.

Probes are what a SYN scan leaves in flow records (IP-level bytes): a SYN out (44-60 bytes, a retry now and
then), and back nothing (no host, or filtered), a reset (40 bytes: closed) or a SYN-ACK (44 bytes: open).
"""

from __future__ import annotations

import numpy as np

from sentinel.simulate.attacks import Attack, AttackContext, attack
from sentinel.simulate.flows import HOUR, MINUTE, TCP, FlowBatch

SUBNET = 126  # a /25's host addresses: what one scan of the office covers
MAX_PORTS = 200
RETRY_EVERY = 10
SWEEP_PORTS = ((TCP, 80), (TCP, 443))
SCAN_WINDOW = (9 * HOUR, 17 * HOUR)


def office_targets(ctx: AttackContext, scanner: int) -> np.ndarray:
    """Book indices of the addresses of the scanner's /25 inside the office (live hosts and empty ones)."""
    ints = ctx.book.ints()
    inside = np.concatenate([ctx.places.clients, *ctx.places.servers.values()])
    low, high = int(ints[inside].min()), int(ints[inside].max())
    base = int(ints[scanner]) & ~127
    wanted = np.arange(max(base + 1, low), min(base + SUBNET, high) + 1, dtype=np.int64)
    wanted = wanted[wanted != int(ints[scanner])]
    known = {int(ints[i]): int(i) for i in inside}
    missing = np.array([a for a in wanted.tolist() if a not in known], dtype=np.uint32)
    new = dict(zip(missing.tolist(), ctx.book.add(missing).tolist(), strict=True)) if len(missing) else {}
    return np.array([known.get(a, new.get(a)) for a in wanted.tolist()], dtype=np.int32)


def replies(rng: np.random.Generator, live: np.ndarray, open_share: float) -> np.ndarray:
    """Bytes back per probe: 0 where nobody lives, else a SYN-ACK (44) where open and a reset (40)."""
    is_open = rng.random(len(live)) < open_share
    return np.where(live, np.where(is_open, 44, 40), 0).astype(np.int64)


def probe_times(rng: np.random.Generator, n: int, min_minutes: int, max_minutes: int) -> np.ndarray:
    duration = int(rng.integers(min_minutes * MINUTE, max_minutes * MINUTE + 1))
    start = int(rng.integers(SCAN_WINDOW[0], SCAN_WINDOW[1] - duration))
    return start + np.sort(rng.integers(0, duration, n))


def with_retries(rng: np.random.Generator, n: int) -> np.ndarray:
    """Probe indices: each target once, one in ten of them twice (a retransmitted SYN)."""
    again = rng.choice(n, n // RETRY_EVERY, replace=False)
    return np.sort(np.concatenate([np.arange(n), again]))


def _live(ctx: AttackContext, targets: np.ndarray) -> np.ndarray:
    inside = np.concatenate([ctx.places.clients, *ctx.places.servers.values()])
    return np.isin(targets, inside)


@attack("scan_horizontal", alert_type="scan", max_flows=SUBNET + SUBNET // RETRY_EVERY, clients=1)
def scan_horizontal(ctx: AttackContext) -> Attack:
    """One client probes every address of its /25 on one port (SMB, SSH, RDP or telnet) in 2-20 minutes."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    port = int(rng.choice([445, 22, 3389, 23]))
    targets = office_targets(ctx, host)
    k = with_retries(rng, len(targets))
    dst = targets[k]
    ts = probe_times(rng, len(k), 2, 20)
    up = rng.choice([44, 60], len(k))
    down = replies(rng, _live(ctx, dst), open_share=0.2)
    return Attack(FlowBatch.make(ts, host, dst, TCP, port, up, down), [host], targets.tolist(), "tcp", port)


@attack("scan_vertical", alert_type="scan", max_flows=MAX_PORTS + MAX_PORTS // RETRY_EVERY, clients=1)
def scan_vertical(ctx: AttackContext) -> Attack:
    """One client probes 60-200 ports of one server in 1-10 minutes (label port 0: many ports)."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    roles = sorted(ctx.places.servers)
    victim = int(ctx.places.servers[roles[int(rng.integers(0, len(roles)))]][0])
    ports = np.sort(rng.choice(np.arange(1, 10_001), int(rng.integers(60, MAX_PORTS + 1)), replace=False))
    k = with_retries(rng, len(ports))
    ts = probe_times(rng, len(k), 1, 10)
    up = rng.choice([44, 60], len(k))
    down = np.where(rng.random(len(k)) < 0.02, 44, 40)  # a few open, the rest reset
    return Attack(FlowBatch.make(ts, host, victim, TCP, ports[k], up, down), [host], [victim], "tcp", 0)


@attack("scan_sweep", alert_type="scan", max_flows=SUBNET * len(SWEEP_PORTS), clients=1)
def scan_sweep(ctx: AttackContext) -> Attack:
    """Host discovery: one client touches every address of its /25 on tcp/80 and tcp/443 in 1-5 minutes (a
    ping sweep, in a schema that has only tcp and udp; label port 0: several ports)."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    targets = office_targets(ctx, host)
    proto = np.repeat([p for p, _ in SWEEP_PORTS], len(targets))
    port = np.repeat([p for _, p in SWEEP_PORTS], len(targets))
    dst = np.tile(targets, len(SWEEP_PORTS))
    order = rng.permutation(len(dst))
    proto, port, dst = proto[order], port[order], dst[order]
    ts = probe_times(rng, len(dst), 1, 5)
    up = np.full(len(dst), 44)
    down = replies(rng, _live(ctx, dst), open_share=0.1)
    return Attack(FlowBatch.make(ts, host, dst, proto, port, up, down), [host], targets.tolist(), "tcp", 0)
