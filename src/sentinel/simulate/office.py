"""The benign office day: ordinary client traffic, server traffic and the periodic streams.

Everything is drawn column-wise with numpy: Python loops run over a handful of services at most,
never over flows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from sentinel.simulate.flows import (
    DAY,
    HOUR,
    MINUTE,
    NTP_PERIOD_S,
    SECOND,
    TCP,
    UDP,
    FlowBatch,
    groups_laid_end_to_end,
    lognormal_bytes,
    split_total,
)
from sentinel.simulate.sampling import weighted, zipf_ranks

# Relative flow volume per hour of the day: quiet night, ramp-up 7-9 h, plateau 10-16 h with a
# lunch dip, falling evening.
HOURLY_PROFILE = np.array(
    [
        0.5,
        0.4,
        0.35,
        0.35,
        0.35,
        0.45,
        0.9,
        2.5,
        6.0,
        9.0,
        10.0,
        10.0,
        8.0,
        8.5,
        10.0,
        10.0,
        9.0,
        7.0,
        4.0,
        2.5,
        1.8,
        1.3,
        0.9,
        0.7,
    ]
)

EXTERNAL_SHARE = 0.55  # of the non-periodic flows: client traffic to the Internet
MIN_INTERNAL_SHARE = 0.10  # of all flows, left for internal traffic once attacks are taken out

# Client traffic to the Internet: (proto, port, share of flows, median down bytes, sigma).
EXTERNAL_SERVICES: tuple[tuple[int, int, float, float, float], ...] = (
    (TCP, 443, 0.800, 12_000, 1.7),  # HTTPS
    (TCP, 80, 0.075, 8_000, 1.5),  # HTTP
    (UDP, 443, 0.090, 40_000, 1.9),  # QUIC (video, Google, Meta)
    (TCP, 993, 0.008, 6_000, 1.2),  # IMAPS
    (TCP, 587, 0.004, 3_000, 1.0),  # mail submission
    (TCP, 22, 0.003, 5_000, 1.5),  # SSH
    (TCP, 8080, 0.006, 8_000, 1.5),  # alternative HTTP
    (UDP, 3478, 0.006, 30_000, 2.0),  # STUN/TURN of video calls
    (TCP, 5228, 0.004, 2_000, 1.0),  # Google push
    (UDP, 4500, 0.004, 20_000, 1.8),  # IPsec NAT-T (VPN)
)

# Internal traffic categories and their shares of the internal flows.
INTERNAL_SHARES: dict[str, float] = {
    "dns": 0.62,
    "forward": 0.06,
    "file": 0.14,
    "web443": 0.12,
    "web80": 0.03,
    "ntp": 0.03,
}

UPDATES_PER_DAY = 24  # hourly update check per client
NTP_PERIOD = NTP_PERIOD_S * SECOND
NTP_PER_SERVER_MAX = -(-DAY // NTP_PERIOD)
LOGIN_SERVICES = 4  # each client's morning: both DNS servers, the file server, the web server
BACKUP_PORT = 873  # rsync


def backup_flows_max(flows: int) -> int:
    """Upper bound of the nightly backup's flow count: hundreds on a full-size day, fewer on tiny ones."""
    return int(np.clip(flows // 2500, 40, 400))


def periodic_flows_max(hosts: int, flows: int, ntp_servers: int) -> int:
    return hosts * UPDATES_PER_DAY + ntp_servers * NTP_PER_SERVER_MAX + backup_flows_max(flows)


@dataclass(frozen=True)
class Places:
    """Address-book indices of everything the office talks to."""

    clients: np.ndarray
    servers: dict[str, np.ndarray]
    update: int
    resolvers: np.ndarray
    public_ntp: np.ndarray
    pool: np.ndarray  # destinations by popularity rank
    first_external: int  # indices >= this are public addresses

    def server(self, role: str) -> int:
        return int(self.servers[role][0])


@dataclass(frozen=True)
class Hosts:
    """Per-client behaviour, fixed for the day."""

    weight: np.ndarray  # probability a client flow comes from this client (lognormal activity)
    ratio: np.ndarray  # download/upload ratio of its traffic
    shift: np.ndarray  # centiseconds its working day runs early (-) or late (+)
    update_offset: np.ndarray  # centiseconds past each hour of its update check

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int) -> Hosts:
        activity = rng.lognormal(0.0, 1.0, n)
        return cls(
            weight=activity / activity.sum(),
            ratio=rng.lognormal(np.log(10.0), 0.55, n),  # ~4:1 to ~25:1 for most hosts
            shift=np.rint(rng.normal(0.0, 25 * MINUTE, n)).astype(np.int64),
            update_offset=rng.integers(0, 60, n) * MINUTE + rng.integers(10, 50, n) * SECOND,
        )


@cache
def _minute_shares() -> np.ndarray:
    minutes = np.arange(24 * 60)
    weight = np.interp(minutes / 60.0, np.arange(24) + 0.5, HOURLY_PROFILE, period=24)
    return weight / weight.sum()


def diurnal_times(rng: np.random.Generator, n: int) -> np.ndarray:
    """n timestamps following HOURLY_PROFILE (interpolated per minute), in minute order.

    The other columns of a flow are drawn independently of its time, so handing out the times
    minute by minute changes no distribution, and the final sort then mostly merges near-sorted
    runs: its gathers stay cache-local.
    """
    minute = np.repeat(np.arange(24 * 60), rng.multinomial(n, _minute_shares()))
    return minute * MINUTE + rng.integers(0, MINUTE, n)


def client_times(rng: np.random.Generator, hosts: Hosts, src: np.ndarray) -> np.ndarray:
    return (diurnal_times(rng, len(src)) + np.take(hosts.shift, src)) % DAY


def pick_clients(rng: np.random.Generator, hosts: Hosts, n: int) -> np.ndarray:
    """Client numbers (0..hosts-1) of n flows, weighted by each client's activity."""
    return weighted(rng, hosts.weight, n)


def upload_for(rng: np.random.Generator, down: np.ndarray, ratio: np.ndarray, floor: int) -> np.ndarray:
    """Upload bytes of flows from their download bytes and the host's ratio, with some noise."""
    # Noise with mean 1, so a host's byte-weighted down/up stays at its ratio.
    up = down / ratio * rng.lognormal(-0.18, 0.6, len(down))
    return np.maximum(up, floor).astype(np.int64)


def external_traffic(rng: np.random.Generator, n: int, places: Places, hosts: Hosts) -> FlowBatch:
    """Client flows to the Internet: Zipf destinations, mostly HTTPS, heavy-tailed bytes."""
    src = pick_clients(rng, hosts, n)
    ts = client_times(rng, hosts, src)
    dst = np.take(places.pool, zipf_ranks(rng, len(places.pool), n))
    proto, port, share, median, sigma = (np.array(c) for c in zip(*EXTERNAL_SERVICES, strict=True))
    service = weighted(rng, share, n)
    down = lognormal_bytes(rng, np.take(median, service), np.take(sigma, service), n, floor=120)
    up = upload_for(rng, down, np.take(hosts.ratio, src), floor=200)
    return FlowBatch.make(
        ts, np.take(places.clients, src), dst, np.take(proto, service), np.take(port, service), up, down
    )


def _client_service(
    rng: np.random.Generator,
    n: int,
    places: Places,
    hosts: Hosts,
    dst: int,
    proto: int,
    port: int,
    down_median: float,
    down_sigma: float,
    ratio_scale: float,
) -> FlowBatch:
    """Clients to one office server; ratio_scale < 1 means more upload than their Internet traffic."""
    src = pick_clients(rng, hosts, n)
    down = lognormal_bytes(rng, down_median, down_sigma, n, floor=120)
    up = upload_for(rng, down, np.take(hosts.ratio, src) * ratio_scale, floor=150)
    ts = client_times(rng, hosts, src)
    return FlowBatch.make(ts, np.take(places.clients, src), dst, proto, port, up, down)


def _dns_queries(rng: np.random.Generator, src: np.ndarray, dst: np.ndarray, ts: np.ndarray) -> FlowBatch:
    n = len(ts)
    up = lognormal_bytes(rng, 75, 0.2, n, floor=60)
    down = lognormal_bytes(rng, 180, 0.5, n, floor=80)
    return FlowBatch.make(ts, src, dst, UDP, 53, up, down)


def internal_traffic(rng: np.random.Generator, n: int, places: Places, hosts: Hosts) -> list[FlowBatch]:
    """Clients to the office servers, and the DNS servers forwarding to public resolvers."""
    shares = np.array(list(INTERNAL_SHARES.values()))
    counts = dict(zip(INTERNAL_SHARES, (shares * n).astype(np.int64), strict=True))
    counts["dns"] += n - sum(counts.values())
    dns = places.servers["dns"]

    src = pick_clients(rng, hosts, counts["dns"])
    primary = rng.random(len(src)) < 0.7  # clients prefer the first DNS server
    queries = _dns_queries(
        rng, np.take(places.clients, src), np.where(primary, dns[0], dns[-1]), client_times(rng, hosts, src)
    )
    k = counts["forward"]  # cache misses, forwarded out
    forwards = _dns_queries(rng, rng.choice(dns, k), rng.choice(places.resolvers, k), diurnal_times(rng, k))
    k = counts["ntp"]
    src = pick_clients(rng, hosts, k)
    ntp = FlowBatch.make(
        client_times(rng, hosts, src), np.take(places.clients, src), places.server("ntp"), UDP, 123, 76, 76
    )
    file, web = places.server("file"), places.server("web")
    return [
        queries,
        forwards,
        ntp,
        _client_service(rng, counts["file"], places, hosts, file, TCP, 445, 30_000, 1.8, 0.5),
        _client_service(rng, counts["web443"], places, hosts, web, TCP, 443, 30_000, 1.4, 1.0),
        _client_service(rng, counts["web80"], places, hosts, web, TCP, 80, 10_000, 1.2, 1.0),
    ]


def login_traffic(rng: np.random.Generator, places: Places, hosts: Hosts) -> FlowBatch:
    """Each client's first contact of the day with both DNS servers, the file and the web server."""
    n = len(places.clients)
    start = 8 * HOUR + hosts.shift + rng.integers(0, 20 * MINUTE, n)
    dns = places.servers["dns"]
    services = (
        (dns[0], UDP, 53, 75, 180),
        (dns[-1], UDP, 53, 75, 180),
        (places.server("file"), TCP, 445, 20_000, 150_000),
        (places.server("web"), TCP, 443, 2_000, 40_000),
    )
    batches = []
    for step, (dst, proto, port, up, down) in enumerate(services):
        ts = start + step * SECOND + rng.integers(0, SECOND, n)
        batches.append(FlowBatch.make(ts, places.clients, dst, proto, port, up, down))
    return FlowBatch.concat(batches)


def update_checks(rng: np.random.Generator, places: Places, hosts: Hosts) -> FlowBatch:
    """Hourly update check of every client, at its own minute offset with a few seconds of jitter."""
    n = len(places.clients)
    hour = np.repeat(np.arange(UPDATES_PER_DAY, dtype=np.int64), n)
    client = np.tile(np.arange(n), UPDATES_PER_DAY)
    jitter = np.rint(rng.normal(0.0, 2 * SECOND, len(hour))).astype(np.int64)
    ts = hour * HOUR + hosts.update_offset[client] + np.clip(jitter, -5 * SECOND, 5 * SECOND)
    up = lognormal_bytes(rng, 1_800, 0.15, len(ts))
    down = lognormal_bytes(rng, 5_500, 0.3, len(ts))
    return FlowBatch.make(ts, places.clients[client], places.update, TCP, 443, up, down)


def ntp_sync(rng: np.random.Generator, places: Places) -> FlowBatch:
    """The NTP server polls each public NTP server every 1024 s from its own phase."""
    phase = rng.integers(0, NTP_PERIOD, len(places.public_ntp))
    server, k = groups_laid_end_to_end(-(-(DAY - phase) // NTP_PERIOD))
    ts = phase[server] + k * NTP_PERIOD
    return FlowBatch.make(ts, places.server("ntp"), places.public_ntp[server], UDP, 123, 76, 76)


def nightly_backup(rng: np.random.Generator, places: Places, flows: int) -> FlowBatch:
    """The backup host pushes several GB to the NAS between 01:00 and 03:00 (internal, benign)."""
    top = backup_flows_max(flows)
    n = top - int(rng.integers(0, top // 5 + 1))
    start = HOUR + int(rng.integers(0, 10 * MINUTE))
    duration = int(rng.integers(80 * MINUTE, 110 * MINUTE))  # done by 03:00
    ts = start + np.sort(rng.integers(0, duration, n))
    ts[0] = start
    up = split_total(rng, int(rng.integers(3_000_000_000, 8_000_000_000)), n, sigma=1.0)
    down = up // 200 + lognormal_bytes(rng, 400, 0.3, n)  # rsync checksums and acks
    host, nas = places.server("backup_host"), places.server("backup_nas")
    return FlowBatch.make(ts, host, nas, TCP, BACKUP_PORT, up, down)
