"""Benchmark: lookups per second of every kind of GeoIP/AS database Sentinel reads, for a batch of distinct
addresses (what the IP dimension hands a database: each distinct address once, as one array).

    python bench/bench_enrich.py                      # 1M distinct public IPv4 addresses, 100k IPv6
    python bench/bench_enrich.py -n 200000 --v6 20000 --data ../shared/data

Kinds: legacy .dat (numpy trie walk), MaxMind DB .mmdb (maxminddb's C extension, one call per address),
CSV ranges (numpy binary search; the time to read the file is printed apart), the embedded iptocc country
data, and the embedded AS data (plevin-db-network, one call per address). Files come from ../shared/data
(SOURCES.md); a kind whose file is absent is skipped, saying so. Addresses are uniformly random public
IPv4 (private and reserved space left out, as it never reaches the AS lookup), so figures are for cold,
scattered lookups; real captures repeat networks and are kinder. A benchmark, not a test: it prints the
machine it ran on.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from machine import cpu_model, usable_cpus  # bench/machine.py
from sentinel.enrich import netclass
from sentinel.enrich.databases import EmbeddedCountry, open_database
from sentinel.enrich.geodb import GeoDatabase
from sentinel.enrich.geoip_default import EmbeddedCountryDB
from sentinel.enrich.geoip_embedded_as import EmbeddedAS

REPO = Path(__file__).resolve().parents[1]


def public_v4(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty(0, dtype=np.uint32)
    while len(out) < n:
        batch = np.unique(rng.integers(0, 2**32, size=int(n * 1.3), dtype=np.uint64).astype(np.uint32))
        batch = batch[netclass.classify_v4(batch, ()) == netclass.PUBLIC]
        out = np.unique(np.concatenate([out, batch]))
    return rng.permutation(out)[:n]


def public_v6(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    import ipaddress

    rng = np.random.default_rng(seed)
    hi = (np.uint64(0x2 << 60) | rng.integers(0, 2**60, size=n, dtype=np.uint64)).astype(np.uint64)  # 2000::/4
    lo = rng.integers(0, 2**63, size=n, dtype=np.uint64)
    texts = [str(ipaddress.IPv6Address((int(h) << 64) | int(low))) for h, low in zip(hi, lo, strict=True)]
    return hi, lo, texts


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def report(kind: str, name: str, db: GeoDatabase, v4: np.ndarray, v6: tuple, opened: float) -> None:
    seconds, answers = timed(lambda: db.lookup_v4(v4))
    found = int((answers.prefix >= 0).sum())  # type: ignore[attr-defined]
    line = (
        f"{kind:14s} {name[:44]:44s} open {opened:6.2f} s  IPv4: {len(v4) / seconds:12,.0f} lookups/s "
        f"({seconds:6.2f} s, {found / len(v4):6.1%} found)"
    )
    if len(v6[0]):
        seconds6, answers6 = timed(lambda: db.lookup_v6(*v6))
        found6 = int((answers6.prefix >= 0).sum())  # type: ignore[attr-defined]
        line += f"  IPv6: {len(v6[0]) / seconds6:10,.0f}/s ({found6 / len(v6[0]):5.1%} found)"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000, help="distinct IPv4 addresses (default 1M)")
    parser.add_argument("--v6", type=int, default=100_000, help="distinct IPv6 addresses (default 100k)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    system = f"Python {platform.python_version()}, {os.uname().sysname}"
    print(f"machine: {cpu_model()}, {usable_cpus()} usable cores, {system}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    v4 = public_v4(args.n, args.seed)
    v6 = public_v6(args.v6, args.seed)
    print(f"{len(v4):,} distinct public IPv4 addresses, {len(v6[0]):,} IPv6 (random, {args.seed=})")

    def opened(kind: str, name: str, make: Callable[[], GeoDatabase]) -> None:
        seconds, db = timed(make)
        report(kind, name, db, v4, v6, seconds)  # type: ignore[arg-type]

    opened("embedded", "iptocc (country)", lambda: EmbeddedCountry(EmbeddedCountryDB()))
    opened("embedded", "plevin-db-network (AS)", EmbeddedAS)
    files = [
        ("legacy .dat", "geoip-legacy/GeoIP-course-GeoLite2-20230414.dat"),
        ("legacy .dat", "geoip-legacy/GeoIPASNum-20140916.dat"),
        ("MaxMind DB", "mmdb/ip-location-db/geo-whois-asn-country-ipv4.mmdb"),
        ("MaxMind DB", "mmdb/maxmind-test-data/GeoLite2-City-Test.mmdb"),
        ("MaxMind DB", "mmdb/dbip/dbip-country-lite-2026-05.mmdb.gz"),
        ("CSV ranges", "mmdb/ip-location-db/asn-ipv4.csv.gz"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for kind, name in files:
            path = args.data / name
            if not path.exists():
                print(f"{kind:14s} {name}: absent, skipped")
                continue
            if name.endswith(".mmdb.gz"):  # DB-IP ships them compressed: decompressed once, untimed
                plain = Path(tmp) / path.name.removesuffix(".gz")
                with gzip.open(path) as src, open(plain, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                path = plain
            opened(kind, Path(name).name, lambda p=path: open_database(str(p)))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
