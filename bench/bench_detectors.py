"""Benchmark: what each analysis and detector costs on one simulated day, against a bare scan of the file.

    python bench/bench_detectors.py                                   # 10M flows, 240 hosts, every unit
    python bench/bench_detectors.py --flows 2000000 --units scan,beacon --repeat 5
    python bench/bench_detectors.py --failed 20                       # 20% of the flows made failed attempts

Each unit runs alone in a fresh process (`--detect KEY` through sentinel.pipeline, as the CLI runs it; no
report is written), then all of them together (`--all`). Per run: the wall time of the whole process
(interpreter start and imports included), the preparation every run shares (validation pass, IP dimension:
from the start of pipeline.run to the first unit), the unit's own time (from its start to the next step),
and the peak resident memory of the process (ru_maxrss from wait4). The median of the repeats is shown, and
the unit's time over the time of a bare DuckDB scan query of the same columns (bench_speed's: count and sum
or min of every column Sentinel reads), the floor for anything that reads the file once.

The capture comes from `sentinel simulate --seed 1 --attacks` and is kept in --workdir. `--failed PCT`
derives from it a capture where PCT% of the flows (picked by a fixed function of their time and port) are
failed connection attempts (60 bytes out, nothing back): a network that is far noisier for the scan detector,
whose candidates are such flows. Load on the machine slows every figure: the load average is printed before
and after. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from machine import cpu_model, load_average, total_ram_gb, usable_cpus  # bench/machine.py

BENCH = Path(__file__).resolve().parent


@dataclass
class Measured:
    """One kind of run, repeated: process wall seconds, preparation and unit seconds, peak RSS (kB)."""

    name: str
    wall: list[float] = field(default_factory=list)
    prepare: list[float] = field(default_factory=list)
    units: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)


def child(capture: str, keys: list[str]) -> None:
    """Run the units on the capture in this process, as the CLI does; print the steps' times as JSON."""
    import datetime as dt

    from sentinel import pipeline
    from sentinel.config import Config
    from sentinel.registry import UNITS, default_params

    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    config = Config(data=capture, units={k: default_params(k) for k in keys})
    pipeline.run(
        config,
        now=lambda: dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        on_step=lambda step: marks.append((step, time.perf_counter())),
    )
    end = time.perf_counter()
    titles = {UNITS[k].title: k for k in keys}
    times = [t for _, t in marks] + [end]
    steps = {titles.get(name, name): times[i + 1] - t for i, (name, t) in enumerate(marks)}
    print(json.dumps({"prepare": marks[0][1] - start if marks else end - start, "steps": steps}))


def run_child(capture: Path, keys: list[str]) -> tuple[float, int, dict]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(capture), ",".join(keys)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {shlex.join(command)}\n{err.decode(errors='replace')}")
    return wall, usage.ru_maxrss, json.loads(out)


def scan_child(capture: str) -> None:
    """Time bench_speed's bare scan query in this process (after the import, like a unit after preparation)."""
    import duckdb

    from bench_speed import scan_sql

    started = time.perf_counter()
    duckdb.sql(scan_sql(Path(capture))).fetchall()
    print(json.dumps({"query": time.perf_counter() - started}))


def bare_scan(capture: Path) -> tuple[float, float]:
    """(process wall seconds, query seconds) of the bare DuckDB scan, in a fresh process."""
    command = [sys.executable, str(Path(__file__).resolve()), "--scan", str(capture)]
    started = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True).stdout
    return time.perf_counter() - started, json.loads(out)["query"]


