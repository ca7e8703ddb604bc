"""LegacyGeoIP: batch lookups equal pygeoip's, on the real legacy databases and on tiny ones built here.

The tiny databases need no shared data, so CI without ../shared/data still exercises the trie walker.
"""

from __future__ import annotations

import gzip
import os
import socket
import struct
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pygeoip
import pytest
from pygeoip import const

from sentinel.enrich import geoip_legacy
from sentinel.enrich.geo import CountryProvider, OrgProvider, open_country_db, open_org_db
from sentinel.enrich.geoip_legacy import LegacyGeoIP
from sentinel.errors import ExitStatus, GeoIPError

COUNTRY_FILES = ["GeoIP-course-GeoLite2-20230414.dat", "GeoIP-debian-20191224.dat", "GeoIP-20140902.dat"]
ASN_FILE = "GeoIPASNum-20140916.dat"
EDGES = [
    "0.0.0.0",
    "255.255.255.255",
    "10.0.0.1",
    "192.168.1.1",
    "8.8.8.8",
    "1.1.1.1",
    "142.250.184.184",
    "13.107.42.39",
]


def ip_int(addr: str) -> int:
    return int(struct.unpack("!I", socket.inet_aton(addr))[0])


def ip_str(num: int) -> str:
    return socket.inet_ntoa(struct.pack("!I", num))


def addresses(n: int, seed: int, extra: Sequence[int] = ()) -> np.ndarray:
    rng = np.random.default_rng(seed)
    random = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    fixed = np.array([*map(ip_int, EDGES), *extra], dtype=np.uint32)
    return np.concatenate((fixed, random))


def pygeoip_countries(path: Path, ips: np.ndarray) -> list[str | None]:
    gi = pygeoip.GeoIP(str(path), flags=pygeoip.MEMORY_CACHE)
    codes = (gi.country_code_by_addr(ip_str(i)) for i in ips.tolist())
    return [None if code in ("", "--") else code for code in codes]


def pygeoip_orgs(path: Path, ips: np.ndarray) -> list[str | None]:
    gi = pygeoip.GeoIP(str(path), flags=pygeoip.MEMORY_CACHE)
    return [gi.org_by_addr(ip_str(i)) or None for i in ips.tolist()]


# --- real databases ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def legacy_dir(shared_data: Path) -> Path:
    path = shared_data / "geoip-legacy"
    if not path.is_dir():
        pytest.skip(f"real-data test: {path} is absent")
    return path


def real_file(legacy_dir: Path, name: str) -> Path:
    path = legacy_dir / name
    if not path.is_file():
        pytest.skip(f"real-data test: {path} is absent")
    return path


@pytest.mark.parametrize("name", COUNTRY_FILES)
def test_real_country_db_equals_pygeoip(legacy_dir: Path, name: str) -> None:
    path = real_file(legacy_dir, name)
    db = open_country_db(str(path), option="-gi")
    assert isinstance(db, CountryProvider)
    assert db.source == str(path)
    ips = addresses(50_000, seed=len(name))
    got = db.countries(ips)
    assert got == pygeoip_countries(path, ips)
    edges = dict(zip(EDGES, got, strict=False))
    assert edges["8.8.8.8"] == "US"
    assert edges["142.250.184.184"] == "US"
    assert edges["10.0.0.1"] is None and edges["192.168.1.1"] is None


def test_real_course_country_db_known_value(legacy_dir: Path) -> None:
    db = open_country_db(real_file(legacy_dir, COUNTRY_FILES[0]))
    assert db.countries(np.array([ip_int("8.8.8.8")], dtype=np.uint32)) == ["US"]
    assert isinstance(db, LegacyGeoIP) and db.info == "GeoLite2 Country 20230414"


def test_real_country_db_without_structure_marker(legacy_dir: Path) -> None:
    # MaxMind's own 2014 build has no 0xFFFFFF delimiter at all: it is a country edition by default.
    path = real_file(legacy_dir, "GeoIP-20140902.dat")
    assert b"\xff\xff\xff" not in path.read_bytes()[-23:]
    db = LegacyGeoIP(path, role="country")
    assert db.edition == const.COUNTRY_EDITION
    assert db.info is not None and db.info.startswith("GEO-106FREE 20140902")


