"""The embedded default country provider (iptocc), and how open_country_db / open_org_db choose a provider."""

from __future__ import annotations

import socket
import struct
from importlib import metadata

import iptocc
import numpy as np
import pytest

from sentinel.enrich.geo import CountryProvider, as_ipv4_array, open_country_db, open_org_db
from sentinel.enrich.geoip_default import EmbeddedCountryDB, dotted


def ip_int(addr: str) -> int:
    return int(struct.unpack("!I", socket.inet_aton(addr))[0])


def batch(*addrs: str) -> np.ndarray:
    return np.array([ip_int(a) for a in addrs], dtype=np.uint32)


@pytest.fixture(scope="module")
def db() -> CountryProvider:
    return open_country_db(None)


def test_none_opens_the_embedded_default(db: CountryProvider) -> None:
    assert isinstance(db, EmbeddedCountryDB)
    assert isinstance(db, CountryProvider)
    assert db.source == f"embedded default (iptocc {metadata.version('iptocc')}, RIR delegation data)"


def test_known_addresses(db: CountryProvider) -> None:
    assert db.countries(batch("8.8.8.8", "192.168.1.1", "10.0.0.1", "0.0.0.0", "255.255.255.255")) == [
        "US",
        None,
        None,
        None,
        None,
    ]


def test_batch_equals_per_address(db: CountryProvider) -> None:
    rng = np.random.default_rng(5)
    ips = np.concatenate((batch("8.8.8.8", "1.1.1.1", "127.0.0.1"), rng.integers(0, 2**32, 5_000, np.uint64)))
    ips = ips.astype(np.uint32)
    expected = [iptocc.country_code(socket.inet_ntoa(struct.pack("!I", i))) for i in ips.tolist()]
    assert db.countries(ips) == expected


def test_empty_batch(db: CountryProvider) -> None:
    assert db.countries(np.array([], dtype=np.uint32)) == []


def test_dotted_matches_inet_ntoa() -> None:
    rng = np.random.default_rng(6)
    ips = np.concatenate(([0, 1, 255, 256, 2**32 - 1], rng.integers(0, 2**32, 10_000, np.uint64))).astype(np.uint32)
    assert dotted(ips) == [socket.inet_ntoa(struct.pack("!I", i)) for i in ips.tolist()]


def test_no_org_default() -> None:
    assert open_org_db(None) is None


def test_ipv4_array_checks() -> None:
    assert as_ipv4_array(np.array([1, 2], dtype=np.int64)).dtype == np.uint32
    assert as_ipv4_array([[1, 2]]).tolist() == [1, 2]
    same = np.array([3], dtype=np.uint32)
    assert as_ipv4_array(same) is same  # no copy
    for wrong in (np.array([-1]), np.array([2**32]), np.array([1.5])):
        with pytest.raises(ValueError):
            as_ipv4_array(wrong)


def test_ipv6_batch(db: CountryProvider) -> None:
    texts = ["2001:4860::8888", "2a00:1450::1", "fe80::1", "fd00::1", "2001:db8::1"]
    assert db.countries_v6(texts) == ["US", "IE", None, None, None]
    assert db.countries_v6(texts) == iptocc.country_code(texts)
    assert db.countries_v6([]) == []
