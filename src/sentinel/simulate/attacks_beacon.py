"""Labelled command-and-control kinds for the beacon detector (alert type `beacon`).

Each beacon calls home at a period drawn log-uniformly from 1 s to 30 min, with 5-30 % jitter on each
interval (sleep with jitter, as C&C frameworks do), some beats missed, and a check-in of nearly constant
size; its active window gives it at least 40 beats and at most BEACON_MAX_BEATS rows (a 1 s beacon runs for
under an hour, a 30 min one for most of the day).
"""

from __future__ import annotations

import numpy as np

from sentinel.simulate.attacks import Attack, AttackContext, acks, attack
from sentinel.simulate.flows import DAY, HOUR, MINUTE, SECOND, TCP, FlowBatch, lognormal_bytes

BEACON_MAX_BEATS = 400
MIN_PERIOD = 1 * SECOND
MAX_PERIOD = 30 * MINUTE
ROTATING_ADDRESSES = (3, 6)
#: A flow exporter's active timeout: a session open for hours is reported as one record per timeout.
ACTIVE_TIMEOUT = 30 * MINUTE


def _beats(ctx: AttackContext) -> np.ndarray:
    """Start times (centiseconds) of one beacon: period, jitter, missed beats and window drawn from ctx.rng."""
    rng = ctx.rng
    period = float(np.exp(rng.uniform(np.log(MIN_PERIOD), np.log(MAX_PERIOD))))
    jitter = rng.uniform(0.05, 0.30)
    beats = int(np.clip((16 * HOUR) // period, 40, BEACON_MAX_BEATS))
    intervals = period * (1 + rng.uniform(-jitter, jitter, beats))
    span = float(intervals.sum())
    start = int(rng.integers(0, max(1, int(DAY - span - 1))))
    ts = start + np.cumsum(intervals).astype(np.int64)
    kept = rng.random(beats) >= rng.uniform(0.0, 0.15)  # missed beats
    return np.sort(ts[kept][ts[kept] < DAY])


@attack("beacon", alert_type="beacon", max_flows=BEACON_MAX_BEATS, clients=1)
def beacon(ctx: AttackContext) -> Attack:
    """One client calls one C&C address on a schedule (1 s - 30 min, 5-30 % jitter, missed beats)."""
    (host,) = ctx.take_clients(1)
    c2 = ctx.new_external()
    ts = _beats(ctx)
    up = lognormal_bytes(ctx.rng, float(ctx.rng.integers(300, 2_000)), 0.05, len(ts), floor=100)
    flows = FlowBatch.make(ts, host, c2, TCP, 443, up, acks(ctx.rng, up) + 200)
    return Attack(flows, hosts=[host], counterparts=[c2], proto="tcp", port=443)


@attack("beacon_rotating", alert_type="beacon", max_flows=BEACON_MAX_BEATS, clients=1)
def beacon_rotating(ctx: AttackContext) -> Attack:
    """A beacon whose C&C rotates over 3-6 addresses of one /24: each beat goes to one of them at random."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    first = ctx.new_external()
    address = int(ctx.book.ints()[first])
    network, base = address & ~0xFF, address & 0xFF
    k = int(rng.integers(ROTATING_ADDRESSES[0], ROTATING_ADDRESSES[1] + 1))
    others = [network + int(o) for o in rng.choice(np.arange(1, 255), size=k + 4, replace=False) if int(o) != base]
    fresh = [o for o in others if o not in ctx.book][: k - 1]
    c2s = [first, *ctx.book.add(np.array(fresh, dtype=np.uint32)).tolist()]
    ts = _beats(ctx)
    dst = np.array(c2s)[rng.integers(0, len(c2s), len(ts))]
    port = 8443 if rng.random() < 0.5 else 443
    up = lognormal_bytes(rng, float(rng.integers(300, 2_000)), 0.05, len(ts), floor=100)
    flows = FlowBatch.make(ts, host, dst, TCP, port, up, acks(rng, up) + 200)
    return Attack(flows, hosts=[host], counterparts=[int(c) for c in c2s], proto="tcp", port=port)


@attack("long_session", alert_type="beacon", max_flows=20 * HOUR // ACTIVE_TIMEOUT + 1, clients=1)
def long_session(ctx: AttackContext) -> Attack:
    """A remote-access session open 6-20 hours, as a flow exporter reports it without a duration column: one
    record per active timeout (30 min), bytes varying with what the operator does."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    dst = ctx.new_external()
    hours = int(rng.integers(6, 21))
    start = int(rng.integers(0, DAY - hours * HOUR))
    ts = start + np.arange(hours * HOUR // ACTIVE_TIMEOUT) * ACTIVE_TIMEOUT + rng.integers(0, 2 * SECOND)
    up = lognormal_bytes(rng, 40_000, 0.8, len(ts), floor=2_000)
    down = lognormal_bytes(rng, 200_000, 0.8, len(ts), floor=2_000)
    flows = FlowBatch.make(ts, host, dst, TCP, 4444, up, down)
    return Attack(flows, hosts=[host], counterparts=[dst], proto="tcp", port=4444)
