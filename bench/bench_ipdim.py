"""Benchmark: building the IP dimension (parse, classify, geolocate every distinct address once).

    python bench/bench_ipdim.py                          # 1M distinct IPv4, 200k distinct IPv6, best of 3
    python bench/bench_ipdim.py --v4 2000000 --v6 500000 --repeat 5

Addresses come from a registered Arrow table, as the pipeline's distinct-address query hands them over;
the country provider is the embedded default (iptocc, which covers IPv6), no AS database. The IPv4 set is
canonical dotted quads (the fast pass); the IPv6 set mixes the spellings a capture holds: 90% canonical,
10% upper case or with zero groups written out, which all go through the full parser. A benchmark, not a
test: it prints the machine it ran on.
"""

from __future__ import annotations

import argparse
import ipaddress
import platform
import time

import duckdb
import numpy as np
import pyarrow as pa

from machine import cpu_model, load_average, total_ram_gb, usable_cpus  # bench/machine.py
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.enrich import ipdim, netclass
from sentinel.enrich.geo import open_country_db


def ipv4_texts(n: int, rng: np.random.Generator) -> list[str]:
    values = rng.choice(2**32, size=n, replace=False).astype(np.uint32)
    octets = [(values >> np.uint32(s)) & np.uint32(0xFF) for s in (24, 16, 8, 0)]
    return [".".join(map(str, q)) for q in zip(*(o.tolist() for o in octets), strict=True)]


def ipv6_texts(n: int, rng: np.random.Generator) -> list[str]:
    """Public-looking addresses (2000::/3, a few thousand /32s), one in ten spelt non-canonically."""
    prefixes = rng.integers(0x2000_0000, 0x3FFF_FFFF, size=4000)
    texts = set()
    while len(texts) < n:
        hi = int(rng.choice(prefixes)) << 32 | int(rng.integers(0, 2**16)) << 16
        value = hi << 64 | int(rng.integers(0, 2**64, dtype=np.uint64))
        address = ipaddress.IPv6Address(value)
        texts.add(address.exploded.upper() if rng.random() < 0.1 else str(address))
    return sorted(texts)


def best_time(engine: DuckDBEngine, texts: list[str], repeat: int) -> tuple[float, ipdim.IpDimension]:
    engine.register("bench_ips", pa.table({"ip": pa.array(texts, pa.string())}))
    internal = netclass.parse_cidrs(netclass.DEFAULT_INTERNAL, "--internal")
    country = open_country_db(None)
    best, dim = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        dim = ipdim.build(engine, "SELECT ip FROM bench_ips", internal, country, None)
        best = min(best, time.perf_counter() - start)
    assert dim is not None
    return best, dim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--v4", type=int, default=1_000_000, help="distinct IPv4 addresses")
    parser.add_argument("--v6", type=int, default=200_000, help="distinct IPv6 addresses")
    parser.add_argument("--repeat", type=int, default=3, help="runs per set; the best is reported")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = parser.parse_args()
    ram = total_ram_gb()
    print(
        f"machine: {usable_cpus()} CPUs (nproc), {cpu_model()}, {ram:.1f} GB RAM, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, numpy {np.__version__}, pyarrow {pa.__version__}, load {load_average()}"
    )
    rng = np.random.default_rng(0)
    engine = DuckDBEngine(threads=args.threads)
    for label, texts in (("IPv4", ipv4_texts(args.v4, rng)), ("IPv6", ipv6_texts(args.v6, rng))):
        seconds, dim = best_time(engine, texts, args.repeat)
        print(
            f"{label}: {len(texts):,} distinct addresses in {seconds:.3f} s (best of {args.repeat}): "
            f"{len(texts) / seconds:,.0f} addresses/s; {len(dim.bad)} not addresses, {len(dim.aliases):,} aliases"
        )


if __name__ == "__main__":
    main()
