"""The database stack (who wins), CSV range files, legacy wrappers and the embedded AS default."""

from __future__ import annotations

import gzip
import ipaddress
import time

import numpy as np
import pytest

from sentinel.enrich.databases import LegacyOrg, open_database, open_stack
from sentinel.enrich.geodb import Answers, DatabaseInfo, GeoStack, as_org_text, split_legacy_org
from sentinel.enrich.geoip_csv import CsvRanges
from sentinel.enrich.geoip_embedded_as import EmbeddedAS
from sentinel.errors import GeoIPError
from tests.conftest import require_shared, shared_data_dir
from tests.enrich.test_geoip_mmdb import ask


class Fake:
    """A database answering fixed values for the addresses it knows, with a given prefix length."""

    def __init__(self, name, answers: dict[str, tuple], provides=("country", "asn"), explicit=True):
        self.info = DatabaseInfo(name=name, kind="fake", provides=provides, explicit=explicit)
        self.answers = answers  # ip -> (country, asn, name, prefix)

    def _ask(self, texts):
        out = Answers.empty(len(texts))
        for i, t in enumerate(texts):
            if t in self.answers:
                out.country[i], out.asn[i], out.as_name[i], out.prefix[i] = self.answers[t]
        return out

    def lookup_v4(self, ipv4):
        return self._ask([str(ipaddress.ip_address(int(v))) for v in ipv4])

    def lookup_v6(self, hi, lo, texts):
        return self._ask(list(texts))


def lookup(stack: GeoStack, texts: list[str]):
    addresses = [ipaddress.ip_address(t) for t in texts]
    version = np.array([a.version for a in addresses], dtype=np.int8)
    ipv4 = np.array([int(a) if a.version == 4 else 0 for a in addresses], dtype=np.uint32)
    hi = np.array([int(a) >> 64 if a.version == 6 else 0 for a in addresses], dtype=np.uint64)
    lo = np.array([int(a) & (2**64 - 1) if a.version == 6 else 0 for a in addresses], dtype=np.uint64)
    chosen = stack.lookup(version, ipv4, hi, lo, texts)
    return {
        t: (chosen.answers.country[i], chosen.answers.asn[i], chosen.answers.as_name[i]) for i, t in enumerate(texts)
    }, chosen


def test_named_beats_default_then_more_specific_then_first_named():
    default = Fake(
        "default", {"1.1.1.1": ("AU", 13335, "Cloudflare", 24), "2.2.2.2": ("FR", 3215, "Orange", 24)}, explicit=False
    )
    wide = Fake("wide", {"1.1.1.1": ("US", 1, "Wide", 8)})
    narrow = Fake("narrow", {"1.1.1.1": ("DE", 2, "Narrow", 16)})
    also_narrow = Fake("also", {"1.1.1.1": ("NL", 3, "Also", 16)})
    got, chosen = lookup(GeoStack([wide, narrow, also_narrow, default]), ["1.1.1.1", "2.2.2.2", "3.3.3.3"])
    assert got["1.1.1.1"] == ("DE", 2, "Narrow")  # named beats the default's /24; /16 beats /8; first of equals
    assert got["2.2.2.2"] == ("FR", 3215, "Orange")  # the default answers what no named database knows
    assert got["3.3.3.3"] == (None, None, None)
    assert chosen.source["country"].tolist() == [1, 3, -1]


def test_exclusive_fields_keep_gi_and_gin_meaning():
    default = Fake("default", {"2.2.2.2": ("FR", 3215, "Orange", 24)}, explicit=False)
    legacy = Fake("GeoIP.dat", {"1.1.1.1": ("AU", None, None, 0)}, provides=("country",))
    got, _ = lookup(GeoStack([legacy, default], exclusive=("country",)), ["1.1.1.1", "2.2.2.2"])
    assert got["2.2.2.2"] == (None, 3215, "Orange")  # no embedded country beside -gi; the AS still comes
    stack = GeoStack([legacy, default], exclusive=("country",))
    assert stack.describe("country") == "GeoIP.dat"
    assert stack.describe("asn") == "default"


