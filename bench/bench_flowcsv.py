"""Benchmark: rows per second reading Argus and nfdump CSV through Sentinel's readers.

    python bench/bench_flowcsv.py                  # 2M rows per format, best of 3
    python bench/bench_flowcsv.py --rows 500000 --repeat 5

Writes a synthetic Argus binetflow file and an nfdump CSV export (with its Summary block) of --rows rows
each into a temporary folder, then times `open_sources` + `SELECT count(*), sum(up_bytes) FROM raw_flows`
(the scan every run starts with: text parsing, time parsing and the casts to the canonical columns).
A benchmark, not a test: nothing is asserted on speed; it prints the machine it ran on.
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
from pathlib import Path

from machine import cpu_model, load_average, total_ram_gb, usable_cpus  # bench/machine.py
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.sources.base import ReadOptions
from sentinel.sources.registry import open_sources

ARGUS_HEADER = (
    "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,SrcPkts,Label"
)
NFDUMP_HEADER = (
    "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,"
    "ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr"
)
NFDUMP_TAIL = (
    "0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,"
    + ",".join(["0-0-0"] * 10)
    + ",    0.000,    0.000,    0.000,10.0.0.1,0/0,1,1970-01-01 00:00:00.000"
)
START = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def _flows(rows: int, seed: int):
    rng = random.Random(seed)
    for i in range(rows):
        second = START + i * 86_400 // rows
        micros = rng.randrange(1_000_000)
        proto = rng.choice(("tcp", "tcp", "tcp", "udp", "udp", "icmp"))
        src = f"192.168.{rng.randrange(4)}.{rng.randrange(1, 255)}"
        dst = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        sport = rng.randrange(1024, 65536)
        dport = rng.choice((53, 80, 443, 443, 22, 8080)) if proto != "icmp" else 0
        up = rng.randrange(40, 20_000)
        down = rng.randrange(0, 200_000)
        packets = rng.randrange(1, 100)
        yield second, micros, proto, src, dst, sport, dport, up, down, packets


def write_argus(path: Path, rows: int) -> int:
    total_up = 0
    with path.open("w") as fh:
        fh.write(ARGUS_HEADER + "\n")
        for second, micros, proto, src, dst, sport, dport, up, down, packets in _flows(rows, 1):
            when = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(second))
            ports = (f"0x{sport % 256:04x}", f"0x{dport:04x}") if proto == "icmp" else (sport, dport)
            fh.write(
                f"{when}.{micros:06d},{packets * 0.01:.6f},{proto},{src},{ports[0]},   ->,{dst},{ports[1]},CON,0,0,"
                f"{packets + 1},{up + down},{up},{packets},\n"
            )
            total_up += up
    return total_up


def write_nfdump(path: Path, rows: int) -> int:
    total_up = 0
    with path.open("w") as fh:
        fh.write(NFDUMP_HEADER + "\n")
        for second, micros, proto, src, dst, sport, dport, up, _down, packets in _flows(rows, 2):
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
            fh.write(
                f"{when}.{micros // 1000:03d},{when}.{micros // 1000:03d},0.000,{src},{dst},{sport},{dport},"
                f"{proto.upper()},......S.,0,0,{packets},{up},0,0,{NFDUMP_TAIL}\n"
            )
            total_up += up
        fh.write(f"Summary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n{rows},{total_up},{rows},0,0,0\n")
    return total_up


#: The scan the brief times, then every canonical column (what a run's validating first pass reads).
QUERIES = {
    "count+sum": "SELECT count(*) AS n, sum(up_bytes) AS up FROM raw_flows",
    "all cols": "SELECT count(*) AS n, sum(up_bytes) AS up, sum(down_bytes), min(ts), max(ts), count(src_ip), "
    "count(dst_ip), count(proto), count(port) FROM raw_flows",
}


def measure(path: Path, repeat: int, query: str) -> tuple[float, int, int]:
    best = float("inf")
    count = up = 0
    for _ in range(repeat):
        engine = DuckDBEngine()
        try:
            started = time.perf_counter()
            open_sources(engine, [str(path)], ReadOptions())
            count, up = list(engine.query(query).to_pylist()[0].values())[:2]
            best = min(best, time.perf_counter() - started)
        finally:
            engine.close()
    return best, int(count), int(up)


def floor(path: Path, repeat: int) -> float:
    """A bare DuckDB count of the same file (every column text): the cost of tokenising it at all."""
    import duckdb

    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        duckdb.sql(f"SELECT count(*) FROM read_csv('{path}', all_varchar = true, null_padding = true)").fetchall()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ram = total_ram_gb()
    print(
        f"machine: {usable_cpus()} CPUs (nproc), {cpu_model()}, "
        + (f"{ram:.1f} GB RAM, " if ram else "")
        + f"Python {platform.python_version()}"
    )
    print(f"load average before: {load_average()}")
    status = 0
    with tempfile.TemporaryDirectory(prefix="sentinel-bench-flowcsv-") as tmp:
        for name, writer, suffix in (("argus", write_argus, "binetflow"), ("nfdump", write_nfdump, "csv")):
            path = Path(tmp) / f"flows.{suffix}"
            expected_up = writer(path, args.rows)
            size = path.stat().st_size / 1e6
            for label, query in QUERIES.items():
                seconds, count, up = measure(path, args.repeat, query)
                ok = count == args.rows and up == expected_up
                status |= 0 if ok else 1
                print(
                    f"{name:7s} {label:9s} {args.rows:,} rows, {size:.0f} MB: best of {args.repeat} "
                    f"{seconds:.2f} s = {args.rows / seconds / 1e6:.2f} M rows/s"
                    + ("" if ok else f"  WRONG: {count} rows, up {up} (expected {args.rows}, {expected_up})")
                )
            seconds = floor(path, args.repeat)
            print(f"{name:7s} {'bare scan':9s} DuckDB read_csv count(*): {args.rows / seconds / 1e6:.2f} M rows/s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
