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
