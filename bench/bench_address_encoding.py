"""Benchmark: would integer-encoded addresses in an imported dataset make the analyses faster?

    python bench/bench_address_encoding.py --flows 10000000

Writes the same simulated flows twice as zstd Parquet, addresses as dotted text and as uint32, and times the
aggregations the analyses run (per destination; per (source, destination) pair, which beacon-style detectors
need) on each, best of 3 in one DuckDB connection. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from machine import cpu_model, load_average, total_ram_gb, usable_cpus  # bench/machine.py


def _v4(column: str) -> str:
    parts = " + ".join(f"split_part({column}, '.', {i + 1})::UBIGINT * {256 ** (3 - i)}" for i in range(4))
    return f"({parts})::UINTEGER"


QUERIES = {
    "per destination": "SELECT {dst}, count(*), sum(up_bytes), sum(down_bytes) FROM {t} GROUP BY 1",
    "per (source, destination)": "SELECT {src}, {dst}, count(*), sum(up_bytes), min(timestamp) FROM {t} GROUP BY ALL",
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flows", type=int, default=10_000_000)
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sentinel-bench-encoding")
    args = p.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    day = args.workdir / f"day-{args.flows}.parquet"
    if not day.exists():
        cmd = [sys.executable, "-m", "sentinel", "simulate", str(day), "--flows", str(args.flows), "--seed", "1"]
        subprocess.run(cmd, check=True)
    text, ints = args.workdir / "text.parquet", args.workdir / "int.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM '{day}') TO '{text}' (FORMAT parquet, COMPRESSION zstd)")
    con.execute(
        f"COPY (SELECT timestamp, {_v4('src_ip')} AS src_ip, {_v4('dst_ip')} AS dst_ip, proto, port, up_bytes, "
        f"down_bytes FROM '{day}') TO '{ints}' (FORMAT parquet, COMPRESSION zstd)"
    )
    print(f"machine: {cpu_model()}, {usable_cpus()} cores, {total_ram_gb():.1f} GB RAM, load {load_average()}")
    print(
        f"{args.flows:,} flows; text file {text.stat().st_size / 1e6:.0f} MB, "
        f"uint32 file {ints.stat().st_size / 1e6:.0f} MB"
    )
    for name, query in QUERIES.items():
        best = {}
        for kind, path in (("text", text), ("uint32", ints)):
            sql = query.format(src="src_ip", dst="dst_ip", t=f"'{path}'")
            times = []
            for _ in range(3):
                start = time.perf_counter()
                con.sql(sql).fetchall()
                times.append(time.perf_counter() - start)
            best[kind] = min(times)
        print(
            f"{name}: text {best['text']:.3f} s, uint32 {best['uint32']:.3f} s "
            f"({best['text'] / best['uint32']:.2f}x faster with integers)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
