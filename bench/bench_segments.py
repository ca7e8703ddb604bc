"""Benchmark: per-series medians over many series at once (the beacon detector's scoring), against one sort
of (series, value) pairs by np.lexsort, the plain way.

    python bench/bench_segments.py                 # 212k series, 35M values (ten days of a 240-host office)
    python bench/bench_segments.py --series 20000

Series lengths follow a Pareto law (most short, a few up to 86,000 values), values are uniform; both ways
must give the same medians (checked). A benchmark, not a test: nothing is asserted on speed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from machine import cpu_model, load_average, usable_cpus  # bench/machine.py
from sentinel.detectors import _segments as sg


def lexsort_medians(values: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    order = np.lexsort((values, seg))
    ordered = values[order]
    c = np.bincount(seg, minlength=n)
    offsets = np.concatenate(([0], np.cumsum(c)[:-1]))
    return (ordered[offsets + (c - 1) // 2] + ordered[offsets + c // 2]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=212_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    lengths = np.minimum(rng.pareto(1.0, args.series).astype(np.int64) * 20 + 10, 86_000)
    seg = np.repeat(np.arange(lengths.size), lengths)
    values = rng.random(seg.size) * 100
    print(f"machine: {usable_cpus()} CPUs, {cpu_model()}; load average {load_average()}")
    print(f"{lengths.size:,} series, {seg.size:,} values")
    timings = {}
    results = {}
    ways = (("sentinel (_segments.medians)", sg.medians), ("np.lexsort of (series, value)", lexsort_medians))
    for name, medians in ways:
        start = time.perf_counter()
        results[name] = medians(values, seg, lengths.size)
        timings[name] = time.perf_counter() - start
        print(f"  {name:32s} {timings[name]:6.2f} s")
    ours, plain = results.values()
    print(f"same medians: {np.array_equal(ours, plain)}")
    first, second = timings.values()
    print(f"ratio: {second / first:.1f}x faster than one lexsort")


if __name__ == "__main__":
    main()
