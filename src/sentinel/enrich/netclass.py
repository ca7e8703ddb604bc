"""Address classes as integer range tests: internal (declared), special (not globally routable), public.

Vectorised over numpy arrays so that classifying every distinct address of a day costs milliseconds.
"""

from __future__ import annotations

import ipaddress
import socket
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

#: IPv6 (IANA IPv6 special-purpose registry, "globally reachable: False", and RFC 9637 documentation):
#: everything outside 2000::/3 is special too (loopback, unspecified, discard 100::/64, ULA, link-local,
#: multicast, NAT64 local-use 64:ff9b:1::/48, SRv6 5f00::/16, unallocated space), except the two
#: prefixes that embed an IPv4 address (EMBEDS_IPV4), which are classified as that address.
GLOBAL_UNICAST_V6 = "2000::/3"
SPECIAL_IPV6 = ("2001::/23", "2001:db8::/32", "3fff::/20")
#: Blocks inside 2001::/23 that the registry marks globally reachable (anycast services, AMT, AS112, ORCHIDv2,
#: drone remote ID).
GLOBAL_IPV6_EXCEPTIONS = (
    "2001:1::1/128",
    "2001:1::2/128",
    "2001:1::3/128",
    "2001:3::/32",
    "2001:4:112::/48",
    "2001:20::/28",
    "2001:30::/28",
)
#: IPv4-mapped (a dual-stack socket's view of an IPv4 peer) and the NAT64 well-known prefix (RFC 6052):
#: the host behind them is the IPv4 address in the low 32 bits.
MAPPED_V6, NAT64_V6 = "::ffff:0:0/96", "64:ff9b::/96"

INTERNAL, PUBLIC, SPECIAL = "internal", "public", "special"

