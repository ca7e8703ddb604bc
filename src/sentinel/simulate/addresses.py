"""Addresses of the simulated day: the office layout, real public blocks by country, the address book.

Flows carry int32 indices into one address book; the dotted strings are built once per unique
address (vectorised with pyarrow) and expanded with `take`, never formatted per flow.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Real public IPv4 blocks and the country the RIR delegation data (hence `iptocc`) gives them.
# (CIDR, ISO 3166 code, popular): popular blocks are big cloud/CDN/ISP blocks that take the
# top destination ranks. Every block was checked: >= 99% of random addresses map to its country.
PUBLIC_BLOCKS: tuple[tuple[str, str, bool], ...] = (
    ("13.107.0.0/16", "US", True),  # Microsoft
    ("20.0.0.0/11", "US", True),  # Microsoft Azure
    ("52.0.0.0/11", "US", True),  # Amazon AWS
    ("142.250.0.0/15", "US", True),  # Google
    ("172.217.0.0/16", "US", True),  # Google
    ("151.101.0.0/16", "US", True),  # Fastly
    ("104.16.0.0/13", "US", True),  # Cloudflare
    ("157.240.0.0/16", "US", True),  # Meta
    ("23.0.0.0/12", "US", True),  # Akamai
    ("17.0.0.0/8", "US", False),  # Apple
    ("193.136.0.0/15", "PT", True),  # FCCN / RCTS
    ("213.13.0.0/16", "PT", True),  # MEO / SAPO
    ("85.240.0.0/13", "PT", False),
    ("89.152.0.0/14", "PT", False),
    ("148.69.0.0/16", "PT", False),
    ("194.65.0.0/16", "PT", False),
    ("85.17.0.0/16", "NL", True),  # LeaseWeb
    ("95.211.0.0/16", "NL", True),  # LeaseWeb
    ("77.160.0.0/12", "NL", False),
    ("145.100.0.0/15", "NL", False),
    ("217.100.0.0/14", "NL", False),
    ("62.45.0.0/16", "NL", False),
    ("80.58.0.0/16", "ES", False),
    ("88.0.0.0/11", "ES", False),
    ("81.32.0.0/12", "ES", False),
    ("83.32.0.0/11", "ES", False),
    ("86.128.0.0/10", "GB", False),
    ("212.58.224.0/19", "GB", False),  # BBC
    ("81.96.0.0/13", "GB", False),
    ("82.0.0.0/13", "GB", False),
    ("84.128.0.0/10", "DE", False),
    ("91.0.0.0/10", "DE", False),
    ("80.128.0.0/11", "DE", False),
    ("217.0.0.0/13", "DE", False),
    ("86.192.0.0/11", "FR", False),
    ("82.64.0.0/14", "FR", False),
    ("193.252.0.0/16", "FR", False),
    ("86.40.0.0/13", "IE", False),
    ("87.32.0.0/12", "IE", False),
    ("179.96.0.0/12", "BR", False),
    ("186.192.0.0/12", "BR", False),
    ("1.80.0.0/12", "CN", False),
    ("36.96.0.0/11", "CN", False),
    ("116.16.0.0/12", "CN", False),
    ("133.0.0.0/10", "JP", False),
    ("153.128.0.0/9", "JP", False),
    ("5.255.192.0/18", "RU", False),  # Yandex
    ("95.24.0.0/13", "RU", False),
    ("117.192.0.0/10", "IN", False),
    ("59.88.0.0/13", "IN", False),
    ("79.0.0.0/10", "IT", False),
    ("1.120.0.0/13", "AU", False),
    ("101.160.0.0/11", "AU", False),
    ("121.128.0.0/10", "KR", False),
    ("211.32.0.0/11", "KR", False),
    ("78.64.0.0/12", "SE", False),
    ("83.0.0.0/11", "PL", False),
    ("85.0.0.0/13", "CH", False),
    ("1.160.0.0/12", "TW", False),
    ("114.32.0.0/12", "TW", False),
    ("78.160.0.0/11", "TR", False),
    ("181.0.0.0/13", "AR", False),
    ("189.128.0.0/10", "MX", False),
    ("201.96.0.0/11", "MX", False),
    ("41.0.0.0/11", "ZA", False),
    ("70.24.0.0/13", "CA", False),
    ("99.224.0.0/11", "CA", False),
    ("142.112.0.0/12", "CA", False),
    ("118.189.0.0/16", "SG", False),
    ("116.86.0.0/15", "SG", False),
    ("112.118.0.0/15", "HK", False),
    ("113.252.0.0/14", "HK", False),
    ("84.208.0.0/13", "NO", False),
    ("88.192.0.0/14", "FI", False),
    ("41.58.0.0/16", "NG", False),
    ("156.160.0.0/11", "EG", False),
)

# Share of the external address pool per country (split evenly over the country's blocks):
# a Portuguese office talks mostly to US clouds, then home and nearby European networks.
COUNTRY_WEIGHTS: dict[str, float] = {
    "US": 30,
    "PT": 12,
    "ES": 6,
    "GB": 6,
    "DE": 6,
    "FR": 5,
    "NL": 5,
    "IE": 4,
    "BR": 2,
    "IT": 2,
    "CA": 2,
    "CN": 1.5,
    "JP": 1.5,
    "RU": 1,
    "IN": 1.5,
    "AU": 1,
    "KR": 1,
    "SE": 1,
    "PL": 1,
    "CH": 1,
    "TW": 1,
    "TR": 1,
    "AR": 1,
    "MX": 1,
    "SG": 1,
    "HK": 1,
    "ZA": 0.5,
    "NO": 0.7,
    "FI": 0.7,
    "NG": 0.3,
    "EG": 0.3,
}

# Where exfiltration goes: countries an office hardly ever talks to (never among top destinations).
EXFIL_BLOCKS: tuple[tuple[str, str], ...] = (
    ("95.24.0.0/13", "RU"),
    ("178.64.0.0/13", "RU"),
    ("1.80.0.0/12", "CN"),
    ("58.16.0.0/13", "CN"),
    ("175.45.176.0/22", "KP"),
    ("2.176.0.0/12", "IR"),
)

UPDATE_SERVER = "13.107.4.50"  # Microsoft Windows Update delivery
PUBLIC_RESOLVERS = ("8.8.8.8", "8.8.4.4", "1.1.1.1")  # the internal DNS servers' forwarders
PUBLIC_NTP = ("216.239.35.0", "162.159.200.1", "129.6.15.28")  # time.google, time.cloudflare, NIST

# Internal servers, highest address first, taken from the top of the office network.
SERVER_ROLES: tuple[tuple[str, int], ...] = (
    ("dns", 2),
    ("file", 1),
    ("web", 1),
    ("ntp", 1),
    ("backup_nas", 1),
    ("backup_host", 1),
)
SERVER_COUNT = sum(n for _, n in SERVER_ROLES)
RESERVED_LOW = 2  # the network address and the .1 gateway


def ip_int(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def ipv4_strings(ints: np.ndarray) -> pa.StringArray:
    """Dotted strings of IPv4 integers, built column-wise in Arrow (no per-address Python)."""
    a = np.asarray(ints, dtype=np.uint32)
    octets = [pc.cast(pa.array((a >> shift) & 255), pa.string()) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


@dataclass(frozen=True)
class Layout:
    """Where clients and servers sit in the office network."""

    network: ipaddress.IPv4Network
    clients: np.ndarray  # uint32 addresses, low end of the network
    servers: dict[str, np.ndarray]  # role -> uint32 addresses, high end

    @classmethod
    def build(cls, network: ipaddress.IPv4Network, hosts: int) -> Layout:
        base = int(network.network_address)
        clients = np.arange(base + RESERVED_LOW, base + RESERVED_LOW + hosts, dtype=np.uint32)
        top = int(network.broadcast_address) - 1  # never the broadcast address
        servers: dict[str, np.ndarray] = {}
        for role, count in SERVER_ROLES:
            servers[role] = np.arange(top, top - count, -1, dtype=np.uint32)
            top -= count
        return cls(network, clients, servers)

    @staticmethod
    def fits(network: ipaddress.IPv4Network, hosts: int) -> bool:
        return RESERVED_LOW + hosts + SERVER_COUNT + 1 <= network.num_addresses


class AddressBook:
    """Every address of the day, appended in chunks; flows refer to them by index."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, ints: np.ndarray | list[int]) -> np.ndarray:
        """Append addresses; returns their int32 indices."""
        arr = np.asarray(ints, dtype=np.uint32).ravel()
        start = self._size
        self._chunks.append(arr)
        self._size += len(arr)
        return np.arange(start, self._size, dtype=np.int32)

    def ints(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.empty(0, np.uint32)

    def strings(self) -> pa.StringArray:
        return ipv4_strings(self.ints())

    def __contains__(self, value: int) -> bool:
        return any(bool(np.any(chunk == value)) for chunk in self._chunks)


def _blocks(cidrs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    nets = [ipaddress.IPv4Network(c) for c in cidrs]
    base = np.array([int(n.network_address) for n in nets], dtype=np.int64)
    size = np.array([n.num_addresses for n in nets], dtype=np.int64)
    return base, size


def draw_in_blocks(
    rng: np.random.Generator, cidrs: list[str], weights: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n random host addresses in the blocks (block chosen by weight); returns (uint32, block index)."""
    base, size = _blocks(cidrs)
    block = rng.choice(len(cidrs), size=n, p=weights / weights.sum())
    ints = base[block] + rng.integers(0, size[block])
    # Keep clear of .0 and .255, which look like network/broadcast addresses to many tools.
    last = ints & 255
    ints = ints + (last == 0) - (last == 255)
    return ints.astype(np.uint32), block


def _first_unique(values: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each value, in original order."""
    _, first = np.unique(values, return_index=True)
    return np.sort(first)


@dataclass(frozen=True)
class ExternalPool:
    """Public destinations ranked by popularity: rank 0 is the most visited."""

    ints: np.ndarray  # uint32
    countries: np.ndarray  # ISO codes (str), the country each address was drawn from


def external_pool(
    rng: np.random.Generator, n: int, exclude: np.ndarray, network: ipaddress.IPv4Network | None = None
) -> ExternalPool:
    """n distinct public addresses: popular cloud/CDN blocks first, then the long tail by country weight."""
    cidrs = [c for c, _, _ in PUBLIC_BLOCKS]
    ccs = np.array([cc for _, cc, _ in PUBLIC_BLOCKS])
    per_block = np.array([COUNTRY_WEIGHTS[cc] for cc in ccs], dtype=np.float64)
    per_block /= np.array([np.count_nonzero(ccs == cc) for cc in ccs])
    popular = np.array([p for _, _, p in PUBLIC_BLOCKS])
    # The popular blocks fill the top ranks; the tail follows. Later draws only top up the tail
    # when exclusions and duplicates left fewer than n addresses (rare: blocks are large).
    parts = [draw_in_blocks(rng, cidrs, np.where(popular, per_block, 0.0), int(np.clip(n // 100, 20, 2000)))]
    chosen = np.empty(0, np.int64)
    while len(chosen) < n:
        parts.append(draw_in_blocks(rng, cidrs, per_block, n + n // 10))
        ints = np.concatenate([p[0] for p in parts])
        keep = ~np.isin(ints, exclude)
        if network is not None:
            keep &= ~in_network(ints, network)
        chosen = np.flatnonzero(keep)
        chosen = chosen[_first_unique(ints[chosen])]
    chosen = chosen[:n]
    blocks = np.concatenate([p[1] for p in parts])[chosen]
    return ExternalPool(ints[chosen], ccs[blocks])


def in_network(ints: np.ndarray, network: ipaddress.IPv4Network) -> np.ndarray:
    mask = np.uint32(int(network.netmask))
    return (np.asarray(ints, np.uint32) & mask) == np.uint32(int(network.network_address))
