"""Benchmark: whole-process speed and peak memory of Sentinel against the original course tool and a bare DuckDB scan.

    python bench/bench_speed.py                                  # 10M flows for Sentinel, 1M for the original
    python bench/bench_speed.py --sentinel-flows 2000000 --original-flows 200000 --repeat 5 --original-repeat 3

Every run is a fresh process, timed from start to exit (interpreter start-up and imports included, as a user
sees it), stdout sent to /dev/null; the median of the repeats is reported, with the peak resident memory of the
process tree: the larger of ru_maxrss from wait4 (the process and its waited-for descendants) and the summed RSS
of the whole tree sampled every 0.1 s from /proc (which counts the JVM that Spark starts). The runs:

- original: bench/original_sentinel.py, the 2023 course code's way (pandas, per-row pygeoip and ipaddress);
- sentinel: `sentinel ... -cv -td -dx 90 -bn 192.168.104.0/24 -o -q` on the same-size capture and a 10× larger one;
- scan: a bare DuckDB scan summing every column Sentinel reads (the floor for anything reading that Parquet);
- sentinel dataset: the same analyses on the large capture imported once (`sentinel import`, not timed);
- sentinel spark: the same analyses with `--engine spark` (Spark local mode on this machine's cores), and its
  start-up two ways: a process that only starts Sentinel's Spark session (JVM and session, as a run does: the
  ratio "excluding start-up" takes its median off the 10M-flow run's), and the same command on a 40,000-flow
  capture (start-up plus the first, cold queries) (with --spark; needs Java 17). They run as a user's runs do
  after the first: with the class-data archive the first run's JVM writes (made by an untimed run if missing);
  --spark-without-archive adds the session and the 10M-flow run without it.

Captures come from `sentinel simulate --seed 1 --attacks` and are kept in --workdir for the next run. The legacy
GeoIP files are looked up in ../shared/data/geoip-legacy (SENTINEL_SHARED_DATA replaces ../shared/data); without
them Sentinel runs on its embedded country data and the original, which cannot, is skipped.

A benchmark, not a test: nothing is asserted on speed. Exit status 0, or 1 if a run failed (its error is shown).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from machine import cpu_model, load_average, total_ram_gb, usable_cpus  # bench/machine.py
from sentinel.engines.spark_jvm import ARCHIVE_ENV
from sentinel.sources.dataset import address_table_path, summaries_of
from sentinel.sources.summaries import SUMMARIES

REPO = Path(__file__).resolve().parents[1]
ORIGINAL = REPO / "bench" / "original_sentinel.py"
COUNTRY_DAT = "GeoIP-course-GeoLite2-20230414.dat"
ASN_DAT = "GeoIPASNum-20140916.dat"
TINY_FLOWS = 40_000  # the simulator needs about 36,000 flows for its 200 hosts
SPARK_ARCHIVE_HINT = "the user cache's spark/ folder"
SUBNET = "192.168.104.0/24"
ANALYSES = ["-cv", "-td", "-dx", "90", "-bn", SUBNET]


@dataclass
class Run:
    """One kind of run: a command repeated as separate processes."""

    name: str
    flows: int
    make_command: Callable[[Path], list[str]]  # the command, given a fresh output folder
    repeat: int
    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def sentinel_executable(workdir: Path) -> str:
    """Sentinel installed as a user installs it (`pip install .`, no test extras) in its own venv.

    Measured apart from the benchmark's own venv on purpose: with pandas installed (the original needs it),
    pyarrow imports pandas on first use, 0.2 s that a user's Sentinel does not pay.
    """
    venv = workdir / "venv-sentinel"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Always the code and the dependencies of this checkout (a venv kept from an older checkout lacked a new
    # dependency): pip installs what is missing, then the package itself is reinstalled as it is now.
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"{REPO}[spark]"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(REPO)], check=True)
    return str(venv / "bin" / "sentinel")


def ensure_class_archive(python: str, command: Callable[[Path], list[str]], workdir: Path) -> None:
    """Spark runs as a user's do after the first: with the class-data archive that the first run's JVM writes
    as it exits (sentinel.engines.spark_jvm). Made here by one untimed run if it is missing, then awaited."""
    check = (
        "import sys; from sentinel.engines import spark_jvm as j; k = j.installation_key(); d = j.archive_dir(); "
        "sys.exit(0 if k and any(j.is_complete(p) for p in d.glob(f'spark-classes-{k}.*')) else 1)"
    )
    if subprocess.run([python, "-c", check]).returncode == 0:
        print(f"spark class archive: reusing the one in {SPARK_ARCHIVE_HINT}")
        return
    print(f"spark class archive: one untimed Spark run writes it into {SPARK_ARCHIVE_HINT}", flush=True)
    start = time.perf_counter()
    out_dir = Path(tempfile.mkdtemp(prefix="out-archive-", dir=workdir))
    try:
        subprocess.run(command(out_dir), cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    while subprocess.run([python, "-c", check]).returncode != 0:
        if time.perf_counter() - start > 300:
            print("  not written within 300 s: the Spark runs go without it", flush=True)
            return
        time.sleep(1)
    print(f"  written in {time.perf_counter() - start:.1f} s (the run, then the JVM's exit)", flush=True)


def parquet_rows(path: Path) -> int | None:
    """Row count from the Parquet footer, or None when the file is missing or unreadable (e.g. half-written)."""
    try:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    except Exception:
        return None


def ensure_capture(sentinel: str, workdir: Path, flows: int) -> Path:
    path = workdir / f"flows-{flows}-seed1-attacks.parquet"
    if parquet_rows(path) == flows:
        print(f"capture: reusing {path}")
        return path
    command = [sentinel, "simulate", str(path), "--flows", str(flows), "--seed", "1", "--attacks", "--force"]
    print(f"capture: {shlex.join(command)}", flush=True)
    start = time.perf_counter()
    try:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    except subprocess.CalledProcessError as error:  # its message went to stderr above
        sys.exit(f"bench_speed: the simulator failed (exit status {error.returncode}): {shlex.join(command)}")
    print(f"         written in {time.perf_counter() - start:.1f} s")
    return path


def ensure_dataset(sentinel: str, workdir: Path, capture: Path) -> Path:
    """The capture imported once as a Sentinel dataset (reused while its accounting names the same rows)."""
    dataset = workdir / f"{capture.stem}-dataset"
    # Reused if it has address ids and summaries (an import before them is redone: runs on it would not use them).
    parts = sorted(str(p) for p in dataset.glob("day=*/*.parquet"))
    if parts and address_table_path(dataset).is_file() and set(summaries_of(parts)) == set(SUMMARIES):
        print(f"dataset: reusing {dataset}")
        return dataset
    command = [sentinel, "import", str(capture), "--to", str(dataset), "--force"]
    print(f"dataset: {shlex.join(command)}", flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(f"         imported in {time.perf_counter() - start:.1f} s")
    return dataset


def tree_rss_kb(root: int) -> int:
    """Resident memory (KB) of a process and all its descendants now, from /proc (0 where there is none)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry.name)] = int(line.split()[1])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


