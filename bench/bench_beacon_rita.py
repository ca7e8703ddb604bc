"""Sentinel's --beacon against RITA's published beacon score, on the same flows.

RITA (activecm/rita v5, analysis/beacons.go; default_config.hjson) is re-implemented here from its published
formulas as a *reference* (not part of the product), on what flow records carry (no SNI/FQDN beacons):

- pairs (source, destination) with exactly one internal endpoint (RITA drops internal to internal), at least
  4 distinct timestamps (`unique_connection_threshold`) and fewer than 86,400 connections (strobes apart);
  timestamps in whole seconds, bytes the source sent per connection;
- timestamp score: over the sorted non-zero intervals, `(skew score + MAD score) / 2` where the skew score is
  `1 - |Bowley skew|` (`(Q1 + Q3 - 2 Q2) / (Q3 - Q1)`, taken as 0 when `Q3 - Q1 < 10` or the median equals a
  quartile; quartiles as montanaflynn/stats: medians of the halves without the median) and the MAD score
  `(median - MAD) / median` (1 when the median is under 1), at least 0;
- data-size score: the same over the bytes sent (MAD score 0 when the median is under 1);
- histogram score: 24 bins over the dataset's time range; `max(1 - CV of the bin counts, bimodal fit)`, the
  bimodal fit (with 11 or more non-empty bins) being the share of non-empty bins in the two most common
  bar heights (bars grouped by 5 % of the highest bar), one outlier bin dropped;
- duration score (with 6 or more non-empty bins): `max(coverage, consistency)`, coverage the pair's span over
  the dataset's span, consistency the longest run of non-empty bins (wrapping around) over 12;
- score: the mean of the four (weights 0.25), rounded to 3 places; RITA lists beacons from 0.5 (its `base`
  threshold), which is also Sentinel's alert floor (`beacon.alert_score`).

For both it prints the precision of what scores 0.5 or more (findings whose internal host is another injected
attack's are cross-detections, counted apart, as `sentinel.quality` does) and the rank of each true beacon
among all the findings of the day (1 = first; "-" = not scored at all).

    python bench/bench_beacon_rita.py [--seeds 3] [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from machine import cpu_model, load_average, usable_cpus  # bench/machine.py
from sentinel import pipeline
from sentinel.config import Config
from sentinel.context import Context
from sentinel.engines import open_engine
from sentinel.enrich import netclass
from sentinel.enrich.databases import open_stack
from sentinel.registry import default_params
from sentinel.report.model import Report
from sentinel.schema import US_PER_SECOND
from sentinel.simulate import SimulationConfig, simulate, write_simulation
from sentinel.sources.registry import open_sources

ALERT_FLOOR = 0.5  # RITA's `base` beacon threshold (50), and Sentinel's beacon.alert_score
MIN_UNIQUE_TS = 4
STROBE = 86_400
HIST_BINS = 24
MODE_SENSITIVITY = 0.05
BIMODAL_OUTLIERS = 1
BIMODAL_MIN_HOURS = 11
DURATION_MIN_HOURS = 6
DURATION_IDEAL_HOURS = 12


# -- RITA's beacon score, from its published formulas ---------------------------------------------------------


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if len(x) else 0.0


def quartiles(sorted_values: np.ndarray) -> tuple[float, float, float]:
    """Q1, Q2, Q3 as montanaflynn/stats.Quartile: the medians of the lower and upper halves, the median itself
    left out of both when the count is odd."""
    n = len(sorted_values)
    c1 = n // 2
    c2 = n // 2 if n % 2 == 0 else n // 2 + 1
    return _median(sorted_values[:c1]), _median(sorted_values), _median(sorted_values[c2:])


def statistical_score(values: np.ndarray, default_mad_score: float) -> float:
    """(Bowley skew score + MAD score) / 2, rounded to 3 places."""
    v = np.sort(values.astype(np.float64))
    q1, q2, q3 = quartiles(v)
    den = q3 - q1
    skew = (q1 + q3 - 2 * q2) / den if den >= 10 and q2 != q1 and q2 != q3 else 0.0
    median = _median(v)
    mad = _median(np.abs(v - median))
    mad_score = (median - mad) / median if median >= 1 else default_mad_score
    mad_score = max(mad_score, 0.0)
    return round((1 - abs(skew) + mad_score) / 2, 3)


def histogram_scores(ts: np.ndarray, first: float, last: float) -> tuple[float, float]:
    """(histogram score, duration score) of a pair's timestamps over the dataset's [first, last]."""
    edges = np.linspace(first, last, HIST_BINS + 1)
    idx = np.clip(np.searchsorted(edges, ts, side="right") - 1, 0, HIST_BINS - 1)
    bars = np.bincount(idx, minlength=HIST_BINS)
    mean = bars.mean()
    cv = bars.std() / mean if mean > 0 else 1.0
    cv_score = 0.0 if cv > 1 else round(1 - cv, 3)
    nonzero = bars[bars > 0]
    total = len(nonzero)
    bimodal = 0.0
    if total >= BIMODAL_MIN_HOURS:
        size = np.ceil(bars.max() * MODE_SENSITIVITY)
        _, counts = np.unique(np.floor(nonzero / size) * size, return_counts=True)
        top = np.sort(counts)[::-1][:2]
        bimodal = min(round(float(top.sum()) / max(total - BIMODAL_OUTLIERS, 1), 3), 1.0)
    seen = np.concatenate([bars, bars]) > 0
    run = longest = 0
    for s in seen:
        run = run + 1 if s else 0
        longest = max(longest, run)
    longest = min(longest, HIST_BINS)
    duration = 0.0
    if total >= DURATION_MIN_HOURS and last > first and ts[-1] > ts[0]:
        coverage = min(np.ceil((ts[-1] - ts[0]) / (last - first) * 1000) / 1000, 1.0)
        consistency = min(np.ceil(longest / DURATION_IDEAL_HOURS * 1000) / 1000, 1.0)
        duration = max(coverage, consistency)
    return max(cv_score, bimodal), float(duration)


def rita_score(ts: np.ndarray, sizes: np.ndarray, first: float, last: float) -> float | None:
    """RITA's beacon score of one pair (timestamps in seconds, sorted; bytes sent), None where RITA scores none."""
    intervals = np.diff(ts)
    nonzero = intervals[intervals > 0]
    if len(ts) < 4 or len(nonzero) < 3:
        return None
    ts_score = statistical_score(nonzero, 1.0)
    ds_score = statistical_score(sizes, 0.0)
    hist, duration = histogram_scores(ts.astype(np.float64), first, last)
    return round(0.25 * (ts_score + ds_score + hist + duration), 3)


