"""Benchmark: how fast each input format is read, through the reader registry as a run reads it.

    python bench/bench_readers.py                       # 2M rows per format
    python bench/bench_readers.py --rows 500000 --repeat 5 --formats zeek-tsv,zeek-json

Synthetic files of the same flows are written into a temporary folder (removed at the end) in each
format: course Parquet, Zeek TSV plain / gzip / zstd, Zeek JSON lines. Each is then read in-process
through `sentinel.sources.registry.open_sources` and two queries over the `raw_flows` view:

- count+sum: `SELECT count(*), sum(up_bytes) FROM raw_flows` (what the brief measures; the engine reads
  and converts only the columns it needs);
- validate: the first pass of a run, every canonical column converted and checked (MALFORMED rules).

The median of --repeat runs is printed as wall seconds, rows per second and CPU seconds (all threads of
this process: on a shared machine, less disturbed by other work than wall time). A benchmark, not a
test: nothing is asserted on speed.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import duckdb

from machine import cpu_model, load_average, total_ram_gb, usable_cpus  # bench/machine.py
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.sources.base import WELL_FORMED_SQL, ReadOptions
from sentinel.sources.registry import open_sources

FORMATS = ("course-parquet", "zeek-tsv", "zeek-tsv-gz", "zeek-tsv-zst", "zeek-json")
ZEEK_FIELDS = (
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state "
    "local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents"
)
ZEEK_TYPES = (
    "time string addr port addr port enum string interval count count string bool bool count string count count "
    "count count set[string]"
)
START = 1_713_484_800  # 2024-04-19 00:00 UTC

# One synthetic day of flows: N rows, deterministic, a fifth of them with unset payload counters.
FLOWS_SQL = f"""
SELECT {START}::BIGINT * 1000000 + (i * 86400000000 // $n) AS ts_us,
       'C' || lpad(i::VARCHAR, 17, '0') AS uid,
       '192.168.' || (i % 200) || '.' || (i // 200 % 250 + 1) AS orig_h,
       1024 + hash(i) % 60000 AS orig_p,
       (hash(i, 1) % 223 + 1) || '.' || (i % 251) || '.' || (i % 7) || '.' || (i % 13 + 1) AS resp_h,
       [53, 80, 443, 22, 123][i % 5 + 1] AS resp_p,
       CASE WHEN i % 5 = 0 THEN 'udp' ELSE 'tcp' END AS proto,
       CASE WHEN i % 3 = 0 THEN '-' ELSE 'ssl' END AS service,
       (hash(i, 2) % 1000000) / 1000000.0 AS duration,
       CASE WHEN i % 5 = 4 THEN NULL ELSE hash(i, 3) % 100000 END AS orig_bytes,
       CASE WHEN i % 5 = 4 THEN NULL ELSE hash(i, 4) % 10000000 END AS resp_bytes,
       CASE WHEN i % 5 = 4 THEN 'S0' ELSE 'SF' END AS conn_state,
       10 AS orig_pkts, 12 AS resp_pkts
FROM range($n) t(i)
"""


def write_inputs(folder: Path, rows: int, formats: list[str]) -> dict[str, Path]:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE f AS {FLOWS_SQL}", {"n": rows})
    out: dict[str, Path] = {}
    if "course-parquet" in formats:
        path = folder / "course.parquet"
        con.execute(
            f"COPY (SELECT ((ts_us - {START}::BIGINT * 1000000) // 10000)::BIGINT AS timestamp, orig_h AS src_ip, "
            "resp_h AS dst_ip, proto, resp_p::INTEGER AS port, coalesce(orig_bytes, 0)::BIGINT AS up_bytes, "
            f"coalesce(resp_bytes, 0)::BIGINT AS down_bytes FROM f) TO '{path}' (FORMAT parquet)"
        )
        out["course-parquet"] = path
    tsv_formats = [f for f in formats if f.startswith("zeek-tsv")]
    if tsv_formats:
        body = folder / "body.tsv"
        # Zeek's TSV: ts with six decimals, '-' for unset values; nothing here needs quoting.
        con.execute(
            "COPY (SELECT printf('%d.%06d', ts_us // 1000000, ts_us % 1000000), uid, orig_h, orig_p, resp_h, "
            "resp_p, proto, service, printf('%.6f', duration), coalesce(orig_bytes::VARCHAR, '-'), "
            "coalesce(resp_bytes::VARCHAR, '-'), conn_state, 'T', 'F', 0, 'ShADadFf', orig_pkts, "
            "orig_pkts * 60, resp_pkts, resp_pkts * 1400, '(empty)' FROM f) "
            f"TO '{body}' (FORMAT csv, DELIMITER '\t', HEADER false)"
        )
        header = (
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
            f"#open\t2024-04-19-00-00-00\n#fields\t{ZEEK_FIELDS.replace(' ', chr(9))}\n"
            f"#types\t{ZEEK_TYPES.replace(' ', chr(9))}\n"
        ).encode()
        close = b"#close\t2024-04-20-00-00-00\n"
        plain = folder / "conn.log"
        with plain.open("wb") as fh, body.open("rb") as src:
            fh.write(header)
            shutil.copyfileobj(src, fh, 1 << 20)
            fh.write(close)
        body.unlink()
        if "zeek-tsv" in tsv_formats:
            out["zeek-tsv"] = plain
        for name, compression, suffix in (("zeek-tsv-gz", "gzip", ".gz"), ("zeek-tsv-zst", "zstd", ".zst")):
            if name in tsv_formats:
                path = folder / f"conn.log{suffix}"
                _compress(plain, path, compression)
                out[name] = path
        if "zeek-tsv" not in tsv_formats:
            plain.unlink()
    if "zeek-json" in formats:
        path = folder / "conn.json"
        con.execute(
            'COPY (SELECT (ts_us / 1000000)::DOUBLE AS ts, uid, orig_h AS "id.orig_h", orig_p AS "id.orig_p", '
            'resp_h AS "id.resp_h", resp_p AS "id.resp_p", proto, nullif(service, \'-\') AS service, duration, '
            "orig_bytes, resp_bytes, conn_state, orig_pkts, resp_pkts FROM f) "
            f"TO '{path}' (FORMAT json)"
        )
        out["zeek-json"] = path
    con.close()
    return out


def _compress(src: Path, dst: Path, compression: str) -> None:
    if compression == "gzip":
        import gzip

        with src.open("rb") as fin, gzip.open(dst, "wb", compresslevel=6) as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    else:
        import zstandard

        with src.open("rb") as fin, dst.open("wb") as fout:
            zstandard.ZstdCompressor(level=3).copy_stream(fin, fout)


def measure(path: Path, query: str) -> tuple[float, float, tuple]:
    """Wall seconds, CPU seconds of this process (every thread) and the query's result."""
    engine = DuckDBEngine()
    try:
        start, cpu = time.perf_counter(), time.process_time()
        open_sources(engine, [str(path)], ReadOptions())
        result = tuple(engine.query(query).to_pylist()[0].values())
        return time.perf_counter() - start, time.process_time() - cpu, result
    finally:
        engine.close()


QUERIES = {
    "count+sum": "SELECT count(*) AS n, sum(up_bytes) AS up FROM raw_flows",
    "validate": f"SELECT count(*) AS n, count(*) FILTER (WHERE {WELL_FORMED_SQL}) AS ok, min(ts) AS first, "
    "max(ts) AS last, sum(up_bytes) AS up, sum(down_bytes) AS down FROM raw_flows",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows per file (default 2M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format and query (default 3)")
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, of: {', '.join(FORMATS)}")
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or args.rows < 1 or args.repeat < 1:
        parser.error(f"unknown format(s) {', '.join(unknown)}" if unknown else "--rows and --repeat must be >= 1")

    ram = total_ram_gb()
    print(
        f"machine: {usable_cpus()} CPUs (nproc), {cpu_model()}, "
        f"{f'{ram:.1f} GB RAM' if ram else 'RAM unknown'}, {platform.system()} {platform.release()}"
    )
    print(f"software: Python {platform.python_version()}, duckdb {version('duckdb')}")
    print(f"load average before: {load_average()}  (other work on the machine makes every number slower)")
    folder = Path(tempfile.mkdtemp(prefix="sentinel-bench-readers-"))
    try:
        start = time.perf_counter()
        files = write_inputs(folder, args.rows, formats)
        print(f"wrote {len(files)} file(s) of {args.rows:,} rows in {time.perf_counter() - start:.1f} s\n")
        print(f"{'format':<16} {'size MB':>8} {'query':<10} {'median s':>9} {'rows/s':>12} {'CPU s':>6}")
        for name in formats:
            path = files[name]
            for label, query in QUERIES.items():
                runs = [measure(path, query) for _ in range(args.repeat)]
                seconds = statistics.median(s for s, _, _ in runs)
                cpu = statistics.median(c for _, c, _ in runs)
                rows = runs[0][2][0]
                if rows != args.rows:
                    print(f"{name}: read {rows} rows, expected {args.rows}", file=sys.stderr)
                    return 1
                size = path.stat().st_size / 1e6
                print(f"{name:<16} {size:>8.1f} {label:<10} {seconds:>9.2f} {rows / seconds:>12,.0f} {cpu:>6.2f}")
        print(f"\nload average after: {load_average()}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