def test_real_asn_db_equals_pygeoip(legacy_dir: Path) -> None:
    path = real_file(legacy_dir, ASN_FILE)
    db = open_org_db(str(path), option="-gin")
    assert isinstance(db, OrgProvider)
    assert db.source == str(path)
    ips = addresses(50_000, seed=9)
    got = db.organisations(ips)
    assert got == pygeoip_orgs(path, ips)
    edges = dict(zip(EDGES, got, strict=False))
    assert edges["8.8.8.8"] == "AS15169 Google Inc."
    assert edges["13.107.42.39"] is None  # 2014 data: that Microsoft block is not in it
    assert db.organisations(ips) == got  # second batch: answers from the decoded-record cache


def test_real_wrong_edition_for_the_role(legacy_dir: Path) -> None:
    asn = real_file(legacy_dir, ASN_FILE)
    country = real_file(legacy_dir, COUNTRY_FILES[0])
    with pytest.raises(GeoIPError, match="is an ASN database; -gi needs a country database") as err:
        open_country_db(str(asn), option="-gi")
    assert str(asn) in str(err.value)
    with pytest.raises(GeoIPError, match="is a country database; -gin needs an ASN") as err:
        open_org_db(str(country), option="-gin")
    assert str(country) in str(err.value)


def test_real_markerless_country_db_as_org(legacy_dir: Path) -> None:
    path = real_file(legacy_dir, "GeoIP-20140902.dat")
    with pytest.raises(GeoIPError, match="is a country database; -gin needs"):
        open_org_db(str(path), option="-gin")


def test_real_mmdb_is_named(shared_data: Path) -> None:
    path = shared_data / "mmdb" / "maxmind-test-data" / "GeoLite2-Country-Test.mmdb"
    if not path.is_file():
        pytest.skip(f"real-data test: {path} is absent")
    with pytest.raises(GeoIPError, match=r"MaxMind DB \(\.mmdb\)"):
        open_country_db(str(path))


# --- tiny databases built here -----------------------------------------------------------------------------

CHAIN_CODES = ["US", "DE", "", "A1", "GB", "EU", "JP", "BR"]  # '' (index 0) is "no data"


def country(code: str) -> int:
    return const.COUNTRY_BEGIN + const.COUNTRY_CODES.index(code)


def build_dat(
    nodes: Sequence[tuple[int, int]],
    *,
    edition: int | None = const.COUNTRY_EDITION,
    segments: int | None = None,
    strings: bytes = b"",
    record_length: int = 3,
    info: bytes = b"sentinel test build",
) -> bytes:
    """A legacy .dat: trie, org strings, NUL NUL NUL + description, structure info (unless edition None)."""
    trie = b"".join(
        left.to_bytes(record_length, "little") + right.to_bytes(record_length, "little") for left, right in nodes
    )
    tail = b""
    if edition is not None:
        tail = b"\xff\xff\xff" + bytes([edition])
        if segments is not None:
            tail += segments.to_bytes(3, "little")
    return trie + strings + b"\x00\x00\x00" + info + tail


def chain_nodes() -> list[tuple[int, int]]:
    """32 nodes in a chain: the first 1 bit of an address picks a country, so every depth 1..32 is used."""
    nodes = []
    for i in range(32):
        left = i + 1 if i < 31 else country("FR")
        nodes.append((left, country(CHAIN_CODES[i % len(CHAIN_CODES)])))
    return nodes