class TreeSampler(threading.Thread):
    """Samples the process tree's summed RSS every 0.1 s: a JVM that Spark starts is not a waited-for child,
    so ru_maxrss alone would leave it out."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))


def run_measured(command: list[str], cwd: Path) -> tuple[float, int | None, int, str]:
    """Run one process to its end: (wall seconds, peak RSS KB of its tree or None, exit status, stderr)."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        sampler = TreeSampler(process.pid) if Path("/proc").is_dir() else None
        if sampler:
            sampler.start()
        if hasattr(os, "wait4"):
            # wait4 gives this child's own rusage, which getrusage(RUSAGE_CHILDREN) deltas cannot across children.
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            peak_kb: int | None = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
            if sampler:
                sampler.done.set()
                peak_kb = max(peak_kb or 0, sampler.peak_kb)
        else:  # no wait4 (Windows): time only
            process.wait()
            seconds = time.perf_counter() - start
            peak_kb = None
        stderr.seek(0)
        return seconds, peak_kb, process.returncode, stderr.read().decode(errors="replace")


def measure(run: Run, workdir: Path) -> None:
    print(f"running {run.name} ({run.flows:,} flows) × {run.repeat} ...", flush=True)
    for _ in range(run.repeat):
        out_dir = Path(tempfile.mkdtemp(prefix=f"out-{run.name.split()[0]}-", dir=workdir))
        command = run.make_command(out_dir)
        run.commands.append(shlex.join(command))
        try:
            seconds, peak_kb, status, stderr = run_measured(command, workdir)
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)  # a fresh folder each run: -o never finds an old report
        if status != 0:
            run.error = f"exit status {status}: {stderr.strip()[-2000:] or '(no stderr)'}"
            print(f"  FAILED, {run.error}", flush=True)
            return
        run.seconds.append(seconds)
        if peak_kb is not None:
            run.peak_kb.append(peak_kb)
        print(f"  {seconds:8.2f} s  {peak_kb / 1024 if peak_kb else float('nan'):8.0f} MB", flush=True)


def scan_sql(capture: Path) -> str:
    """Every column Sentinel reads, each one fully consumed."""
    literal = str(capture).replace("'", "''")
    return (
        "SELECT count(*), sum(timestamp), sum(port), sum(up_bytes), sum(down_bytes), min(src_ip), min(dst_ip), "
        f"min(proto) FROM read_parquet('{literal}')"
    )