@dataclass(frozen=True)
class Scored:
    src: str
    dst: str
    host: str  # the internal endpoint
    score: float


@contextmanager
def flows_context(config: Config) -> Iterator[Context]:
    """Sentinel's prepared flows (canonical `flows` view, `ip_dim`), as the pipeline builds them."""
    engine = open_engine(config.engine, config.threads, config.memory_limit, config.spark_master)
    pool = ThreadPoolExecutor(max_workers=1)
    geoip = pool.submit(
        lambda: open_stack(config.country_db, config.org_db, config.geoip_dbs, use_cache=config.geoip_cache)
    )
    try:
        yield Context(
            engine, config, open_sources(engine, config.inputs, config.read_options, config.format), geoip.result
        )
    finally:
        pool.shutdown(wait=True)
        engine.close()


def rita(config: Config) -> list[Scored]:
    """Every pair RITA would score, by score (ties by source, destination)."""
    with flows_context(config) as ctx:
        internal = "SELECT ip FROM ip_dim WHERE class = 'internal'"
        table = ctx.engine.query(
            f"""
            WITH f AS (
                SELECT src_ip, dst_ip, CAST(floor(ts / {US_PER_SECOND}) AS BIGINT) AS t, up_bytes,
                       src_ip IN ({internal}) AS si, dst_ip IN ({internal}) AS di
                FROM flows
            ), p AS (
                SELECT src_ip, dst_ip FROM f WHERE si <> di
                GROUP BY src_ip, dst_ip HAVING count(DISTINCT t) >= {MIN_UNIQUE_TS} AND count(*) < {STROBE}
            )
            SELECT f.src_ip, f.dst_ip, f.si, f.t, f.up_bytes FROM f JOIN p USING (src_ip, dst_ip)
            ORDER BY f.src_ip, f.dst_ip, f.t, f.up_bytes
            """
        )
        q = ctx.quality
        first = (q.first_ts or 0) // US_PER_SECOND
        last = (q.last_ts or 0) // US_PER_SECOND
    src = np.asarray(table["src_ip"].to_pylist(), dtype=object)
    dst = np.asarray(table["dst_ip"].to_pylist(), dtype=object)
    si = table["si"].to_numpy(zero_copy_only=False)
    t = table["t"].to_numpy()
    up = table["up_bytes"].to_numpy()
    if not len(t):
        return []
    change = np.flatnonzero((src[1:] != src[:-1]) | (dst[1:] != dst[:-1])) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(t)]])
    out = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        score = rita_score(t[s:e], up[s:e], first, last)
        if score is not None:
            out.append(Scored(src[s], dst[s], src[s] if si[s] else dst[s], score))
    out.sort(key=lambda r: (-r.score, netclass.ip_sort_key(r.src), netclass.ip_sort_key(r.dst)))
    return out


