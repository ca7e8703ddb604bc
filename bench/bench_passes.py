"""Benchmark: where the time of one run goes, pass by pass (every query the engine runs, timed in process).

    python bench/bench_passes.py                       # the original's four analyses on the 10M-flow course file
    python bench/bench_passes.py --engine spark
    python bench/bench_passes.py --data DATASET/ --repeat 3 -- --all

Runs `sentinel --data FILE -gi ... -gin ... -cv -td -dx 90 -bn 192.168.104.0/24 -o -q` (or the options given
after `--`) in a child process with the engine's queries, the IP dimension and the GeoIP look-ups timed, and
prints each one's wall time in the order they ran, then the run's total, split into start-up (imports and
options, before the first pass), the passes, the Python work between them, and what follows the last one
(the report, its charts). After each run, bench_speed.py's bare DuckDB scan of the same file (a process of
its own) times the floor. The capture is the one bench_speed.py makes (`sentinel simulate --seed 1
--attacks`), reused from --workdir. Each repeat is a fresh process with its own table; the medians come
last. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_speed import scan_command  # bench/bench_speed.py: the bare scan, its floor
from machine import cpu_model, load_average, usable_cpus  # bench/machine.py

REPO = Path(__file__).resolve().parents[1]
ANALYSES = ["-cv", "-td", "-dx", "90", "-bn", "192.168.104.0/24"]
GEOIP = ("GeoIP-course-GeoLite2-20230414.dat", "GeoIPASNum-20140916.dat")


def child(argv: list[str], report: Path, steps: list[str]) -> None:
    """One run in this process, every query timed, and the functions named in `steps` (module:qualname);
    the timings go to `report` (JSON)."""
    start = time.perf_counter()
    from sentinel import interrupt

    interrupt.install()
    import sentinel.context as context
    import sentinel.pipeline as pipeline
    from sentinel import cli
    from sentinel.enrich import geodb, ipdim

    log: list[tuple[float, float, str, str]] = []  # (start, seconds, kind, what)
    running: list[str] = []  # passes under way (a pass inside a pass is not logged)

    def timed(owner: object, name: str, kind: str) -> None:
        original = getattr(owner, name)
        label = f"{getattr(owner, '__name__', owner).rsplit('.', 1)[-1]}.{name}"  # e.g. Context.__init__, ipdim.build

        def wrapper(*args: object, **kwargs: object) -> object:
            began = time.perf_counter()
            outer = kind != "pass" or "pass" not in running  # Spark hands small queries to DuckDB: count once
            running.append(kind)
            try:
                return original(*args, **kwargs)
            finally:
                running.pop()
                what = " ".join(str(args[1]).split())[:100] if kind == "pass" else label
                if outer:
                    log.append((began - start, time.perf_counter() - began, kind, what))

        setattr(owner, name, wrapper)

    engine_names = ["duckdb_engine.DuckDBEngine", "spark_engine.SparkEngine"]
    for dotted in engine_names:
        module, cls = dotted.split(".")
        try:
            owner = getattr(__import__(f"sentinel.engines.{module}", fromlist=[cls]), cls)
        except ImportError:  # no pyspark: DuckDB only
            continue
        for method in ("query", "create_temp_table"):
            timed(owner, method, "pass")
    timed(ipdim, "build", "step")
    timed(geodb.GeoStack, "lookup", "step")
    timed(context.Context, "__init__", "step")
    timed(pipeline, "run", "step")
    for step in steps:  # e.g. sentinel.detectors.beacon:score_periodic, sentinel.context:Context._ids_of
        module, owners, name = step_parts(step)
        owner: object = __import__(module, fromlist=["_"])
        for attr in owners:
            owner = getattr(owner, attr)
        timed(owner, name, "step")
    imported = time.perf_counter() - start
    status = cli.main(argv)
    total = time.perf_counter() - start
    report.write_text(json.dumps({"status": status, "imports": imported, "total": total, "log": log}))


def step_parts(step: str) -> tuple[str, list[str], str]:
    """A --step (MODULE:QUALNAME): the module, the classes the function is in, and its name."""
    module, _, qualname = step.partition(":")
    *owners, name = qualname.split(".")
    return module, owners, name


def step_label(step: str) -> str:
    """How the log names a --step function: its class or module's last name, then its own (timed's label)."""
    module, owners, name = step_parts(step)
    return f"{owners[-1] if owners else module.rsplit('.', 1)[-1]}.{name}"


def summarise(result: dict) -> dict[str, float]:
    passes = [(s, d) for s, d, kind, _ in result["log"] if kind == "pass"]
    first = min((s for s, _ in passes), default=result["total"])
    last_end = max((s + d for s, d in passes), default=result["total"])
    in_passes = sum(d for _, d in passes)
    return {
        "total": result["total"],
        "before the first pass": first,
        "passes": in_passes,
        "between passes": last_end - first - in_passes,
        "after the last pass": result["total"] - last_end,
    }


def main() -> int:
    if len(sys.argv) > 3 and sys.argv[1] == "--child":
        child(sys.argv[5:], Path(sys.argv[2]), [s for s in sys.argv[3].split(",") if s])  # --child REPORT STEPS --
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sentinel-bench")
    parser.add_argument("--data", help="input (default: the 10M-flow capture bench_speed.py makes in --workdir)")
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"])
    parser.add_argument("--repeat", type=int, default=1, help="runs, each a fresh process (default 1)")
    parser.add_argument(
        "--step",
        action="append",
        default=[],
        metavar="MODULE:NAME",
        help="also time this function, e.g. sentinel.detectors.beacon:score_periodic (repeatable; totals printed)",
    )
    parser.add_argument("options", nargs="*", help="after --: Sentinel's options instead of the four analyses")
    args = parser.parse_args()
    data = args.data or str(args.workdir / "flows-10000000-seed1-attacks.parquet")
    if not Path(data).exists():
        sys.exit(f"bench_passes: {data} not found: run bench/bench_speed.py first, or give --data")
    shared = Path(os.environ.get("SENTINEL_SHARED_DATA", REPO.parent / "shared" / "data")) / "geoip-legacy"
    geoip: list[str] = []
    if all((shared / name).is_file() for name in GEOIP):
        geoip = ["-gi", str(shared / GEOIP[0]), "-gin", str(shared / GEOIP[1])]
    scan = Path(data).is_file() and data.endswith(".parquet")  # the bare scan reads one Parquet file
    print(f"machine: {usable_cpus()} CPUs, {cpu_model()}; load average before: {load_average()}")
    totals: list[dict[str, float]] = []
    for run in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-passes-") as out:
            argv = ["--data", data, *geoip, *(args.options or ANALYSES), "-o", "-q", "--out-dir", out]
            argv += ["--engine", args.engine]
            report = Path(out) / "timings.json"
            command = [sys.executable, __file__, "--child", str(report), ",".join(args.step), "--", *argv]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=REPO / "bench")
            result = json.loads(report.read_text())
        print(f"\nrun {run + 1}: sentinel {' '.join(argv)}")
        summary = summarise(result)
        if scan:
            began = time.perf_counter()
            subprocess.run(scan_command(Path(data)), check=True, stdout=subprocess.DEVNULL)
            summary["bare scan"] = time.perf_counter() - began
            print(f"then bench_speed.py's bare DuckDB scan of the file: {summary['bare scan']:.2f} s")
        print(f"{'start s':>8} {'seconds':>8}  what")
        for began, seconds, kind, what in sorted(result["log"]):
            print(f"{began:8.2f} {seconds:8.2f}  {'pass: ' if kind == 'pass' else ''}{what}")
        for step in args.step:
            calls = [d for _, d, kind, what in result["log"] if kind == "step" and what == step_label(step)]
            summary[step] = sum(calls)
            print(f"{step}: {sum(calls):.2f} s in {len(calls)} call(s)")
        totals.append(summary)
        print("  ".join(f"{k} {v:.2f} s" for k, v in summary.items()))
    print(f"\nload average after: {load_average()}")
    print(f"medians over {len(totals)} run(s): ", end="")
    print("  ".join(f"{k} {statistics.median(t[k] for t in totals):.2f} s" for k in totals[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
