"""The public address blocks are real: iptocc maps them to the countries they are declared for."""

from __future__ import annotations

import ipaddress

import iptocc
import numpy as np
import pytest

from sentinel.simulate.addresses import (
    EXFIL_BLOCKS,
    PUBLIC_BLOCKS,
    PUBLIC_NTP,
    PUBLIC_RESOLVERS,
    UPDATE_SERVER,
    external_pool,
    ipv4_strings,
)


def dotted(ints: np.ndarray) -> list[str]:
    return ipv4_strings(ints).to_pylist()


def test_ipv4_strings_match_the_standard_library():
    values = np.array([0, 1, 255, 256, 3232261122, 2**32 - 1], dtype=np.uint32)
    assert dotted(values) == [str(ipaddress.IPv4Address(int(v))) for v in values]


def test_at_least_20_countries_with_public_blocks():
    assert len({cc for _, cc, _ in PUBLIC_BLOCKS}) >= 20


@pytest.mark.parametrize(("cidr", "country"), [(c, cc) for c, cc, _ in PUBLIC_BLOCKS] + list(EXFIL_BLOCKS))
def test_each_block_maps_to_its_country(cidr, country):
    net = ipaddress.ip_network(cidr)
    rng = np.random.default_rng(0)
    sample = int(net.network_address) + rng.integers(0, net.num_addresses, 200)
    codes = iptocc.country_code(dotted(sample))
    assert sum(code == country for code in codes) >= 0.95 * len(codes)


def test_pool_addresses_map_to_their_declared_country():
    pool = external_pool(np.random.default_rng(3), 20_000, exclude=np.empty(0, np.uint32))
    assert len(np.unique(pool.ints)) == 20_000
    pick = np.random.default_rng(4).choice(len(pool.ints), 2_000, replace=False)
    codes = np.array(iptocc.country_code(dotted(pool.ints[pick])), dtype=object)
    assert np.mean(codes == pool.countries[pick]) >= 0.95
    assert len(set(pool.countries)) >= 20


def test_pool_leaves_out_excluded_addresses_and_the_office_network():
    office = ipaddress.ip_network("193.136.0.0/16")  # a public office network inside a pool block
    exclude = np.array([int(ipaddress.ip_address(UPDATE_SERVER))], dtype=np.uint32)
    pool = external_pool(np.random.default_rng(5), 50_000, exclude=exclude, network=office)
    addresses = [ipaddress.ip_address(a) for a in dotted(pool.ints)]
    assert UPDATE_SERVER not in map(str, addresses)
    assert not any(a in office for a in addresses)
    assert all(a.is_global for a in addresses)


def test_well_known_servers_are_public():
    for address in (UPDATE_SERVER, *PUBLIC_RESOLVERS, *PUBLIC_NTP):
        assert ipaddress.ip_address(address).is_global
    assert iptocc.country_code(UPDATE_SERVER) == "US"