def test_a_default_whose_fields_are_all_named_is_not_asked():
    class Refuses(Fake):
        def _ask(self, texts):
            raise AssertionError("a default under -gi and -gin is not looked up: its answers would be discarded")

    country = Fake("GeoIP.dat", {"1.1.1.1": ("AU", None, None, 0)}, provides=("country",))
    org = Fake("GeoIPASNum.dat", {"1.1.1.1": (None, 13335, "Cloudflare", 0)}, provides=("asn",))
    defaults = [
        Refuses("c", {}, provides=("country",), explicit=False),
        Refuses("a", {}, provides=("asn",), explicit=False),
    ]
    got, chosen = lookup(GeoStack([country, org, *defaults], exclusive=("country", "asn")), ["1.1.1.1", "2.2.2.2"])
    assert got == {"1.1.1.1": ("AU", 13335, "Cloudflare"), "2.2.2.2": (None, None, None)}
    assert chosen.source["country"].tolist() == [0, -1]
    assert chosen.source["asn"].tolist() == [1, -1]


def test_legacy_org_text_round_trips():
    assert split_legacy_org("AS15169 Google Inc.") == (15169, "Google Inc.")
    assert split_legacy_org("AS8068") == (8068, None)
    assert split_legacy_org("Some ISP") == (None, "Some ISP")
    for text in ("AS15169 Google Inc.", "AS8068", "Some ISP"):
        assert as_org_text(*split_legacy_org(text)) == text


def test_legacy_org_wrapper():
    class Org:
        source = "GeoIPASNum.dat"

        def organisations(self, ipv4):
            names = {0x08080808: "AS15169 Google Inc.", 0x08080404: "AS15169 Google Inc.", 2: "Some ISP"}
            return [names.get(int(v)) for v in ipv4]

    got = LegacyOrg(Org()).lookup_v4(np.array([0x08080808, 1, 2, 0x08080404], dtype=np.uint32))
    assert (got.asn.tolist(), got.as_name.tolist(), got.prefix.tolist()) == (
        [15169, None, None, 15169],
        ["Google Inc.", None, "Some ISP", "Google Inc."],
        [0, -1, 0, 0],
    )
    nobody = LegacyOrg(Org()).lookup_v4(np.array([1, 3], dtype=np.uint32))
    assert (nobody.asn.tolist(), nobody.as_name.tolist(), nobody.prefix.tolist()) == (
        [None, None],
        [None, None],
        [-1, -1],
    )