#: The finer address classes reports show (`address_class`): `special` split by what the range is for.
PRIVATE, LOOPBACK, LINK_LOCAL, MULTICAST, BROADCAST, RESERVED = (
    "private",
    "loopback",
    "link-local",
    "multicast",
    "broadcast",
    "reserved",
)
ADDRESS_CLASSES = (INTERNAL, PRIVATE, LOOPBACK, LINK_LOCAL, MULTICAST, BROADCAST, RESERVED, PUBLIC)
#: Which special IPv4 ranges are which (the rest of SPECIAL_IPV4 is reserved: bogons, documentation, ...).
SPECIAL_KINDS_V4 = (
    (BROADCAST, ("255.255.255.255/32",)),
    (LOOPBACK, ("127.0.0.0/8",)),
    (LINK_LOCAL, ("169.254.0.0/16",)),
    (MULTICAST, ("224.0.0.0/4",)),
    (PRIVATE, ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")),
)
SPECIAL_KINDS_V6 = (
    (LOOPBACK, ("::1/128",)),
    (LINK_LOCAL, ("fe80::/10",)),
    (MULTICAST, ("ff00::/8",)),
    (PRIVATE, ("fc00::/7",)),
)


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


_LOW64 = (1 << 64) - 1
_SPECIAL_V4 = v4_ranges(ipaddress.ip_network(n) for n in SPECIAL_IPV4)


def classify_v4(ipv4: np.ndarray, internal: Sequence[IPNetwork]) -> np.ndarray:
    """Class of each IPv4 address: internal wins over special (a declared 10/8 office is internal)."""
    out = np.full(ipv4.shape, PUBLIC, dtype=object)
    out[in_ranges(ipv4, _SPECIAL_V4)] = SPECIAL
    out[in_ranges(ipv4, v4_ranges(internal))] = INTERNAL
    return out


def v6_prefixes(nets: Iterable[IPNetwork]) -> np.ndarray:
    """(n, 4) uint64 array of [hi, lo, mask_hi, mask_lo] of the IPv6 networks (128 bits as two halves)."""
    rows = []
    for n in nets:
        if n.version == 6:
            value, mask = int(n.network_address), int(n.netmask)
            rows.append((value >> 64, value & _LOW64, mask >> 64, mask & _LOW64))
    return np.array(rows, dtype=np.uint64).reshape(-1, 4)


def in_networks_v6(hi: np.ndarray, lo: np.ndarray, prefixes: np.ndarray) -> np.ndarray:
    """Boolean mask: which (hi, lo) addresses fall in any of the prefixes (a loop over the few prefixes)."""
    mask = np.zeros(hi.shape, dtype=bool)
    for net_hi, net_lo, mask_hi, mask_lo in prefixes:
        mask |= ((hi & mask_hi) == net_hi) & ((lo & mask_lo) == net_lo)
    return mask


_GLOBAL_V6 = v6_prefixes([ipaddress.ip_network(GLOBAL_UNICAST_V6)])
_SPECIAL_V6 = v6_prefixes(ipaddress.ip_network(n) for n in SPECIAL_IPV6)
_GLOBAL_V6_EXCEPTIONS = v6_prefixes(ipaddress.ip_network(n) for n in GLOBAL_IPV6_EXCEPTIONS)
_MAPPED = v6_prefixes([ipaddress.ip_network(MAPPED_V6)])
_NAT64 = v6_prefixes([ipaddress.ip_network(NAT64_V6)])


def embedded_v4(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mapped, nat64, ipv4): masks of ::ffff:0:0/96 and 64:ff9b::/96 addresses, and their low 32 bits."""
    mapped = in_networks_v6(hi, lo, _MAPPED)
    nat64 = in_networks_v6(hi, lo, _NAT64)
    return mapped, nat64, (lo & np.uint64(0xFFFF_FFFF)).astype(np.uint32)


def classify_v6(hi: np.ndarray, lo: np.ndarray, internal: Sequence[IPNetwork]) -> np.ndarray:
    """Class of each IPv6 address given as uint64 halves; declared internal networks win, as for IPv4."""
    hi, lo = hi.astype(np.uint64, copy=False), lo.astype(np.uint64, copy=False)
    out = np.full(hi.shape, PUBLIC, dtype=object)
    special = ~in_networks_v6(hi, lo, _GLOBAL_V6) | in_networks_v6(hi, lo, _SPECIAL_V6)
    out[special & ~in_networks_v6(hi, lo, _GLOBAL_V6_EXCEPTIONS)] = SPECIAL
    mapped, nat64, ipv4 = embedded_v4(hi, lo)
    out[mapped] = classify_v4(ipv4[mapped], internal)
    # A NAT64 address reaches the IPv4 internet; one embedding a non-global IPv4 is bogus (RFC 6052 3.1).
    out[nat64] = classify_v4(ipv4[nat64], ())
    out[in_networks_v6(hi, lo, v6_prefixes(internal))] = INTERNAL
    return out


_KINDS_V4 = [(kind, v4_ranges(ipaddress.ip_network(n) for n in nets)) for kind, nets in SPECIAL_KINDS_V4]
_KINDS_V6 = [(kind, v6_prefixes(ipaddress.ip_network(n) for n in nets)) for kind, nets in SPECIAL_KINDS_V6]


def _refine_v4(ipv4: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    out = coarse.copy()
    special = coarse == SPECIAL
    out[special] = RESERVED
    for kind, ranges in reversed(_KINDS_V4):  # the first listed wins: broadcast before multicast's 240/4
        out[special & in_ranges(ipv4, ranges)] = kind
    return out


def address_classes_v4(ipv4: np.ndarray, internal: Sequence[IPNetwork], coarse: np.ndarray | None = None) -> np.ndarray:
    """Fine class of each IPv4 address (ADDRESS_CLASSES): internal, public, or what a special range is for.

    `coarse`: `classify_v4` of the same addresses where the caller has it already (not computed twice)."""
    return _refine_v4(ipv4, classify_v4(ipv4, internal) if coarse is None else coarse)


def address_classes_v6(hi: np.ndarray, lo: np.ndarray, internal: Sequence[IPNetwork]) -> np.ndarray:
    """The same for IPv6 (IPv4-mapped addresses take the class of the IPv4 address inside)."""
    hi, lo = hi.astype(np.uint64, copy=False), lo.astype(np.uint64, copy=False)
    coarse = classify_v6(hi, lo, internal)
    out = coarse.copy()
    special = coarse == SPECIAL
    out[special] = RESERVED
    for kind, prefixes in reversed(_KINDS_V6):
        out[special & in_networks_v6(hi, lo, prefixes)] = kind
    mapped, _, ipv4 = embedded_v4(hi, lo)
    inner = mapped & special  # NAT64 of a non-global IPv4 address stays reserved (bogus, RFC 6052 3.1)
    if inner.any():
        out[inner] = _refine_v4(ipv4[inner], coarse[inner])
    return out


def address_class_one(address: ipaddress.IPv4Address | ipaddress.IPv6Address, internal: Sequence[IPNetwork]) -> str:
    """The fine class of a single address."""
    if address.version == 4:
        return str(address_classes_v4(np.array([int(address)], dtype=np.uint32), internal)[0])
    value = int(address)
    hi, lo = np.array([value >> 64], np.uint64), np.array([value & _LOW64], np.uint64)
    return str(address_classes_v6(hi, lo, internal)[0])


def classify_one(address: ipaddress.IPv4Address | ipaddress.IPv6Address, internal: Sequence[IPNetwork]) -> str:
    """The same rule for a single address."""
    if address.version == 4:
        return str(classify_v4(np.array([int(address)], dtype=np.uint32), internal)[0])
    value = int(address)
    hi, lo = np.array([value >> 64], np.uint64), np.array([value & _LOW64], np.uint64)
    return str(classify_v6(hi, lo, internal)[0])


def ipv4_int(text: str) -> int | None:
    """The value of a dotted-quad IPv4 address, None for anything else: ten times faster than ipaddress for
    the common case (the C library's strict parser: four decimal octets, no leading zeros)."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError, TypeError):
        return None


def ipv4_text(value: int) -> str:
    return socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))


def ip_sort_key(text: str) -> tuple[int, int, str]:
    """Order of addresses in outputs: IPv4 before IPv6, then by numeric value (text breaks ties between
    spellings); the same in every process, unlike hash(). Text that is not an address sorts first."""
    v4 = ipv4_int(text)
    if v4 is not None:
        return (4, v4, text)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return (0, 0, text)
    return (address.version, int(address), text)


def subnet_of(address: str, prefix_v4: int = 24, prefix_v6: int = 64) -> str:
    """The /24 (or /64) an address belongs to: how "every internal subnet found" groups hosts."""
    ip = ipaddress.ip_address(address)
    prefix = prefix_v4 if ip.version == 4 else prefix_v6
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
