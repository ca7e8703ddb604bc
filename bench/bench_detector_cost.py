"""Cost of each detector alone: whole-process wall time and peak memory of `sentinel --detect KEY -q` on a
simulated day (attacks included), next to a run of no detector but the input's preparation
(`--detect hourly`, the cheapest unit) and of `--detect exfiltration`.

    python bench/bench_detector_cost.py [--flows 10000000] [--hosts 240] [--repeat 3] [--keys dns,lateral]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from machine import cpu_model, load_average, total_ram_gb, usable_cpus
from processes import sentinel, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=10_000_000)
    parser.add_argument("--hosts", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keys", default="dns,lateral", help="detectors to measure (comma-separated keys)")
    args = parser.parse_args()
    print(f"machine: {cpu_model()}, {usable_cpus()} cores, {total_ram_gb():.1f} GB RAM; load {load_average()}")
    keys = ["hourly", "exfiltration", *[k for k in args.keys.split(",") if k], "all"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.parquet"  # simulated in a process of its own: this one stays small, since a
        # child's peak memory (wait4) starts from what its parent held when it forked
        timed(sentinel("simulate", str(path), "--hosts", str(args.hosts), "--flows", str(args.flows), "--attacks"))
        print(f"{args.flows:,} simulated flows, {args.hosts} hosts; median of {args.repeat} runs")
        base = None
        for key in keys:
            unit = ["--all"] if key == "all" else ["--detect", key]
            command = sentinel("--data", str(path), *unit, "-q")
            runs = [timed(command) for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs) / 1024
            base = base or wall
            print(
                f"  {' '.join(unit):24s} {wall:6.2f} s  {args.flows / wall / 1e6:5.2f}M flows/s  "
                f"{peak:6.0f} MB peak  ({wall / base:.2f}x --detect hourly)"
            )
    print(f"load after: {load_average()}")


if __name__ == "__main__":
    main()