def scan_command(capture: Path) -> list[str]:
    # Through the same interpreter + duckdb import.
    return [sys.executable, "-c", f"import duckdb; duckdb.sql({scan_sql(capture)!r}).fetchall()"]


def fmt_ratio(value: float | None, aim: str) -> str:
    return "n/a (a run is missing)" if value is None else f"{value:,.1f}×   (aim {aim})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentinel-flows", type=int, default=10_000_000, help="large capture (default 10M)")
    parser.add_argument("--original-flows", type=int, default=1_000_000, help="same-size capture (default 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of Sentinel and of the bare scan (default 3)")
    parser.add_argument("--original-repeat", type=int, default=1, help="runs of the original (default 1: ~1-2 min)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sentinel-bench")
    parser.add_argument("--spark", action="store_true", help="also Sentinel on Spark local (slow; needs Java 17)")
    parser.add_argument("--spark-repeat", type=int, default=1, help="runs on Spark (default 1)")
    parser.add_argument(
        "--spark-without-archive",
        action="store_true",
        help=f"also the Spark session and the 10M run with {ARCHIVE_ENV}=0 (no class-data archive)",
    )
    args = parser.parse_args()
    if min(args.repeat, args.original_repeat, args.sentinel_flows, args.original_flows) < 1:
        parser.error("flow counts and repeats must be at least 1")

    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    sentinel = sentinel_executable(workdir)
    ram = total_ram_gb()
    print(
        f"machine: {usable_cpus()} CPUs (nproc), {cpu_model()}, "
        f"{f'{ram:.1f} GB RAM' if ram else 'RAM unknown'}, {platform.system()} {platform.release()}"
    )
    print(
        f"software: Python {platform.python_version()}, duckdb {version('duckdb')}, "
        f"sentinel-analysis {version('sentinel-analysis')}, pandas {version('pandas')}, pygeoip {version('pygeoip')}"
    )
    print(f"load average before: {load_average()}  (other work on the machine makes every number slower)")

    shared = Path(os.environ.get("SENTINEL_SHARED_DATA", REPO.parent / "shared" / "data"))
    country_dat, asn_dat = shared / "geoip-legacy" / COUNTRY_DAT, shared / "geoip-legacy" / ASN_DAT
    have_geoip = country_dat.is_file() and asn_dat.is_file()
    geoip = ["-gi", str(country_dat), "-gin", str(asn_dat)] if have_geoip else []
    if have_geoip:
        print(f"GeoIP: {country_dat}, {asn_dat}")
    else:
        print(
            f"GeoIP: {COUNTRY_DAT} / {ASN_DAT} not found in {shared / 'geoip-legacy'} (set SENTINEL_SHARED_DATA): "
            "Sentinel runs on its embedded country data, the original (which needs both files) is skipped"
        )

    big = ensure_capture(sentinel, workdir, args.sentinel_flows)
    small = ensure_capture(sentinel, workdir, args.original_flows)
    dataset = ensure_dataset(sentinel, workdir, big)

    def sentinel_run(capture: Path, *extra: str) -> Callable[[Path], list[str]]:
        return lambda out: [
            sentinel,
            "--data",
            str(capture),
            *geoip,
            *ANALYSES,
            "-o",
            "-q",
            "--out-dir",
            str(out),
            *extra,
        ]

    scan = Run("bare DuckDB scan", args.sentinel_flows, lambda _out: scan_command(big), args.repeat)
    sentinel_big = Run("sentinel", args.sentinel_flows, sentinel_run(big), args.repeat)
    sentinel_small = Run("sentinel", args.original_flows, sentinel_run(small), args.repeat)
    sentinel_dataset = Run("sentinel dataset", args.sentinel_flows, sentinel_run(dataset), args.repeat)
    spark_runs: list[Run] = []
    if args.spark:
        tiny = ensure_capture(sentinel, workdir, TINY_FLOWS)
        session = "from sentinel.engines.spark_engine import SparkEngine; SparkEngine()"
        python = str(Path(sentinel).with_name("python"))
        ensure_class_archive(python, sentinel_run(tiny, "--engine", "spark"), workdir)
        spark_runs = [
            Run("spark session", 0, lambda _out: [python, "-c", session], args.spark_repeat),
            Run("spark start-up", TINY_FLOWS, sentinel_run(tiny, "--engine", "spark"), args.spark_repeat),
            Run("sentinel spark", args.sentinel_flows, sentinel_run(big, "--engine", "spark"), args.spark_repeat),
        ]
        if args.spark_without_archive:
            without = ["env", f"{ARCHIVE_ENV}=0"]
            spark_runs += [
                Run("spark session, no archive", 0, lambda _out: [*without, python, "-c", session], args.spark_repeat),
                Run(
                    "sentinel spark, no archive",
                    args.sentinel_flows,
                    lambda out: [*without, *sentinel_run(big, "--engine", "spark")(out)],
                    args.spark_repeat,
                ),
            ]
    original: Run | None = None
    if have_geoip:
        # -o as Sentinel gets it: the Markdown report with the per-alert GeoIP lookups, charts in the run's folder.
        original = Run(
            "original (pandas)",
            args.original_flows,
            lambda out: [
                sys.executable,
                str(ORIGINAL),
                "--data",
                str(small),
                *geoip,
                *ANALYSES,
                "-o",
                "--out-dir",
                str(out),
            ],
            args.original_repeat,
        )
    runs = [scan, sentinel_big, sentinel_dataset, sentinel_small, *spark_runs, *([original] if original else [])]
    print()
    for run in runs:
        measure(run, workdir)

    print(f"\nload average after: {load_average()}")
    print("\nresults (wall time of the whole process, median of the repeats; peak RSS: largest of the repeats)\n")
    print(f"{'run':<26} {'flows':>12} {'runs':>5} {'median s':>10} {'flows/s':>14} {'peak RSS MB':>12}")
    for run in runs:
        if run.error or not run.seconds:
            print(f"{run.name:<26} {run.flows:>12,} {'':>5} {'FAILED':>10}")
            continue
        peak = f"{max(run.peak_kb) / 1024:,.0f}" if run.peak_kb else "n/a"
        rate = f"{run.flows / run.median:>14,.0f}" if run.flows else f"{'–':>14}"
        print(f"{run.name:<26} {run.flows:>12,} {len(run.seconds):>5} {run.median:>10.2f} {rate} {peak:>12}")

    def ok(run: Run | None) -> bool:
        return run is not None and not run.error and bool(run.seconds)

    def throughput(run: Run) -> float:
        return run.flows / run.median

    print()
    big_vs_original = throughput(sentinel_big) / throughput(original) if ok(sentinel_big) and ok(original) else None
    small_vs_original = (
        throughput(sentinel_small) / throughput(original) if ok(sentinel_small) and ok(original) else None
    )
    big_vs_scan = sentinel_big.median / scan.median if ok(sentinel_big) and ok(scan) else None
    n_big, n_small = f"{args.sentinel_flows / 1e6:g}M", f"{args.original_flows / 1e6:g}M"
    if original is None:
        print("original skipped (no legacy GeoIP files): no ratios against it")
    else:
        print(f"throughput Sentinel({n_big}) / original({n_small}): {fmt_ratio(big_vs_original, '≥ 200×')}")
        print(f"throughput Sentinel({n_small}) / original({n_small}): {fmt_ratio(small_vs_original, '–')}")
    print(f"time Sentinel({n_big}) / bare scan({n_big}):        {fmt_ratio(big_vs_scan, '≤ 3×')}")
    if ok(sentinel_dataset) and ok(sentinel_big):
        ratio = sentinel_big.median / sentinel_dataset.median
        print(f"speed on the imported dataset / on the course Parquet ({n_big}): {ratio:.2f}×   (aim > 1×)")
    if spark_runs and all(ok(r) for r in spark_runs) and ok(sentinel_big):
        session_run, start_up, spark_big = spark_runs[:3]
        spark_ratio = fmt_ratio(spark_big.median / sentinel_big.median, "≤ 5×")
        analysis = spark_big.median - session_run.median
        print(f"time Sentinel on Spark local({n_big}) / on DuckDB({n_big}): {spark_ratio}")
        print(
            f"  excluding Spark's start-up ({spark_big.median:.1f} s - {session_run.median:.1f} s of session): "
            f"{analysis / sentinel_big.median:.1f}×"
        )
        print(f"Spark session start-up (JVM and session alone): {session_run.median:.1f} s")
        print(f"Spark start-up with the first, cold queries (a {TINY_FLOWS:,}-flow run): {start_up.median:.1f} s")
        if len(spark_runs) == 5:
            bare_session, bare_big = spark_runs[3:]
            print(
                f"without the class archive: session {bare_session.median:.1f} s, Spark local({n_big}) "
                f"{bare_big.median:.1f} s ({bare_big.median / sentinel_big.median:.1f}× DuckDB); "
                f"the archive saves {bare_big.median - spark_big.median:.1f} s a run"
            )

    print(f"\ncommands, in order (cwd {workdir}; each --out-dir was a fresh temporary folder, removed afterwards):")
    for run in runs:
        for command in run.commands:
            print(f"  {command}")
    failed = [run for run in runs if run.error]
    for run in failed:
        print(f"\n{run.name} ({run.flows:,} flows) failed: {run.error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
