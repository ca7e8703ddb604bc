"""MaxMind DB files: exact answers against the JSON the MaxMind test databases were built from, and the
files SOURCES.md lists with expected values (DB-IP Lite, ip-location-db)."""

from __future__ import annotations

import gzip
import ipaddress
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sentinel.enrich.databases import detect, open_database
from sentinel.enrich.geoip_mmdb import MmdbDatabase
from sentinel.errors import GeoIPError
from tests.conftest import require_shared, shared_data_dir

TEST_DATA = "mmdb/maxmind-test-data"


def mmdb(name: str) -> Path:
    return require_shared(shared_data_dir() / TEST_DATA / name)


def ask(db, texts: list[str]):
    """Answers for addresses given as text, through the batch interface (IPv4 and IPv6 apart)."""
    addresses = [ipaddress.ip_address(t) for t in texts]
    v4 = [i for i, a in enumerate(addresses) if a.version == 4]
    v6 = [i for i, a in enumerate(addresses) if a.version == 6]
    out: dict[str, tuple] = {}
    a4 = db.lookup_v4(np.array([int(addresses[i]) for i in v4], dtype=np.uint32))
    for j, i in enumerate(v4):
        out[texts[i]] = (a4.country[j], a4.asn[j], a4.as_name[j], a4.city[j], int(a4.prefix[j]))
    hi = np.array([int(addresses[i]) >> 64 for i in v6], dtype=np.uint64)
    lo = np.array([int(addresses[i]) & (2**64 - 1) for i in v6], dtype=np.uint64)
    a6 = db.lookup_v6(hi, lo, [str(addresses[i]) for i in v6])
    for j, i in enumerate(v6):
        out[texts[i]] = (a6.country[j], a6.asn[j], a6.as_name[j], a6.city[j], int(a6.prefix[j]))
    return out


def expected_from_source(source: list[dict]) -> dict[str, tuple[dict, int]]:
    """Address -> (record, prefix) for the first and last address of every network of the source JSON,
    as the most specific network holding it says (the source lists some inside others)."""
    networks = [(ipaddress.ip_network(net), record) for entry in source for net, record in entry.items()]
    out: dict[str, tuple[dict, int]] = {}
    for net, _ in networks:
        for address in (net.network_address, net.broadcast_address):
            holders = [(n, r) for n, r in networks if n.version == address.version and address in n]
            best = max(holders, key=lambda h: h[0].prefixlen)  # max keeps the first of equals
            out[str(address)] = (best[1], best[0].prefixlen)
    return out


def test_geolite2_asn_test_database_exact_answers():
    db = MmdbDatabase(mmdb("GeoLite2-ASN-Test.mmdb"))
    assert db.info.provides == ("asn",)
    assert db.info.date == "2026-02-04"
    source = json.loads(mmdb("source-GeoLite2-ASN-Test.json").read_text())
    expected = expected_from_source(source)
    got = ask(db, list(expected))
    for address, (record, prefix) in expected.items():
        want = (None, record.get("autonomous_system_number"), record.get("autonomous_system_organization"), None)
        assert got[address][:4] == want, address
        assert 0 < got[address][4] <= prefix, address  # the writer merges neighbours with equal records
    assert len(expected) > 700


def test_geolite2_country_test_database_exact_answers():
    db = MmdbDatabase(mmdb("GeoLite2-Country-Test.mmdb"))
    assert db.info.provides == ("country",)
    source = json.loads(mmdb("source-GeoLite2-Country-Test.json").read_text())
    expected = expected_from_source(source)
    got = ask(db, list(expected))
    for address, (record, _) in expected.items():
        country = (record.get("country") or record.get("registered_country") or {}).get("iso_code")
        assert got[address][0] == country, address
        assert got[address][1:4] == (None, None, None), address


