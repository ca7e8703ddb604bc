"""Benchmark: would one shared (source, destination, protocol, port) table pay for three passes over 100M flows?

    python bench/bench_pair_table.py --data /tmp/sentinel-bench-scale/days-10x10000000

Three of `--all`'s passes group the flows by address: the per-destination totals (`-cv` and the address
dimension), beacon's pair count, and the per-source pass of `-dx`/`-bn`. This script times them as they are
(over the flows), then builds one table per (source, destination, protocol, port) with the figures all three
need (flows, bytes each way, first and last start, and the flows and bytes up where a flow sent more than it
received, which the per-source pass keeps apart), times the first two again over that table, and prints the
memory DuckDB holds for it. The dataset is one `sentinel import` wrote with address ids (`bench_scale.py
--days` makes one); internal addresses are taken as private IPv4 (10/8, 172.16/12, 192.168/16) for all
variants alike. Plain DuckDB on this process's threads; a benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

from machine import cpu_model, load_average, usable_cpus  # bench/machine.py

PRIVATE = "ip LIKE '10.%' OR ip LIKE '192.168.%' OR regexp_matches(ip, '^172\\.(1[6-9]|2[0-9]|3[01])\\.')"

DST_TOTALS = "SELECT dst_id, count(*), sum(up_bytes), sum(down_bytes) FROM flows GROUP BY dst_id"
PAIR_COUNT = """
    WITH a AS (SELECT src_id AS src, dst_id AS dst, count(*) AS n, min(ts) AS f, max(ts) AS l FROM flows GROUP BY 1, 2),
    p AS (SELECT * FROM a WHERE src IN (SELECT id FROM internal) OR dst IN (SELECT id FROM internal)),
    d AS (SELECT dst, count(*) AS c FROM p GROUP BY dst), s AS (SELECT src, count(*) AS c FROM p GROUP BY src)
    SELECT p.*, d.c, s.c FROM p JOIN d USING (dst) JOIN s USING (src) WHERE n >= 3"""
PER_SOURCE = """
    SELECT src_id, dst_id IN (SELECT id FROM internal) AS inside,
           CASE WHEN dst_id IN (SELECT id FROM internal) OR up_bytes > down_bytes THEN dst_id END AS dst,
           CASE WHEN dst_id IN (SELECT id FROM internal) THEN proto END AS proto,
           CASE WHEN dst_id IN (SELECT id FROM internal) THEN port END AS port,
           count(*), sum(up_bytes), sum(down_bytes), min(ts), max(ts)
    FROM flows WHERE src_id IN (SELECT id FROM internal) GROUP BY ALL"""
BUILD = """
    CREATE TABLE pairs AS
    SELECT src_id AS src, dst_id AS dst, proto, port, count(*) AS n, sum(up_bytes) AS up, sum(down_bytes) AS down,
           min(ts) AS f, max(ts) AS l, count(*) FILTER (WHERE up_bytes > down_bytes) AS n_up,
           sum(up_bytes) FILTER (WHERE up_bytes > down_bytes) AS up_up
    FROM flows GROUP BY ALL"""
DST_FROM_PAIRS = "SELECT dst, sum(n), sum(up), sum(down) FROM pairs GROUP BY dst"
PAIR_COUNT_FROM_PAIRS = PAIR_COUNT.replace(
    "SELECT src_id AS src, dst_id AS dst, count(*) AS n, min(ts) AS f, max(ts) AS l FROM flows GROUP BY 1, 2",
    "SELECT src, dst, sum(n) AS n, min(f) AS f, max(l) AS l FROM pairs GROUP BY 1, 2",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a dataset `sentinel import` wrote (with address ids)")
    args = parser.parse_args()
    files = Path(args.data) / "day=*" / "*.parquet"
    addresses = Path(args.data) / "_sentinel" / "addresses.parquet"
    if not addresses.is_file():
        sys.exit(f"bench_pair_table: {addresses} not found: give a dataset imported with address ids")
    print(f"machine: {usable_cpus()} CPUs, {cpu_model()}; load average before: {load_average()}")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW flows AS SELECT * FROM read_parquet('{files}')")
    con.execute(f"CREATE TABLE internal AS SELECT id FROM read_parquet('{addresses}') WHERE {PRIVATE}")
    flows = con.sql("SELECT count(*) FROM flows").fetchall()[0][0]
    print(f"dataset: {args.data}, {flows:,} flows")

    def timed(label: str, sql: str) -> float:
        began = time.perf_counter()
        if sql.lstrip().startswith(("SELECT", "WITH")):
            con.sql(sql).to_arrow_table()  # the result as Sentinel takes it
        else:
            con.execute(sql)
        seconds = time.perf_counter() - began
        print(f"{seconds:7.2f} s  {label}")
        return seconds

    today = sum(
        timed(label, sql)
        for label, sql in (
            ("per-destination totals, over the flows", DST_TOTALS),
            ("beacon's pair count, over the flows", PAIR_COUNT),
            ("the per-source pass, over the flows", PER_SOURCE),
        )
    )
    build = timed("building the shared (source, destination, protocol, port) table", BUILD)
    rows = con.sql("SELECT count(*) FROM pairs").fetchall()[0][0]
    held = con.sql("SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'").fetchall()[0][0]
    print(f"         the table: {rows:,} rows, {(held or 0) / 2**30:.1f} GB held")
    shared = build + sum(
        timed(label, sql)
        for label, sql in (
            ("per-destination totals, over the table", DST_FROM_PAIRS),
            ("beacon's pair count, over the table", PAIR_COUNT_FROM_PAIRS),
        )
    )
    print(f"the three passes over the flows: {today:.1f} s; the table and two of them over it: {shared:.1f} s")
    print("  (the per-source pass over the table is not timed: it would add to the second figure)")
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