def chain_addresses() -> np.ndarray:
    powers = [1 << k for k in range(32)]
    near = [p + d for p in powers for d in (-1, 1) if 0 <= p + d < 2**32]
    return addresses(3_000, seed=1, extra=[0, *powers, *near])


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def org_db(tmp_path: Path, edition: int = const.ASNUM_EDITION, record_length: int = 3) -> tuple[Path, dict]:
    """A tiny org-like database with a shared record, an empty one, a Latin-1 one and "no data"."""
    names = [b"AS1 One", b"AS2 Two", b"", "AS3 Caf\u00e9 S.A.".encode("iso-8859-1")]
    strings = b"\x00"  # offset 0 (record == segments) means "no data": strings start after it
    offsets = []
    for name in names:
        offsets.append(len(strings))
        strings += name + b"\x00"
    seg = 5
    rec = [seg + off for off in offsets]
    nodes = [
        (1, seg),  # 128.0.0.0/1: no data
        (2, 3),
        (rec[0], 4),  # 0.0.0.0/3 -> AS1
        (rec[1], rec[0]),  # 64.0.0.0/3 -> AS2; 96.0.0.0/3 -> AS1 again (the same record)
        (rec[2], rec[3]),  # 32.0.0.0/4 -> '' (None); 48.0.0.0/4 -> Latin-1 name
    ]
    content = build_dat(nodes, edition=edition, segments=seg, strings=strings, record_length=record_length)
    return write(tmp_path, f"org{edition}.dat", content), {"seg": seg, "rec": rec}


def test_tiny_country_db_with_marker_equals_pygeoip(tmp_path: Path) -> None:
    path = write(tmp_path, "chain.dat", build_dat(chain_nodes()))
    db = open_country_db(str(path))
    ips = chain_addresses()
    got = db.countries(ips)
    assert got == pygeoip_countries(path, ips)
    assert db.countries(np.array([0, 1, 2, 2**31], dtype=np.uint32)) == ["FR", "BR", "JP", "US"]
    assert {"A1", "EU", None} <= set(got)  # legacy non-ISO codes are kept, as pygeoip gives them


def test_tiny_country_db_without_marker_equals_pygeoip(tmp_path: Path) -> None:
    path = write(tmp_path, "nomarker.dat", build_dat(chain_nodes(), edition=None))
    db = LegacyGeoIP(path, role="country")
    ips = chain_addresses()
    assert db.countries(ips) == pygeoip_countries(path, ips)
    assert db.info == "sentinel test build"


def test_tiny_country_db_shallow(tmp_path: Path) -> None:
    # Leaves everywhere above the 16-bit jump table: the walk must stay on them.
    nodes = [(1, country("US")), (country(""), country("DE"))]
    path = write(tmp_path, "shallow.dat", build_dat(nodes))
    ips = chain_addresses()
    assert open_country_db(path).countries(ips) == pygeoip_countries(path, ips)


@pytest.mark.parametrize(
    ("edition", "record_length"), [(const.ASNUM_EDITION, 3), (const.ORG_EDITION, 4), (const.ISP_EDITION, 4)]
)
def test_tiny_org_db_equals_pygeoip(tmp_path: Path, edition: int, record_length: int) -> None:
    path, _ = org_db(tmp_path, edition, record_length)
    db = open_org_db(str(path))
    assert db is not None
    ips = chain_addresses()
    got = db.organisations(ips)
    assert got == pygeoip_orgs(path, ips)
    probe = [ip_int(a) for a in ("1.0.0.1", "100.0.0.1", "70.0.0.1", "40.0.0.1", "50.0.0.1", "200.0.0.1")]
    first = db.organisations(np.array(probe, dtype=np.uint32))
    assert first == ["AS1 One", "AS1 One", "AS2 Two", None, "AS3 Caf\u00e9 S.A.", None]
    # Each distinct record is decoded once: the same string object, within a batch and across batches.
    assert first[0] is first[1]
    assert db.organisations(np.array(probe[:1], dtype=np.uint32))[0] is first[0]


def test_empty_batch(tmp_path: Path) -> None:
    country_path = write(tmp_path, "chain.dat", build_dat(chain_nodes()))
    assert open_country_db(country_path).countries(np.array([], dtype=np.uint32)) == []
    org_path, _ = org_db(tmp_path)
    org = open_org_db(org_path)
    assert org is not None and org.organisations(np.array([], dtype=np.uint32)) == []