def sentinel(config: Config) -> list[Scored]:
    """Every finding of --beacon, by score (its own order)."""
    report: Report = pipeline.run(config)
    return [
        Scored(r["src_ip"], r["destination"], r["host"], r["score"]) for r in report.section("beacon").json()["rows"]
    ]


# -- judging ----------------------------------------------------------------------------------------------------


def names(destination: str, dst: str) -> bool:
    """Whether a finding's destination (an address, or a "prefix AS" group) is or holds `dst`."""
    first = destination.split(" ", 1)[0]
    if first == dst:
        return True
    try:
        return "/" in first and ipaddress.ip_address(dst) in ipaddress.ip_network(first, strict=False)
    except ValueError:
        return False


def rank(findings: list[Scored], src: str, dsts: list[str]) -> int | None:
    for i, f in enumerate(findings, start=1):
        if f.src == src and any(names(f.dst, d) for d in dsts):
            return i
    return None


@dataclass
class Judged:
    true: int = 0
    false: int = 0
    cross: int = 0

    def precision(self) -> str:
        flagged = self.true + self.false
        return f"{self.true / flagged:.3f}" if flagged else "n/a"

    def __str__(self) -> str:
        return f"P {self.precision()} ({self.true} true, {self.false} false, {self.cross} cross)"


def judge(findings: list[Scored], beacons: list[tuple[str, list[str]]], others: set[str]) -> Judged:
    """Findings scoring ALERT_FLOOR or more: true when they name a true beacon pair, cross when their internal
    host is another attack's, else false."""
    j = Judged()
    for f in findings:
        if f.score < ALERT_FLOOR:
            continue
        if any(f.src == s and any(names(f.dst, d) for d in ds) for s, ds in beacons):
            j.true += 1
        elif f.host in others:
            j.cross += 1
        else:
            j.false += 1
    return j


def fmt_rank(r: int | None) -> str:
    return "-" if r is None else str(r)


def compare(
    config: Config, beacons: list[tuple[str, list[str]]], others: set[str], label: str, totals: dict[str, Judged]
) -> None:
    t0 = time.perf_counter()
    r = rita(config)
    t1 = time.perf_counter()
    s = sentinel(config)
    t2 = time.perf_counter()
    jr, js = judge(r, beacons, others), judge(s, beacons, others)
    for key, j in (("rita", jr), ("sentinel", js)):
        totals[key].true += j.true
        totals[key].false += j.false
        totals[key].cross += j.cross
    ranks = "  ".join(
        f"{src}->{dsts[0]}{'+' if len(dsts) > 1 else ''}: {fmt_rank(rank(r, src, dsts))}/{fmt_rank(rank(s, src, dsts))}"
        for src, dsts in beacons
    )
    print(f"{label}")
    print(f"    RITA     {jr}  scored {len(r)} pairs in {t1 - t0:.1f} s")
    print(f"    Sentinel {js}  {len(s)} findings in {t2 - t1:.1f} s")
    if beacons:
        print(f"    rank of each true beacon (RITA/Sentinel): {ranks}")


