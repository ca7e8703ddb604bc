"""Benchmark: the floor of a run's passes: each query over the flows timed again, warm, against a bare scan.

    python bench/bench_pass_floor.py                  # the original's four analyses on the 10M-flow course file
    python bench/bench_pass_floor.py --repeat 5 -- --all

Runs `sentinel --data FILE -gi ... -gin ... -cv -td -dx 90 -bn 192.168.104.0/24 -q` (no report, so no chart
drawn beside the passes; or the options given after `--`) on DuckDB in this process. Each query that reads the
flows (the `flows` or `raw_flows` view) is run as the run makes it, then --repeat times more on the same
connection, its result kept as a temporary table as the run keeps its own, and its fastest time printed; so
is bench_speed.py's bare scan query, on the same connection, before the run. What a whole run adds (Python's
start-up, the address dimension, the report) is left out: the sum of the fastest times over the scan's is the
least the analyses' passes cost, as written, on this machine.

For the four analyses, one more query bounds any design from below: their three groupings of the flows (per
destination for -cv, per source and hour for -td, per internal source and kept destination for -dx/-bn) in one
scan (GROUPING SETS), on a connection of its own, fastest of --repeat. What -dx then reads again (the alerting
hosts' hours), the address dimension, Python and the report come on top of it. A benchmark, not a test:
nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_passes import ANALYSES, GEOIP  # bench/bench_passes.py: the same run
from bench_speed import scan_sql  # bench/bench_speed.py: the bare scan, its floor
from machine import cpu_model, load_average, usable_cpus  # bench/machine.py

REPO = Path(__file__).resolve().parents[1]
READS_FLOWS = re.compile(r"\b(?:FROM|JOIN)\s+(?:raw_)?flows\b", re.IGNORECASE)


def fastest(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sentinel-bench")
    parser.add_argument("--data", help="input (default: the 10M-flow capture bench_speed.py makes in --workdir)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each query after the first (default 3)")
    parser.add_argument("options", nargs="*", help="after --: Sentinel's options instead of the four analyses")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    data = Path(args.data or args.workdir / "flows-10000000-seed1-attacks.parquet")
    if not data.is_file() or data.suffix != ".parquet":
        sys.exit(f"bench_pass_floor: {data} is not a Parquet file: run bench/bench_speed.py first, or give --data")
    shared = Path(os.environ.get("SENTINEL_SHARED_DATA", REPO.parent / "shared" / "data")) / "geoip-legacy"
    geoip = ["-gi", str(shared / GEOIP[0]), "-gin", str(shared / GEOIP[1])] if (shared / GEOIP[0]).is_file() else []

    from sentinel import cli
    from sentinel.context import Context
    from sentinel.engines.duckdb_engine import DuckDBEngine

    non_public: list[str] = []  # the run's condition on a flow's destination, for the one-scan query
    given = Context.non_public_destination

    def recording(ctx: Context) -> str:
        non_public.append(given(ctx))
        return non_public[-1]

    Context.non_public_destination = recording  # type: ignore[method-assign, assignment]

    passes: list[tuple[float, float, str]] = []  # (as run, fastest again, sql)
    original = DuckDBEngine.query
    scan: list[float] = []

    def query(self: DuckDBEngine, sql: str, params: list | None = None) -> object:
        if not scan:
            scan.append(
                fastest(
                    lambda: self._con.execute(f"CREATE OR REPLACE TEMP TABLE _floor AS {scan_sql(data)}"), args.repeat
                )
            )
        began = time.perf_counter()
        result = original(self, sql, params)
        first = time.perf_counter() - began
        if READS_FLOWS.search(sql):
            again = fastest(
                lambda: self._con.execute(f"CREATE OR REPLACE TEMP TABLE _floor AS {sql}", params or []), args.repeat
            )
            passes.append((first, again, " ".join(sql.split())))
        return result

    DuckDBEngine.query = query  # type: ignore[method-assign]
    argv = ["--data", str(data), *geoip, *(args.options or ANALYSES), "-q", "--engine", "duckdb"]
    print(f"machine: {usable_cpus()} CPUs, {cpu_model()}; load average before: {load_average()}")
    print(f"sentinel {' '.join(argv)}")
    began = time.perf_counter()
    status = cli.main(argv)
    print(f"the run, timed queries included: {time.perf_counter() - began:.2f} s, exit status {status}\n")
    print(f"{'as run':>7} {'fastest':>8}  query over the flows (fastest of {args.repeat} more, on one connection)")
    print(f"{'':>7} {scan[0]:8.3f}  the bare scan: {scan_sql(data)[:90]}")
    for first, again, sql in passes:
        print(f"{first:7.3f} {again:8.3f}  {sql[:100]}")
    total = sum(again for _, again, _ in passes)
    print(f"\nthe passes, fastest: {total:.3f} s = {total / scan[0]:.1f}× the bare scan query ({scan[0]:.3f} s)")
    if not args.options and non_public:
        one, own_scan = one_scan(data, non_public[0], args.repeat)
        print(
            f"the four analyses' groupings in one scan (GROUPING SETS, a connection of its own): {one:.3f} s = "
            f"{one / own_scan:.1f}× the bare scan query there ({own_scan:.3f} s)"
        )
    print(f"load average after: {load_average()}")
    return 0


def one_scan(data: Path, non_public: str, repeat: int) -> tuple[float, float]:
    """The fastest time of one query grouping the flows as -cv, -td and -dx/-bn do, all in one scan, and of the
    bare scan query, on a fresh DuckDB connection (the course schema: timestamp in hundredths of a second)."""
    import duckdb

    from sentinel.schema import hour_sql

    literal = str(data).replace("'", "''")
    con = duckdb.connect()
    con.execute(
        "CREATE VIEW flows AS SELECT timestamp * 10000 AS ts, src_ip, dst_ip, proto, port, up_bytes, down_bytes "
        f"FROM read_parquet('{literal}')"
    )
    grouped = f"""
        SELECT dst_ip, src_ip, hour, non_public, kept_dst, kept_proto, kept_port, count(*) AS flows,
               sum(up_bytes)::HUGEINT AS up_bytes, sum(down_bytes)::HUGEINT AS down_bytes,
               min(ts) AS first_ts, max(ts) AS last_ts
        FROM (
            SELECT *, CASE WHEN non_public OR up_bytes > down_bytes THEN dst_ip END AS kept_dst,
                   CASE WHEN non_public THEN proto END AS kept_proto, CASE WHEN non_public THEN port END AS kept_port
            FROM (SELECT *, {hour_sql("ts")} AS hour, {non_public} AS non_public FROM flows)
        )
        GROUP BY GROUPING SETS ((dst_ip), (src_ip, hour), (src_ip, non_public, kept_dst, kept_proto, kept_port))
    """

    def timing(sql: str) -> float:
        return fastest(lambda: con.execute(f"CREATE OR REPLACE TEMP TABLE _floor AS {sql}"), repeat)

    scan, one = timing(scan_sql(data)), timing(grouped)
    con.close()
    return one, scan


if __name__ == "__main__":
    sys.exit(main())
