"""Benchmark: GeoIP lookups per address, pygeoip (MEMORY_CACHE) vs Sentinel's numpy trie walker vs iptocc.

    python bench/bench_geoip.py                    # 250k random IPv4 addresses, every shared legacy .dat
    python bench/bench_geoip.py -n 1000000 --data ../shared/data

The walker gets what the engine hands it (one uint32 array of distinct addresses); pygeoip gets dotted strings
made beforehand (untimed), as the original called it per address. The iptocc provider's time includes making
those strings from the uint32 array, since that is part of its work. Every walker answer is checked against
pygeoip's. Uniform random addresses are kinder to pygeoip than real traffic, whose addresses sit in deeper,
densely allocated parts of the trie (the 20k distinct IPv4 addresses of the course's dataset0 flows.csv:
mean depth 20 and 27 µs each with the course GeoIP.dat, against 12 and 17 µs for random ones); the walker
always takes 16 steps after its 16-bit table. A benchmark, not a test: it prints the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import struct
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import pygeoip

from machine import cpu_model, usable_cpus  # bench/machine.py
from sentinel.enrich.geo import open_country_db, open_org_db
from sentinel.enrich.geoip_default import dotted

REPO = Path(__file__).resolve().parents[1]
COUNTRY_FILES = ["GeoIP-course-GeoLite2-20230414.dat", "GeoIP-debian-20191224.dat", "GeoIP-20140902.dat"]
ASN_FILES = ["GeoIPASNum-20140916.dat"]


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    """Fastest of `repeat` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def us_per(seconds: float, n: int) -> float:
    return seconds / n * 1e6


def bench_legacy(path: Path, org: bool, ips: np.ndarray, strings: list[str], repeat: int) -> float:
    """Print the figures for one legacy database; return pygeoip's seconds per address."""
    start = time.perf_counter()
    gi = pygeoip.GeoIP(str(path), flags=pygeoip.MEMORY_CACHE)
    pygeoip_open = time.perf_counter() - start
    lookup = gi.org_by_addr if org else gi.country_code_by_addr
    start = time.perf_counter()
    expected = [lookup(s) for s in strings]
    pygeoip_s = time.perf_counter() - start

    start = time.perf_counter()
    db = open_org_db(str(path)) if org else open_country_db(str(path))
    walker_open = time.perf_counter() - start
    assert db is not None
    batch = db.organisations if org else db.countries  # type: ignore[union-attr]
    first_s, got = best_of(1, lambda: batch(ips))  # org: includes decoding each distinct record once
    walker_s, got = best_of(repeat, lambda: batch(ips))

    normalised = [None if e in ("", "--") else e for e in expected]
    same = "identical" if got == normalised else "DIFFERENT"
    print(f"{path.name} ({'ASN' if org else 'country'}), {len(ips):,} addresses, answers {same}:")
    print(
        f"  pygeoip      {us_per(pygeoip_s, len(ips)):8.3f} µs/address  {pygeoip_s:8.3f} s"
        f"   (open {pygeoip_open * 1e3:.0f} ms)"
    )
    print(
        f"  walker       {us_per(walker_s, len(ips)):8.3f} µs/address  {walker_s:8.3f} s"
        f"   (open {walker_open * 1e3:.0f} ms, first batch {first_s:.3f} s)"
        f"   {pygeoip_s / walker_s:,.0f}x faster"
    )
    once = walker_open + first_s
    print(f"  walker, open + first batch {once:.3f} s: {pygeoip_s / once:,.0f}x faster for a one-off run")
    return pygeoip_s / len(ips)


def bench_iptocc(ips: np.ndarray, strings: list[str], repeat: int, pygeoip_per: float | None) -> None:
    import iptocc

    db = open_country_db(None)
    provider_s, _ = best_of(repeat, lambda: db.countries(ips))
    bare_s, _ = best_of(repeat, lambda: iptocc.country_code(strings))
    format_s, _ = best_of(repeat, lambda: dotted(ips))
    print(f"iptocc {metadata.version('iptocc')} (embedded default), {len(ips):,} addresses:")
    print(
        f"  provider     {us_per(provider_s, len(ips)):8.3f} µs/address  {provider_s:8.3f} s"
        f"   (of which making dotted strings {format_s:.3f} s, iptocc itself {bare_s:.3f} s)"
    )
    if pygeoip_per is not None:
        print(f"  {pygeoip_per * len(ips) / provider_s:,.0f}x faster than pygeoip on the first country file")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=250_000, help="random IPv4 addresses (default 250000)")
    default_data = Path(os.environ.get("SENTINEL_SHARED_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default_data, help="the shared data folder")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the fast lookups; the best counts")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    print(
        f"machine: {usable_cpus()} CPUs (nproc), {cpu_model()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pygeoip {pygeoip.__version__}"
    )
    rng = np.random.default_rng(args.seed)
    ips = rng.integers(0, 2**32, args.n, dtype=np.uint64).astype(np.uint32)
    strings = [socket.inet_ntoa(struct.pack("!I", i)) for i in ips.tolist()]

    folder = args.data / "geoip-legacy"
    first_country: float | None = None
    for name, org in [*((f, False) for f in COUNTRY_FILES), *((f, True) for f in ASN_FILES)]:
        path = folder / name
        if not path.is_file():
            print(f"{path}: absent, skipped")
            continue
        per = bench_legacy(path, org, ips, strings, args.repeat)
        if not org and first_country is None:
            first_country = per
    bench_iptocc(ips, strings, args.repeat, first_country)


if __name__ == "__main__":
    main()
