import ipaddress

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.enrich import netclass
from sentinel.errors import ConfigError

INTERNAL = netclass.parse_cidrs(netclass.DEFAULT_INTERNAL, "--internal")


@settings(max_examples=300)
@given(st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=50))
def test_vectorised_classes_agree_with_python_ipaddress(values):
    """The range table says what Python's ipaddress says: global unicast is public, the rest special."""
    got = netclass.classify_v4(np.array(values, dtype=np.uint32), INTERNAL)
    for value, klass in zip(values, got, strict=True):
        address = ipaddress.IPv4Address(value)
        if any(address in n for n in INTERNAL if n.version == 4):
            assert klass == "internal"
        else:
            expected = "public" if address.is_global and not address.is_multicast else "special"
            assert klass == expected, address


@pytest.mark.parametrize(
    ("ip", "klass"),
    [
        ("192.168.1.1", "internal"),
        ("8.8.8.8", "public"),
        ("224.0.0.251", "special"),
        ("100.64.1.1", "special"),
        ("255.255.255.255", "special"),
        ("fd00::1", "internal"),
        ("2001:4860::8888", "public"),
        ("fe80::1", "special"),
        ("::1", "special"),
        ("::", "special"),
        ("ff02::1", "special"),
        ("2001:db8::1", "special"),
        ("3fff::1", "special"),
        ("100::1", "special"),
        ("2001::1", "special"),  # Teredo, inside the IETF protocol block
        ("2001:1::1", "public"),  # PCP anycast: an exception the registry marks globally reachable
        ("4000::1", "special"),  # unallocated: outside 2000::/3
        ("::ffff:8.8.8.8", "public"),  # IPv4-mapped: the class of the IPv4 address
        ("::ffff:192.168.1.1", "internal"),
        ("::ffff:127.0.0.1", "special"),
        ("64:ff9b::808:808", "public"),  # NAT64 of 8.8.8.8
        ("64:ff9b::c0a8:101", "special"),  # NAT64 of a private address: bogus
        ("2002::1", "public"),  # 6to4
    ],
)
def test_known_classes(ip, klass):
    assert netclass.classify_one(ipaddress.ip_address(ip), INTERNAL) == klass


def test_declared_public_network_is_internal():
    nets = netclass.parse_cidrs("64.225.56.201/32", "--internal")
    assert (
        netclass.classify_v4(np.array([int(ipaddress.IPv4Address("64.225.56.201"))], np.uint32), nets)[0] == "internal"
    )


@pytest.mark.parametrize("text", ["192.168.1.7/24", "300.0.0.0/8", "banana", ""])
def test_bad_cidr_is_a_config_error_naming_the_option(text):
    with pytest.raises(ConfigError, match="-bn"):
        netclass.parse_cidrs(text, "-bn")


# The IANA IPv6 special-purpose registry written out independently of the module's tables: (network, class
# of its addresses when not declared internal); the most specific network that contains an address wins.
IANA_V6 = [
    ("::/0", "special"),  # outside 2000::/3: reserved, unallocated, loopback, ULA, link-local, multicast...
    ("2000::/3", "public"),
    ("2001::/23", "special"),
    ("2001:1::1/128", "public"),
    ("2001:1::2/128", "public"),
    ("2001:1::3/128", "public"),
    ("2001:3::/32", "public"),
    ("2001:4:112::/48", "public"),
    ("2001:20::/28", "public"),
    ("2001:30::/28", "public"),
    ("2001:db8::/32", "special"),
    ("3fff::/20", "special"),
]


def reference_v6(address: ipaddress.IPv6Address, internal) -> str:
    if any(n.version == 6 and address in n for n in internal):
        return "internal"
    mapped = address.ipv4_mapped
    if mapped is not None:
        return netclass.classify_one(mapped, internal)
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return netclass.classify_one(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), ())
    best = max(
        (ipaddress.ip_network(n) for n, _ in IANA_V6 if address in ipaddress.ip_network(n)), key=lambda n: n.prefixlen
    )
    return dict(IANA_V6)[str(best)]


_PREFIXES = [ipaddress.ip_network(n) for n, _ in IANA_V6] + [
    ipaddress.ip_network(n) for n in ("fc00::/7", "fe80::/10", "ff00::/8", "::ffff:0:0/96", "64:ff9b::/96", "::/120")
]


@st.composite
def ipv6_values(draw) -> int:
    """128-bit values, most of them inside (or at the edges of) the prefixes that matter."""
    if draw(st.booleans()):
        return draw(st.integers(min_value=0, max_value=2**128 - 1))
    net = draw(st.sampled_from(_PREFIXES))
    host_bits = 128 - net.prefixlen
    host = draw(st.one_of(st.integers(0, 2**host_bits - 1), st.sampled_from([0, 2**host_bits - 1])))
    return int(net.network_address) + host


