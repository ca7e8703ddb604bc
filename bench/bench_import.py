"""Benchmark: `sentinel import` throughput, and the original four analyses on an imported dataset against the
same analyses on the course Parquet file they came from.

    python bench/bench_import.py                      # 10M flows, 3 repeats
    python bench/bench_import.py --flows 2000000 --repeat 5

Every run is a fresh process (`python -m sentinel`), timed from start to exit, with the peak resident memory of
the process tree (ru_maxrss from wait4). The capture comes from `sentinel simulate --seed 1 --attacks` and is kept
in --workdir. A benchmark, not a test: nothing is asserted on speed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from machine import cpu_model, load_average, total_ram_gb, usable_cpus  # bench/machine.py
from processes import sentinel, timed  # bench/processes.py

ANALYSES = ["-cv", "-td", "-dx", "90", "-bn", "192.168.104.0/24", "-q"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flows", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sentinel-bench-import")
    args = p.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    day = args.workdir / f"day-{args.flows}.parquet"
    if not day.exists():
        subprocess.run(
            sentinel("simulate", str(day), "--flows", str(args.flows), "--seed", "1", "--attacks"), check=True
        )
    print(f"machine: {cpu_model()}, {usable_cpus()} cores, {total_ram_gb():.1f} GB RAM, load {load_average()}")
    print(f"capture: {day} ({args.flows:,} flows, {day.stat().st_size / 1e6:.0f} MB)")

    imports = []
    dataset = args.workdir / f"ds-{args.flows}"
    for _ in range(args.repeat):
        shutil.rmtree(dataset, ignore_errors=True)
        imports.append(timed(sentinel("import", str(day), "--to", str(dataset), "-q")))
    size = sum(f.stat().st_size for f in dataset.rglob("*.parquet")) / 1e6
    t = statistics.median(s for s, _ in imports)
    print(
        f"sentinel import: {t:.2f} s median of {args.repeat}, {args.flows / t:,.0f} rows/s, "
        f"peak {max(k for _, k in imports) / 1024:.0f} MB; dataset {size:.0f} MB"
    )
    results = {}
    for name, data in (("course Parquet", day), ("imported dataset", dataset)):
        runs = [timed(sentinel("--data", str(data), *ANALYSES)) for _ in range(args.repeat)]
        med = statistics.median(s for s, _ in runs)
        results[name] = med
        print(
            f"-cv -td -dx 90 -bn on {name}: {med:.2f} s median of {args.repeat}, {args.flows / med:,.0f} flows/s, "
            f"peak {max(k for _, k in runs) / 1024:.0f} MB"
        )
    ratio = results["course Parquet"] / results["imported dataset"]
    print(f"imported dataset vs course Parquet: {ratio:.2f}x the speed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
