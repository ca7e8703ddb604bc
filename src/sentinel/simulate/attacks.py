"""Labelled attacks injected into the office day.

Each kind is one small function `(AttackContext) -> Attack`, registered with `@attack(...)`:

    @attack("beacon", alert_type="c2", max_flows=300, clients=1)
    def beacon(ctx: AttackContext) -> Attack:
        (host,) = ctx.take_clients(1)
        c2 = ctx.new_external()
        ts = ...  # numpy arrays of the rows, drawn from ctx.rng
        return Attack(FlowBatch.make(ts, host, c2, TCP, 443, up, down), hosts=[host], counterparts=[c2],
                      proto="tcp", port=443)

The framework computes the label totals (start, end, flows, bytes) from the returned rows, so
labels always agree with the table. `max_flows` and `clients` bound the rows and the clients a
kind may use; the configuration is checked against them before anything is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sentinel.simulate.addresses import EXFIL_BLOCKS, AddressBook, draw_in_blocks
from sentinel.simulate.flows import (
    HOUR,
    MINUTE,
    PROTOS,
    SECOND,
    TCP,
    FlowBatch,
    groups_laid_end_to_end,
    lognormal_bytes,
    split_total,
)
from sentinel.simulate.office import Places


@dataclass
class Attack:
    flows: FlowBatch
    hosts: list[int]  # address-book indices of the attacking clients
    counterparts: list[int]  # address-book indices of their external peers ([] if none)
    proto: str
    port: int


@dataclass
class AttackContext:
    """What an attack function may use: its own random stream, the office and a few helpers."""

    rng: np.random.Generator
    places: Places
    book: AddressBook
    median_client_upload: int  # bytes: median over clients of their benign upload to the Internet today
    free_clients: list[int] = field(default_factory=list)  # book indices not yet in an attack

    def take_clients(self, k: int) -> list[int]:
        """k distinct random clients that no other attack uses."""
        if k > len(self.free_clients):
            raise AssertionError(f"an attack wants {k} more clients, {len(self.free_clients)} are left")
        chosen = sorted(self.rng.choice(len(self.free_clients), size=k, replace=False).tolist())
        picked = [self.free_clients[i] for i in chosen]
        for i in reversed(chosen):
            del self.free_clients[i]
        return picked

    def new_external(self, blocks: tuple[tuple[str, str], ...] = EXFIL_BLOCKS) -> int:
        """A public address in `blocks` that nothing else in the day talks to; its book index."""
        cidrs = [c for c, _ in blocks]
        while True:  # retries only on the rare collision with an address already in use
            (value,), _ = draw_in_blocks(self.rng, cidrs, np.ones(len(cidrs)), 1)
            if int(value) not in self.book:
                return int(self.book.add([value])[0])


AttackFunction = Callable[[AttackContext], Attack]


@dataclass(frozen=True)
class AttackKind:
    name: str
    alert_type: str  # the alert a correct detector raises for it
    max_flows: int  # most rows it returns
    clients: int  # most clients it takes
    generate: AttackFunction

    def __call__(self, ctx: AttackContext) -> Attack:
        result = self.generate(ctx)
        if len(result.flows) > self.max_flows or len(result.hosts) > self.clients or result.proto not in PROTOS:
            raise AssertionError(
                f"attack {self.name} broke its contract: {len(result.flows)} flows "
                f"(max {self.max_flows}), {len(result.hosts)} hosts (max {self.clients}), "
                f"proto {result.proto!r}"
            )
        return result


ATTACK_KINDS: dict[str, AttackKind] = {}


def attack(name: str, alert_type: str, max_flows: int, clients: int) -> Callable[[AttackFunction], AttackFunction]:
    """Register an attack function under `name`."""

    def register(fn: AttackFunction) -> AttackFunction:
        ATTACK_KINDS[name] = AttackKind(name, alert_type, max_flows, clients, fn)
        return fn

    return register


def acks(rng: np.random.Generator, up: np.ndarray) -> np.ndarray:
    """Download bytes of an upload: TCP acks (~1.5%) plus a little TLS."""
    return (up * 0.015 * rng.lognormal(0.0, 0.2, len(up))).astype(np.int64) + 300


@attack("exfil_bulk", alert_type="exfiltration", max_flows=500, clients=1)
def exfil_bulk(ctx: AttackContext) -> Attack:
    """One client uploads 20-50x the median client's daily upload to one address in 1-2 hours."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    dst = ctx.new_external()
    n = int(rng.integers(50, 501))
    duration = int(rng.integers(60 * MINUTE, 120 * MINUTE + 1))
    start = int(rng.integers(9 * HOUR, 17 * HOUR - duration))
    ts = start + np.sort(rng.integers(0, duration, n))
    up = split_total(rng, int(rng.uniform(20, 50) * ctx.median_client_upload), n, sigma=0.6)
    flows = FlowBatch.make(ts, host, dst, TCP, 443, up, acks(rng, up))
    return Attack(flows, hosts=[host], counterparts=[dst], proto="tcp", port=443)