@settings(max_examples=300)
@given(st.lists(ipv6_values(), min_size=1, max_size=50), st.booleans())
def test_vectorised_ipv6_classes_agree_with_the_registry(values, with_ula):
    internal = INTERNAL if with_ula else netclass.parse_cidrs("10.0.0.0/8,2a01:4f8::/32", "--internal")
    hi = np.array([v >> 64 for v in values], dtype=np.uint64)
    lo = np.array([v & (2**64 - 1) for v in values], dtype=np.uint64)
    got = netclass.classify_v6(hi, lo, internal)
    for value, klass in zip(values, got, strict=True):
        address = ipaddress.IPv6Address(value)
        assert klass == reference_v6(address, internal), address


def test_ula_is_special_unless_declared_internal():
    v4_only = netclass.parse_cidrs("10.0.0.0/8", "--internal")
    assert netclass.classify_one(ipaddress.ip_address("fd00:104::1"), v4_only) == "special"
    declared = netclass.parse_cidrs("10.0.0.0/8,fd00:104::/64", "--internal")
    assert netclass.classify_one(ipaddress.ip_address("fd00:104::1"), declared) == "internal"
    assert netclass.classify_one(ipaddress.ip_address("fd00:105::1"), declared) == "special"


def test_a_declared_long_ipv6_prefix_is_matched_in_the_low_half():
    nets = netclass.parse_cidrs("2a01:4f8::1:0/112", "--internal")
    assert netclass.classify_one(ipaddress.ip_address("2a01:4f8::1:ffff"), nets) == "internal"
    assert netclass.classify_one(ipaddress.ip_address("2a01:4f8::2:0"), nets) == "public"


def test_sort_key_orders_by_version_then_numeric_value():
    ips = ["fd00::10", "10.0.0.10", "fd00::9", "10.0.0.9", "FD00::9", "2001:4860::1", "9.9.9.9"]
    assert sorted(ips, key=netclass.ip_sort_key) == [
        "9.9.9.9",
        "10.0.0.9",
        "10.0.0.10",
        "2001:4860::1",
        "FD00::9",
        "fd00::9",
        "fd00::10",
    ]


def test_sort_key_does_not_depend_on_the_process():
    assert netclass.ip_sort_key("fd00::1") == (6, 0xFD00 << 112 | 1, "fd00::1")
    assert netclass.ip_sort_key("not an address") == (0, 0, "not an address")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.1.1.1", "internal"),
        ("8.8.8.8", "public"),
        ("127.0.0.1", "loopback"),
        ("169.254.1.1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "reserved"),
        ("192.0.2.5", "reserved"),
        ("100.64.1.1", "private"),
        ("::1", "loopback"),
        ("::", "reserved"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("fd00::1", "internal"),
        ("2001:db8::1", "reserved"),
        ("2a00::1", "public"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:8.8.8.8", "public"),
        ("64:ff9b::808:808", "public"),
        ("64:ff9b::a00:1", "reserved"),  # NAT64 of a private address: bogus
    ],
)
def test_address_classes(text, expected):
    internal = netclass.parse_cidrs("10.0.0.0/8,fd00::/8", "--internal")
    assert netclass.address_class_one(ipaddress.ip_address(text), internal) == expected


def test_address_classes_agree_with_the_coarse_class():
    internal = netclass.parse_cidrs(netclass.DEFAULT_INTERNAL, "--internal")
    values = np.array(
        [0, 0x7F000001, 0xA9FE0101, 0xE00000FB, 0xFFFFFFFF, 0x0A000001, 0x08080808, 0xC0A80101], np.uint32
    )
    coarse = netclass.classify_v4(values, internal)
    fine = netclass.address_classes_v4(values, internal)
    for c, f in zip(coarse, fine, strict=True):
        assert (c, f) in {("internal", "internal"), ("public", "public")} or (
            c == "special" and f not in ("internal", "public")
        )
    assert set(fine) <= set(netclass.ADDRESS_CLASSES)


def test_address_classes_v4_from_a_given_coarse_class_are_the_same():
    ipv4 = np.array([int(ipaddress.ip_address(a)) for a in ["10.1.2.3", "8.8.8.8", "224.0.0.1", "0.0.0.0"]], np.uint32)
    coarse = netclass.classify_v4(ipv4, INTERNAL)
    assert netclass.address_classes_v4(ipv4, INTERNAL, coarse=coarse).tolist() == (
        netclass.address_classes_v4(ipv4, INTERNAL).tolist()
    )