def test_other_integer_arrays_are_accepted(tmp_path: Path) -> None:
    db = open_country_db(write(tmp_path, "chain.dat", build_dat(chain_nodes())))
    assert db.countries(np.array([0, 1, 2**31], dtype=np.int64)) == ["FR", "BR", "US"]
    with pytest.raises(ValueError):
        db.countries(np.array([-1], dtype=np.int64))


# --- errors ------------------------------------------------------------------------------------------------


def assert_geoip_error(opener: Callable[[str], object], path: Path | str, match: str) -> None:
    with pytest.raises(GeoIPError, match=match) as err:
        opener(str(path))
    message = str(err.value)
    # one line naming the file, and the option it came from when opened through open_*_db
    assert message.startswith((f"{path}: ", f"-gi {path}: ", f"-gin {path}: ")) and "\n" not in message
    assert err.value.status == ExitStatus.GEOIP


@pytest.mark.parametrize("opener", [open_country_db, open_org_db], ids=["country", "org"])
def test_unusable_files(tmp_path: Path, opener: Callable[[str], object]) -> None:
    rng = np.random.default_rng(3)
    assert_geoip_error(opener, tmp_path / "missing.dat", "no such file")
    assert_geoip_error(opener, tmp_path, "is a directory")
    assert_geoip_error(opener, write(tmp_path, "empty.dat", b""), "is empty")
    random = write(tmp_path, "random.dat", rng.integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    assert_geoip_error(opener, random, "not a legacy GeoIP database")
    text = write(tmp_path, "text.dat", b"src_ip,dst_ip,bytes\n10.0.0.1,8.8.8.8,123\n" * 100)
    assert_geoip_error(opener, text, "not a legacy GeoIP database")
    assert_geoip_error(opener, write(tmp_path, "tiny.dat", b"GeoIP"), "not a legacy GeoIP database")
    gz = write(tmp_path, "GeoIP.dat.gz", gzip.compress(build_dat(chain_nodes())))
    assert_geoip_error(opener, gz, "gzip-compressed")
    parquet = write(tmp_path, "flows.parquet", b"PAR1" + rng.integers(0, 256, 5_000, np.uint8).tobytes() + b"PAR1")
    assert_geoip_error(opener, parquet, "it is a Parquet file")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.dat", build_dat(chain_nodes()))
    path.chmod(0)
    try:
        assert_geoip_error(open_country_db, path, "permission denied")
    finally:
        path.chmod(0o600)


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As test_unreadable_file, for runs as root (CI containers), where chmod cannot deny reading.
    path = write(tmp_path, "secret.dat", build_dat(chain_nodes()))

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(geoip_legacy, "open", denied, raising=False)
    assert_geoip_error(open_country_db, path, "cannot read the file: permission denied")


def test_wrong_edition_for_the_role(tmp_path: Path) -> None:
    org_path, _ = org_db(tmp_path)
    assert_geoip_error(
        lambda p: open_country_db(p, option="-gi"),
        org_path,
        "is an ASN database; -gi needs a country database$",
    )
    country_path = write(tmp_path, "chain.dat", build_dat(chain_nodes()))
    assert_geoip_error(lambda p: open_org_db(p, option="-gin"), country_path, "is a country database; -gin needs")
    ipv6 = write(tmp_path, "v6.dat", build_dat(chain_nodes(), edition=const.COUNTRY_EDITION_V6))
    assert_geoip_error(open_country_db, ipv6, "IPv6 country database.*IPv6 editions are not supported")
    city = write(tmp_path, "city.dat", build_dat(chain_nodes(), edition=const.CITY_EDITION_REV1, segments=32))
    assert_geoip_error(open_country_db, city, "is a city database; -gi needs a country database")
    unknown = write(tmp_path, "unknown.dat", build_dat(chain_nodes(), edition=77))
    assert_geoip_error(open_country_db, unknown, "unknown edition byte 77")


def test_structure_info_cut_short(tmp_path: Path) -> None:
    # The delimiter and edition byte of an ASN database, but only 1 of its 3 segment bytes.
    content = build_dat(chain_nodes(), edition=const.ASNUM_EDITION) + b"\x05"
    assert_geoip_error(open_org_db, write(tmp_path, "short.dat", content), "not a legacy GeoIP database")
    assert_geoip_error(open_country_db, write(tmp_path, "cut.dat", b"\x00" * 30 + b"\xff\xff\xff"), "cut short")


def test_corrupt_tries(tmp_path: Path) -> None:
    out_of_range = [(1, country("US")), (40, country("DE"))]  # node 1 points to node 40: past the file
    path = write(tmp_path, "range.dat", build_dat(out_of_range))
    assert_geoip_error(open_country_db, path, "corrupt GeoIP database: .*points to node 40, beyond the")
    loop = [(1, country("US")), (0, country("DE"))]  # node 1 points back to the root
    assert_geoip_error(open_country_db, write(tmp_path, "loop.dat", build_dat(loop)), "longer than 32 bits")
    bad_code = [(1, const.COUNTRY_BEGIN + 255), (country("US"), country("DE"))]  # beyond COUNTRY_CODES
    assert_geoip_error(open_country_db, write(tmp_path, "code.dat", build_dat(bad_code)), "corrupt GeoIP database")
    # Without the marker the same damage means "not a GeoIP database" (markerless files are only presumed).
    assert_geoip_error(open_country_db, write(tmp_path, "nm.dat", build_dat(loop, edition=None)), "not a legacy")


def test_corrupt_org_records(tmp_path: Path) -> None:
    seg = 2
    past_end = build_dat([(1, seg + 10_000), (seg, seg)], edition=const.ASNUM_EDITION, segments=seg)
    assert_geoip_error(open_org_db, write(tmp_path, "past.dat", past_end), "corrupt GeoIP database")
    long_name = b"\x00AS9 " + b"x" * 400 + b"\x00"
    too_long = build_dat([(1, seg + 1), (seg, seg)], edition=const.ASNUM_EDITION, segments=seg, strings=long_name)
    assert_geoip_error(open_org_db, write(tmp_path, "long.dat", too_long), "longer than 299 bytes")
    too_many = build_dat([(1, 2), (2, 2)], edition=const.ASNUM_EDITION, segments=100_000)
    assert_geoip_error(open_org_db, write(tmp_path, "many.dat", too_many), "declares 100000 trie nodes")


def test_walker_never_raises_index_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Switch off the check on opening: a damaged trie must still give GeoIPError, not IndexError or garbage.
    def trust_everything(records: np.ndarray, n_nodes: int, segments: int, n_values: int) -> np.ndarray:
        return np.ones(n_values, dtype=bool)

    monkeypatch.setattr(geoip_legacy, "_check_trie", trust_everything)
    damaged = [(1, country("US")), (40, 0)]  # 0.0.0.0/2 -> node 40 of 2; 64.0.0.0/2 -> back to the root
    db = open_country_db(write(tmp_path, "damaged.dat", build_dat(damaged)))
    assert db.countries(np.array([ip_int("200.1.2.3")], dtype=np.uint32)) == ["US"]
    for addr in ("1.2.3.4", "85.85.85.85"):  # into node 40; bits 0101... forever between root and node 1
        with pytest.raises(GeoIPError, match="did not end on a valid record"):
            db.countries(np.array([ip_int("200.1.2.3"), ip_int(addr)], dtype=np.uint32))


def test_wrong_method_for_the_role(tmp_path: Path) -> None:
    db = LegacyGeoIP(write(tmp_path, "chain.dat", build_dat(chain_nodes())), role="country")
    with pytest.raises(TypeError):
        db.organisations(np.array([1], dtype=np.uint32))


def test_ipv6_gets_no_country_from_an_ipv4_edition(tmp_path: Path) -> None:
    db = open_country_db(str(write(tmp_path, "chain.dat", build_dat(chain_nodes()))))
    assert isinstance(db, CountryProvider)
    assert db.countries_v6(["2001:4860::8888", "fd00::1"]) == [None, None]
    assert db.countries_v6([]) == []