SIZES = [(60, 150_000), (120, 300_000), (200, 500_000), (240, 1_000_000)]


def simulated(seeds: int, folder: Path) -> None:
    totals = {"rita": Judged(), "sentinel": Judged()}
    print("simulated days (every kind of alert type beacon is a true beacon: beacon, rotating beacon, long session)")
    for hosts, flows in SIZES:
        for seed in range(seeds):
            sim = simulate(SimulationConfig(hosts=hosts, flows=flows, seed=seed, attacks=True))
            path, _ = write_simulation(sim, folder / f"day-{hosts}-{flows}-{seed}.parquet")
            attacks = sim.labels["attacks"]
            beacons = [(a["hosts"][0], a["counterparts"]) for a in attacks if a["alert_type"] == "beacon"]
            others = {h for a in attacks if a["alert_type"] != "beacon" for h in a["hosts"]}
            config = Config(data=path, units={"beacon": default_params("beacon")})
            compare(config, beacons, others, f"  {hosts} hosts, {flows} flows, seed {seed}", totals)
            path.unlink()
    print(f"  all simulated days: RITA {totals['rita']}; Sentinel {totals['sentinel']}")


REAL = [  # (file under derived-course-schema, internal network, the true beacon pairs)
    *(
        (f"rita-missing-host-{day}.parquet", "64.225.56.201/32", [("73.54.23.243", ["64.225.56.201"])])
        for day in ("2024-04-19", "2024-04-20", "2024-04-21")
    ),
    ("stratosphere-sdt-001-njrat-cc.parquet", "192.168.0.0/16", [("192.168.1.115", ["41.108.179.197"])]),
    ("stratosphere-slips-test18-remcos-exfil.parquet", "192.168.0.0/16", [("192.168.1.107", ["66.63.168.35"])]),
    ("stratosphere-sdt-008-ctu-normal-40-day1.parquet", "147.32.0.0/16", []),
    ("stratosphere-sdt-010-ctu-normal-42-day2.parquet", "147.32.0.0/16", []),
    ("stratosphere-sdt-011-ctu-normal-43-day1.parquet", "147.32.0.0/16", []),
    ("stratosphere-sdt-012-ctu-normal-44-day2.parquet", "147.32.0.0/16", []),
]


def real(shared: Path) -> None:
    print("\nreal captures (../shared/data/derived-course-schema; SOURCES.md has their ground truth)")
    totals = {"rita": Judged(), "sentinel": Judged()}
    for name, network, beacons in REAL:
        path = shared / "derived-course-schema" / name
        if not path.exists():
            print(f"  {name}: absent")
            continue
        internal = netclass.parse_cidrs(network, "--internal")
        config = Config(data=path, internal=internal, units={"beacon": default_params("beacon")})
        compare(config, beacons, set(), f"  {name} (internal {network})", totals)
    print(f"  all real captures: RITA {totals['rita']}; Sentinel {totals['sentinel']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="simulated days per size (default 3)")
    parser.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("SENTINEL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")),
    )
    args = parser.parse_args()
    print(f"machine: {usable_cpus()} CPUs, {cpu_model()}; load average before: {load_average()}")
    print(f"findings scoring {ALERT_FLOOR} or more are flagged (RITA's base threshold, Sentinel's alert floor)\n")
    with tempfile.TemporaryDirectory() as tmp:
        simulated(args.seeds, Path(tmp))
    real(args.shared)


if __name__ == "__main__":
    main()