SLOW_MIN_PERIOD = 3 * MINUTE
SLOW_WINDOW = (8 * HOUR, 18 * HOUR + 30 * MINUTE)


@attack(
    "exfil_slow",
    alert_type="exfiltration",
    max_flows=(SLOW_WINDOW[1] - SLOW_WINDOW[0]) // SLOW_MIN_PERIOD + 1,
    clients=1,
)
def exfil_slow(ctx: AttackContext) -> Attack:
    """Low and slow: 3-6x the median client's daily upload, small flows every few minutes all day."""
    rng = ctx.rng
    (host,) = ctx.take_clients(1)
    dst = ctx.new_external()
    period = int(rng.integers(SLOW_MIN_PERIOD, 8 * MINUTE + 1))
    start = SLOW_WINDOW[0] + int(rng.integers(0, 30 * MINUTE))
    end = SLOW_WINDOW[1] - int(rng.integers(0, 30 * MINUTE))
    n = (end - start) // period + 1
    jitter = rng.integers(-30 * SECOND, 30 * SECOND + 1, n)
    ts = np.clip(start + np.arange(n) * period + jitter, start, end)
    up = split_total(rng, int(rng.uniform(3, 6) * ctx.median_client_upload), n, sigma=0.3)
    flows = FlowBatch.make(ts, host, dst, TCP, 443, up, acks(rng, up))
    return Attack(flows, hosts=[host], counterparts=[dst], proto="tcp", port=443)


P2P_MAX_MEMBERS = 6
P2P_MIN_PERIOD = 5 * MINUTE
P2P_LATEST_WINDOW = (7 * HOUR, 20 * HOUR)  # machines are on from 07:00-08:30 to 18:00-20:00


@attack(
    "p2p",
    alert_type="botnet",
    max_flows=P2P_MAX_MEMBERS
    * (P2P_MAX_MEMBERS - 1)
    * ((P2P_LATEST_WINDOW[1] - P2P_LATEST_WINDOW[0]) // P2P_MIN_PERIOD + 1),
    clients=P2P_MAX_MEMBERS,
)
def p2p(ctx: AttackContext) -> Attack:
    """4-6 clients form a mesh on one high port: each ordered pair connects every 5-20 minutes."""
    rng = ctx.rng
    members = np.array(ctx.take_clients(int(rng.integers(4, P2P_MAX_MEMBERS + 1))))
    port = int(rng.integers(10_000, 60_001))
    start = P2P_LATEST_WINDOW[0] + int(rng.integers(0, 90 * MINUTE))
    end = P2P_LATEST_WINDOW[1] - int(rng.integers(0, 120 * MINUTE))
    src, dst = (m.ravel() for m in np.meshgrid(members, members, indexing="ij"))
    src, dst = src[src != dst], dst[src != dst]
    period = rng.integers(P2P_MIN_PERIOD, 20 * MINUTE + 1, len(src))
    phase = (rng.random(len(src)) * period).astype(np.int64)
    pair, k = groups_laid_end_to_end((end - start - phase) // period + 1)  # k-th connection of a pair
    jitter = rng.integers(-10 * SECOND, 10 * SECOND + 1, len(pair))
    ts = np.clip(start + phase[pair] + k * period[pair] + jitter, start, end)
    up = lognormal_bytes(rng, 1_500, 0.6, len(ts), floor=200)
    down = lognormal_bytes(rng, 1_200, 0.6, len(ts), floor=200)
    flows = FlowBatch.make(ts, src[pair], dst[pair], TCP, port, up, down)
    return Attack(flows, hosts=[int(m) for m in members], counterparts=[], proto="tcp", port=port)


# Attack kinds of other modules register themselves on import (one line each).
from sentinel.simulate import (  # noqa: E402
    attacks_beacon,  # noqa: F401
    attacks_dnslat,  # noqa: F401
)
