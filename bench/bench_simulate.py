"""Benchmark: time sentinel.simulate (generation + Parquet/labels write) and print flows per second.

    python bench/bench_simulate.py              # 1M and 10M flows
    python bench/bench_simulate.py --flows 2000000 --attacks

A benchmark, not a test: it prints numbers with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from machine import cpu_model, usable_cpus  # bench/machine.py
from sentinel.simulate import SimulationConfig, simulate, write_simulation


def run(flows: int, hosts: int, attacks: bool, folder: Path) -> None:
    config = SimulationConfig(hosts=hosts, flows=flows, attacks=attacks)
    start = time.perf_counter()
    sim = simulate(config)
    generated = time.perf_counter()
    parquet, _ = write_simulation(sim, folder / f"day-{flows}.parquet", overwrite=True)
    written = time.perf_counter()
    total = written - start
    size_mb = parquet.stat().st_size / 1e6
    print(
        f"{flows:>11,} flows  simulate {generated - start:6.2f} s  write {written - generated:6.2f} s  "
        f"total {total:6.2f} s  {flows / total / 1e6:5.2f} M flows/s  ({size_mb:,.0f} MB Parquet)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, action="append", help="flow count (repeatable; default 1M and 10M)")
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--attacks", action="store_true", help="inject the labelled attacks")
    args = parser.parse_args()
    print(f"machine: {usable_cpus()} CPUs (nproc), {cpu_model()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="bench-simulate-") as folder:
        simulate(SimulationConfig(hosts=args.hosts, flows=100_000))  # warm-up: lazy imports, caches
        for flows in args.flows or [1_000_000, 10_000_000]:
            run(flows, args.hosts, args.attacks, Path(folder))


if __name__ == "__main__":
    main()
