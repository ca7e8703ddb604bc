"""Benchmark: rows per second of the mapped CSV reader ("csv", --map) on a synthetic Argus-like CSV.

    python bench/bench_mapped.py                 # 2M rows, 3 repeats
    python bench/bench_mapped.py --rows 10000000 --repeat 5

Each repeat opens the sources as a run does (sentinel.sources.registry.open_sources: header sniffing, the
time column's unit guessed from one pass over it, unless --time-unit) and asks the engine
`SELECT count(*), sum(up_bytes) FROM raw_flows`. Printed: the median time and rows/s, with the time unit
given (no guessing pass) and guessed. The CSV is written once into --workdir and kept for the next run.

A benchmark, not a test: nothing is asserted on speed.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from machine import cpu_model, load_average, usable_cpus  # bench/machine.py
from sentinel.config import parse_mapping
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.sources.base import ReadOptions
from sentinel.sources.registry import open_sources

MAP = "ts=StartTime,src_ip=SrcAddr,dst_ip=DstAddr,proto=Proto,port=Dport,up_bytes=SrcBytes,down_bytes=DstBytes"


def write_csv(path: Path, rows: int) -> None:
    # Epoch seconds with milliseconds, as Argus `ra -c ,` writes them; 200 hosts, 10k destinations.
    duckdb.sql(
        f"""COPY (SELECT round(1713484800 + i * 0.0131, 3) AS StartTime, '192.168.1.' || (i % 200) AS SrcAddr,
                  '8.' || (i % 97) || '.' || (i % 103) || '.' || (i % 7) AS DstAddr,
                  CASE WHEN i % 3 = 0 THEN 'udp' ELSE 'tcp' END AS Proto, (i * 7919) % 65536 AS Dport,
                  (i * 31) % 100000 AS SrcBytes, (i * 17) % 1000000 AS DstBytes, i % 9 AS Dur
                  FROM range({rows}) t(i)) TO '{path}' (HEADER)"""
    )


def once(path: Path, time_unit: str | None) -> tuple[float, tuple[int, int]]:
    options = ReadOptions(mapping=parse_mapping(MAP), time_unit=time_unit)
    start = time.perf_counter()
    engine = DuckDBEngine()
    try:
        open_sources(engine, [str(path)], options)
        result = engine.query("SELECT count(*) AS n, sum(up_bytes)::BIGINT AS up FROM raw_flows").to_pylist()[0]
    finally:
        engine.close()
    return time.perf_counter() - start, (result["n"], result["up"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sentinel-bench-mapped")
    args = p.parse_args()
    print(
        f"machine: {usable_cpus()} CPUs (nproc), {cpu_model()}, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}"
    )
    print(f"load average before: {load_average()}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / f"mapped-{args.rows}.csv"
    if not path.exists():
        write_csv(path, args.rows)
    print(f"input: {path} ({args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB)")
    for label, unit in (("--time-unit s", "s"), ("unit guessed", None)):
        times = []
        for _ in range(args.repeat):
            seconds, (n, _) = once(path, unit)
            assert n == args.rows, (n, args.rows)
            times.append(seconds)
        median = statistics.median(times)
        print(f"{label:>14}: median {median:.3f} s of {args.repeat}, {args.rows / median / 1e6:.2f}M rows/s")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