def write_csv(path, lines: list[str], packed=False):
    data = "".join(f"{line}\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data) if packed else data)
    return str(path)


def test_csv_ranges_asn_ipv4_and_ipv6(tmp_path):
    path = write_csv(
        tmp_path / "asn.csv.gz",
        [
            '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."',
            "8.8.8.0,8.8.8.255,15169,Google LLC",
            "9.0.0.0,9.255.255.255,3356,Level 3",
            "2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC",
        ],
        packed=True,
    )
    db = open_database(path)
    assert isinstance(db, CsvRanges)
    assert db.info.provides == ("asn",)
    got = ask(db, ["1.0.0.7", "1.0.1.0", "8.8.8.8", "9.1.2.3", "0.0.0.1", "2001:4860:4860::8888", "2001:db8::1"])
    assert got["1.0.0.7"] == (None, 13335, "Cloudflare, Inc.", None, 24)
    assert got["1.0.1.0"] == (None, None, None, None, -1)  # between two ranges
    assert got["8.8.8.8"][1:3] == (15169, "Google LLC")
    assert got["9.1.2.3"][4] == 8
    assert got["0.0.0.1"][4] == -1
    assert got["2001:4860:4860::8888"] == (None, 15169, "Google LLC", None, 32)
    assert got["2001:db8::1"][4] == -1


def test_csv_ranges_country(tmp_path):
    db = open_database(write_csv(tmp_path / "country.csv", ["1.0.0.0,1.0.0.255,AU", "2.0.0.0,2.15.255.255,fr"]))
    assert db.info.provides == ("country",)
    got = ask(db, ["1.0.0.1", "2.1.1.1", "3.3.3.3"])
    assert [got[ip][0] for ip in ("1.0.0.1", "2.1.1.1", "3.3.3.3")] == ["AU", "FR", None]


def test_csv_ranges_bad_lines(tmp_path):
    with pytest.raises(GeoIPError, match="line 2: 33554441 > 33554433: not a range of addresses"):
        CsvRanges(write_csv(tmp_path / "bad.csv", ["1.0.0.0,1.0.0.255,AU", "2.0.0.9,2.0.0.1,FR"]))
    with pytest.raises(GeoIPError, match="neither a country code nor an AS number"):
        CsvRanges(write_csv(tmp_path / "odd.csv", ["1.0.0.0,1.0.0.255,hello world"]))


def test_ip_location_db_asn_csv():
    path = require_shared(shared_data_dir() / "mmdb/ip-location-db/asn-ipv4.csv.gz")
    started = time.perf_counter()
    db = open_database(str(path))
    took = time.perf_counter() - started
    got = ask(db, ["8.8.8.8", "1.0.0.1", "10.0.0.1"])
    assert got["8.8.8.8"][1:3] == (15169, "Google LLC")  # SOURCES.md: 8.8.8.0-8.8.8.255 -> 15169 "Google LLC"
    assert got["1.0.0.1"][1:3] == (13335, "Cloudflare, Inc.")
    assert got["10.0.0.1"][1] is None
    assert db.info.date is None and "411,961 IPv4" in db.info.description
    print(f"read 411,961 ranges in {took:.2f} s")


def test_embedded_as_default():
    db = EmbeddedAS()
    assert db.info.provides == ("asn",) and not db.info.explicit
    assert db.info.date and db.info.licence
    got = ask(db, ["8.8.8.8", "142.250.184.184", "13.107.42.39", "2001:4860:4860::8888", "192.168.1.1", "fe80::1"])
    # SOURCES.md (course GeoIPASNum.dat): 142.250.184.184 -> AS15169, 13.107.42.39 -> AS8068.
    assert [got[ip][1] for ip in ("8.8.8.8", "142.250.184.184", "13.107.42.39", "2001:4860:4860::8888")] == [
        15169,
        15169,
        8068,
        15169,
    ]
    assert got["13.107.42.39"][2].startswith("Microsoft")
    assert got["192.168.1.1"][1] is None and got["fe80::1"][1] is None  # private space is not asked


def test_embedded_as_vectorised_ipv4_agrees_with_the_reader_address_by_address():
    """The IPv4 path reads plevin's range index itself: every answer must be the reader's own."""
    db = EmbeddedAS()
    rng = np.random.default_rng(7)
    values = np.unique(rng.integers(1 << 24, 224 << 24, 20_000, dtype=np.uint64)).astype(np.uint32)
    values = np.concatenate([values, np.array([0x08080808, 0x08080800, 0x080808FF, 0x01000001, 0], dtype=np.uint32)])
    fast = db.lookup_v4_vectorised(values)
    slow = db._lookup([int(v) for v in values], wide=False)
    assert fast.asn.tolist() == slow.asn.tolist()
    assert fast.as_name.tolist() == slow.as_name.tolist()
    assert fast.prefix.tolist() == slow.prefix.tolist()
    assert sum(a is not None for a in fast.asn) > 10_000  # most of the sample is announced space


def test_default_stack():
    stack = open_stack(use_cache=False)
    assert [i.kind for i in stack.infos] == ["embedded", "embedded"]
    assert stack.describe("country").startswith("embedded default (iptocc")
    assert stack.describe("asn").startswith("embedded default (plevin-db-network")


def test_legacy_files_through_geoip_db_and_who_wins():
    legacy = require_shared(shared_data_dir() / "geoip-legacy")
    country = open_database(str(legacy / "GeoIP-course-GeoLite2-20230414.dat"))
    org = open_database(str(legacy / "GeoIPASNum-20140916.dat"))
    assert (country.info.kind, country.info.provides, country.info.date) == ("legacy .dat", ("country",), "2023-04-14")
    assert (org.info.provides, org.info.date) == (("asn",), "2014-09-16")
    assert ask(org, ["8.8.8.8"])["8.8.8.8"][1:3] == (15169, "Google Inc.")
    mmdb = open_database(str(require_shared(shared_data_dir() / "mmdb/maxmind-test-data/GeoLite2-Country-Test.mmdb")))
    # Both named: where both answer, the .mmdb's /29 is more specific than the legacy file's unknown size.
    stack = GeoStack([country, mmdb])
    got, chosen = lookup(stack, ["2.125.160.216", "8.8.8.8"])
    assert chosen.source["country"].tolist() == [1, 0]  # the mmdb for its network, GeoIP.dat for the rest
    assert got["2.125.160.216"][0] == "GB" and got["8.8.8.8"][0] == "US"


def test_known_is_not_none_falsy_answers_included():
    from sentinel.enrich.geodb import known

    values = np.array([None, "", 0, "US", 15169, None], dtype=object)
    assert known(values).tolist() == [False, True, True, True, True, False]
    assert known(np.array([], dtype=object)).tolist() == []