def test_values_sources_md_lists():
    assert ask(
        MmdbDatabase(mmdb("GeoLite2-Country-Test.mmdb")), ["2.125.160.216", "89.160.20.112", "216.160.83.56", "8.8.8.8"]
    ) == {
        "2.125.160.216": ("GB", None, None, None, 29),
        "89.160.20.112": ("SE", None, None, None, 28),
        "216.160.83.56": ("US", None, None, None, 29),
        "8.8.8.8": (None, None, None, None, -1),
    }
    asn = ask(MmdbDatabase(mmdb("GeoLite2-ASN-Test.mmdb")), ["1.128.0.1", "89.160.20.112"])
    assert asn["1.128.0.1"] == (None, 1221, "Telstra Pty Ltd", None, 11)
    assert asn["89.160.20.112"][1:3] == (29518, "Bredband2 AB")


def test_city_and_isp_databases():
    city = MmdbDatabase(mmdb("GeoLite2-City-Test.mmdb"))
    assert set(city.info.provides) == {"country", "city"}
    assert ask(city, ["2.125.160.216"])["2.125.160.216"] == ("GB", None, None, "Boxford", 29)
    isp = MmdbDatabase(mmdb("GeoIP2-ISP-Test.mmdb"))
    assert "asn" in isp.info.provides
    assert ask(isp, ["1.128.0.1"])["1.128.0.1"][1:3] == (1221, "Telstra Pty Ltd")


def test_ip_location_db_country_mmdb():
    path = require_shared(shared_data_dir() / "mmdb/ip-location-db/geo-whois-asn-country-ipv4.mmdb")
    db = open_database(str(path))
    assert db.info.provides == ("country",)  # its type name mentions asn: a country database all the same
    got = ask(db, ["8.8.8.8", "2001:4860:4860::8888"])
    assert got["8.8.8.8"][0] == "US"
    assert got["2001:4860:4860::8888"] == (None, None, None, None, -1)  # an IPv4-only database


def test_dbip_country_lite(tmp_path):
    packed = require_shared(shared_data_dir() / "mmdb/dbip/dbip-country-lite-2026-05.mmdb.gz")
    with pytest.raises(GeoIPError, match=r"gzip-compressed: decompress it first \(gunzip\)"):
        open_database(str(packed))
    path = tmp_path / "dbip-country-lite-2026-05.mmdb"
    with gzip.open(packed) as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    db = open_database(str(path))
    assert db.info.provides == ("country",)
    assert db.info.date == "2026-05-01"
    assert "DB-IP" in (db.info.licence or "")
    got = ask(db, ["8.8.8.8", "2001:4860:4860::8888", "193.136.0.1"])
    # DB-IP places Google's public DNS IPv6 block in Canada: what the file says, read back exactly.
    assert (got["8.8.8.8"][0], got["2001:4860:4860::8888"][0], got["193.136.0.1"][0]) == ("US", "CA", "PT")


def test_detection_by_content_not_name(tmp_path):
    source = mmdb("GeoLite2-ASN-Test.mmdb")
    renamed = tmp_path / "asn.dat"
    shutil.copy(source, renamed)
    assert detect(str(renamed)) == "mmdb"
    assert open_database(str(renamed)).info.provides == ("asn",)


def test_not_a_database(tmp_path):
    path = tmp_path / "notes.mmdb"
    path.write_text("hello\n")
    with pytest.raises(GeoIPError, match=r"--geoip-db .*notes.mmdb: not a legacy GeoIP database"):
        open_database(str(path))
    damaged = tmp_path / "damaged.mmdb"
    damaged.write_bytes(b"\x00" * 100 + b"\xab\xcd\xefMaxMind.com" + b"\x00" * 10)
    with pytest.raises(GeoIPError, match=r"damaged\.mmdb: not a usable MaxMind DB file"):
        open_database(str(damaged))
    with pytest.raises(GeoIPError, match="no such file"):
        open_database(str(tmp_path / "absent.mmdb"))
