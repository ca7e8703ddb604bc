"""Benchmark: would integer-encoded addresses in an imported dataset make the analyses faster?

    python bench/bench_address_encoding.py --flows 10000000
    python bench/bench_address_encoding.py --data DATASET/ --repeat 1     # flows you have (e.g. 100M)

Writes the same flows twice as zstd Parquet, addresses as dotted text and as uint32, and times the
aggregations the analyses run (per destination; per (source, destination) pair, which beacon-style detectors
need) on each, best of --repeat (3) in one DuckDB connection. The flows are simulated (`sentinel simulate
--seed 1`), or read from --data: a Parquet file or a folder of them (a dataset of `sentinel import`, course or
canonical columns; IPv4 only). With --data, each query also runs once in a process of its own, whose peak
memory is printed. A benchmark, not a test: nothing is asserted.
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


# Each aggregation is summed up in the engine, so that what is timed is the aggregation, not turning
# millions of result rows into Python objects.
QUERIES = {
    "per destination": "SELECT count(*), sum(n), sum(up), sum(down) FROM (SELECT {dst}, count(*) AS n, "
    "sum(up_bytes) AS up, sum(down_bytes) AS down FROM {t} GROUP BY 1)",
    "per (source, destination)": "SELECT count(*), sum(n), sum(up), min(first) FROM (SELECT {src}, {dst}, "
    "count(*) AS n, sum(up_bytes) AS up, min(timestamp) AS first FROM {t} GROUP BY ALL)",
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flows", type=int, default=10_000_000)
    p.add_argument("--data", type=Path, help="a Parquet file or folder of them to encode instead of a simulated day")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sentinel-bench-encoding")
    args = p.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.data:
        day = f"{args.data}/**/*.parquet" if args.data.is_dir() else str(args.data)
        tag = "data"
    else:
        path = args.workdir / f"day-{args.flows}.parquet"
        if not path.exists():
            cmd = [sys.executable, "-m", "sentinel", "simulate", str(path), "--flows", str(args.flows), "--seed", "1"]
            subprocess.run(cmd, check=True)
        day, tag = str(path), "day"
    text, ints = args.workdir / f"{tag}-text.parquet", args.workdir / f"{tag}-int.parquet"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    source = f"read_parquet('{day}', union_by_name = true)"
    columns = {name for name, *_ in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    ts = "timestamp" if "timestamp" in columns else "ts AS timestamp"
    rest = "proto, port, up_bytes, down_bytes"
    con.execute(
        f"COPY (SELECT {ts}, src_ip, dst_ip, {rest} FROM {source}) TO '{text}' (FORMAT parquet, COMPRESSION zstd)"
    )
    con.execute(
        f"COPY (SELECT {ts}, {_v4('src_ip')} AS src_ip, {_v4('dst_ip')} AS dst_ip, {rest} FROM {source}) "
        f"TO '{ints}' (FORMAT parquet, COMPRESSION zstd)"
    )
    flows = con.sql(f"SELECT count(*) FROM '{text}'").fetchall()[0][0]
    print(f"machine: {cpu_model()}, {usable_cpus()} cores, {total_ram_gb():.1f} GB RAM, load {load_average()}")
    print(
        f"{flows:,} flows; text file {text.stat().st_size / 1e6:.0f} MB, uint32 file {ints.stat().st_size / 1e6:.0f} MB"
    )
    for name, query in QUERIES.items():
        best = {}
        for kind, path in (("text", text), ("uint32", ints)):
            sql = query.format(src="src_ip", dst="dst_ip", t=f"'{path}'")
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                con.sql(sql).fetchall()
                times.append(time.perf_counter() - start)
            best[kind] = min(times)
        print(
            f"{name}: text {best['text']:.3f} s, uint32 {best['uint32']:.3f} s "
            f"({best['text'] / best['uint32']:.2f}x faster with integers)"
        )
        if args.data:
            peaks = {
                kind: peak_mb(query.format(src="src_ip", dst="dst_ip", t=f"'{path}'"))
                for kind, path in (("text", text), ("uint32", ints))
            }
            print(
                f"  peak memory of a process running it alone: text {peaks['text']:,} MB, uint32 {peaks['uint32']:,} MB"
            )
    return 0


def peak_mb(sql: str) -> int:
    """The peak resident memory (MB) of a fresh Python process that runs `sql` in DuckDB and fetches it: its
    own VmHWM (ru_maxrss would count the memory this process held when it started the child)."""
    code = (
        "import duckdb; c = duckdb.connect(); c.execute('SET enable_progress_bar = false'); "
        f"c.sql({sql!r}).fetchall(); "
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out.strip()) // 1024


if __name__ == "__main__":
    raise SystemExit(main())