def ensure_capture(workdir: Path, flows: int, hosts: int) -> Path:
    import pyarrow.parquet as pq

    path = workdir / f"flows-{flows}-h{hosts}-seed1-attacks.parquet"
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == flows:
        print(f"capture: reusing {path}")
        return path
    command = [sys.executable, "-m", "sentinel", "simulate", str(path), "--flows", str(flows), "--hosts", str(hosts)]
    command += ["--seed", "1", "--attacks", "--force"]
    print(f"capture: {shlex.join(command)}", flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return path


def with_failed_attempts(capture: Path, percent: int) -> Path:
    """The capture with `percent`% of its flows made failed attempts (60 bytes up, 0 down), deterministically."""
    import duckdb

    path = capture.with_name(f"{capture.stem}-failed{percent}.parquet")
    if path.exists():
        print(f"capture: reusing {path}")
        return path
    picked = f"(timestamp * 7919 + port) % 100 < {int(percent)}"
    source, target = (str(p).replace("'", "''") for p in (capture, path))
    duckdb.sql(
        f"COPY (SELECT timestamp, src_ip, dst_ip, proto, port, "
        f"CASE WHEN {picked} THEN 60 ELSE up_bytes END AS up_bytes, "
        f"CASE WHEN {picked} THEN 0 ELSE down_bytes END AS down_bytes "
        f"FROM read_parquet('{source}') ORDER BY timestamp) TO '{target}' (FORMAT parquet)"
    )
    print(f"capture: {path} ({percent}% of the flows made failed attempts)")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=10_000_000, help="flows in the simulated day (default 10M)")
    parser.add_argument("--hosts", type=int, default=240, help="internal hosts of the simulated day (default 240)")
    parser.add_argument("--units", help="comma-separated unit keys (default: every analysis and detector)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--failed", type=int, default=0, metavar="PCT", help="make PCT%% of the flows failed attempts")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sentinel-bench")
    parser.add_argument("--child", nargs=2, metavar=("CAPTURE", "KEYS"), help=argparse.SUPPRESS)
    parser.add_argument("--scan", metavar="CAPTURE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scan:
        scan_child(args.scan)
        return 0
    if args.child:
        child(args.child[0], args.child[1].split(","))
        return 0
    if min(args.repeat, args.flows, args.hosts) < 1 or not 0 <= args.failed <= 100:
        parser.error("--flows, --hosts and --repeat must be at least 1; --failed a percentage")

    from sentinel.registry import UNITS

    keys = args.units.split(",") if args.units else list(UNITS)
    unknown = [k for k in keys if k not in UNITS]
    if unknown:
        parser.error(f"unknown unit(s) {', '.join(unknown)}; known: {', '.join(UNITS)}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    ram = total_ram_gb()
    print(
        f"machine: {usable_cpus()} CPUs (nproc), {cpu_model()}, "
        f"{f'{ram:.1f} GB RAM' if ram else 'RAM unknown'}, {platform.system()} {platform.release()}"
    )
    print(f"software: Python {platform.python_version()}, duckdb {__import__('duckdb').__version__}")
    capture = ensure_capture(args.workdir, args.flows, args.hosts)
    if args.failed:
        capture = with_failed_attempts(capture, args.failed)
    print(f"load average before: {load_average()}  (other work on the machine makes every number slower)\n")

    scans: list[tuple[float, float]] = []
    runs = [Measured(k) for k in keys] + ([Measured("all")] if len(keys) > 1 else [])
    for _ in range(args.repeat):  # interleaved, so that a burst of load spreads over every kind of run
        scans.append(bare_scan(capture))
        for run in runs:
            wall, peak, steps = run_child(capture, keys if run.name == "all" else [run.name])
            run.wall.append(wall)
            run.peak_kb.append(peak)
            run.prepare.append(steps["prepare"])
            run.units.append(sum(v for k, v in steps["steps"].items() if k in keys))
            print(f"  {run.name:<15} {wall:7.2f} s  unit {run.units[-1]:6.2f} s  {peak / 1024:7.0f} MB", flush=True)
    print(f"\nload average after: {load_average()}")
    scan = statistics.median(q for _, q in scans)
    print(
        f"\nbare DuckDB scan of {args.flows:,} flows: query {scan:.2f} s, "
        f"process {statistics.median(w for w, _ in scans):.2f} s (medians of {len(scans)})"
    )
    prepare = statistics.median(p for r in runs for p in r.prepare)
    print(f"preparation every run shares (median over all runs): {prepare:.2f} s = {prepare / scan:.2f}× the scan\n")
    print(f"{'unit':<15} {'process s':>10} {'unit s':>8} {'unit/scan':>10} {'peak RSS MB':>12}")
    for run in runs:
        unit = statistics.median(run.units)
        print(
            f"{run.name:<15} {statistics.median(run.wall):>10.2f} {unit:>8.2f} {unit / scan:>9.2f}× "
            f"{max(run.peak_kb) / 1024:>12,.0f}"
        )
    print("\n(unit s: the unit alone, after the preparation; for `all`, every unit together; unit/scan: over the")
    print(" bare scan's query time, both in a process that has started and imported)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
