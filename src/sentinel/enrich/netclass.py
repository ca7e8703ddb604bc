"""Address classes as integer range tests: internal (declared), special (not globally routable), public.

Vectorised over numpy arrays so that classifying every distinct address of a day costs milliseconds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

import numpy as np

from sentinel.errors import ConfigError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: RFC 1918 and IPv6 unique local addresses: what an office network uses unless told otherwise.
DEFAULT_INTERNAL = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")

#: IPv4 ranges that are not globally reachable (IANA special-purpose registry, RFC 6890 and successors):
#: a destination here is neither internal nor external — it is broadcast, multicast, reserved, CGN, ...
SPECIAL_IPV4 = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)

INTERNAL, PUBLIC, SPECIAL = "internal", "public", "special"


def parse_cidr(text: str, option: str) -> IPNetwork:
    """Parse one CIDR given by a user; host bits set (192.168.1.7/24) are an error, not a guess."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        raise ConfigError(f"{option}: {text!r} is not a valid network in CIDR notation ({exc})") from exc


def parse_cidrs(text: str | Sequence[str], option: str) -> tuple[IPNetwork, ...]:
    parts = text.split(",") if isinstance(text, str) else list(text)
    nets = tuple(parse_cidr(p, option) for p in parts if p.strip())
    if not nets:
        raise ConfigError(f"{option}: no network given")
    return nets


def covered(network: IPNetwork, nets: Sequence[IPNetwork]) -> bool:
    """Whether `network` lies inside one of `nets`."""
    return any(network.version == n.version and network.subnet_of(n) for n in nets)  # type: ignore[arg-type]


def v4_ranges(nets: Iterable[IPNetwork]) -> np.ndarray:
    """(n, 2) uint64 array of [first, last] integer addresses of the IPv4 networks."""
    rows = [(int(n.network_address), int(n.broadcast_address)) for n in nets if n.version == 4]
    return np.array(rows, dtype=np.uint64).reshape(-1, 2)


def in_ranges(ipv4: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Boolean mask: which addresses fall in any of the ranges (a handful of ranges: a loop over them)."""
    values = ipv4.astype(np.uint64, copy=False)
    mask = np.zeros(values.shape, dtype=bool)
    for first, last in ranges:
        mask |= (values >= first) & (values <= last)
    return mask


_SPECIAL_V4 = v4_ranges(ipaddress.ip_network(n) for n in SPECIAL_IPV4)


def classify_v4(ipv4: np.ndarray, internal: Sequence[IPNetwork]) -> np.ndarray:
    """Class of each IPv4 address: internal wins over special (a declared 10/8 office is internal)."""
    out = np.full(ipv4.shape, PUBLIC, dtype=object)
    out[in_ranges(ipv4, _SPECIAL_V4)] = SPECIAL
    out[in_ranges(ipv4, v4_ranges(internal))] = INTERNAL
    return out


def classify_one(address: ipaddress.IPv4Address | ipaddress.IPv6Address, internal: Sequence[IPNetwork]) -> str:
    """The same rule for a single address (IPv6 goes through here; it is rare in course data)."""
    if address.version == 4:
        return str(classify_v4(np.array([int(address)], dtype=np.uint32), internal)[0])
    if any(n.version == 6 and address in n for n in internal):
        return INTERNAL
    # Python counts multicast as global; for traffic it is neither internal nor an external peer.
    return PUBLIC if address.is_global and not address.is_multicast else SPECIAL


def subnet_of(address: str, prefix_v4: int = 24, prefix_v6: int = 64) -> str:
    """The /24 (or /64) an address belongs to: how "every internal subnet found" groups hosts."""
    ip = ipaddress.ip_address(address)
    prefix = prefix_v4 if ip.version == 4 else prefix_v6
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
