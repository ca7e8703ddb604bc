"""Benchmark: `--all` over a 100M-flow capture of many files, and over the same flows imported as a dataset.

    python bench/bench_scale.py                     # 10 files of a simulated 10M-flow day: 100M flows
    python bench/bench_scale.py --files 3           # 30M flows
    python bench/bench_scale.py --days              # 10 different days (seeds 1-10), imported under their dates

The capture is one simulated day (`sentinel simulate --seed 1 --attacks`) copied into --files files (copies,
not links: Sentinel reads a file once however often it is named); the dataset is that folder imported once
(`sentinel import`, timed too). Each run is a fresh process, timed from start to exit, with the peak resident
memory of its process tree (ru_maxrss from wait4). Aims: ≥ 2M flows/s in ≤ 4 GB. Nothing is asserted.

Copies are the easy case for every aggregation (the same pairs, ten times over) and a strange one for the
beacon detector (every connection ten times at the same instant: a pair seen once a day becomes a burst of
ten). `--days` measures what ten days of an office look like instead: ten simulated days of different seeds
(other destinations, other schedules, the same hosts), each imported under its own date into one dataset, and
`--all` over that dataset. `--days --compare-text` also runs `--all` over the same dataset without its address
ids (the files rewritten without src_id/dst_id, as `sentinel import` wrote them before ids existed): what
grouping and joining on integer ids instead of address text saves, run against run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from machine import cpu_model, load_average, total_ram_gb, usable_cpus  # bench/machine.py
from processes import sentinel, timed  # bench/processes.py
from sentinel.sources.dataset import address_table_path, summaries_of
from sentinel.sources.summaries import SUMMARIES


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--day-flows", type=int, default=10_000_000, help="flows of the simulated day (default 10M)")
    p.add_argument("--files", type=int, default=10, help="copies of the day (default 10: 100M flows)")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "sentinel-bench-scale")
    p.add_argument("--days", action="store_true", help="ten different days in one dataset instead of copies")
    p.add_argument("--compare-text", action="store_true", help="with --days: also the dataset without its address ids")
    args = p.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.days:
        return distinct_days(args.workdir, args.day_flows, args.files, args.compare_text)
    day = args.workdir / f"day-{args.day_flows}.parquet"
    if not day.exists():
        cmd = sentinel("simulate", str(day), "--flows", str(args.day_flows), "--seed", "1", "--attacks")
        subprocess.run(cmd, check=True)
    folder = args.workdir / f"capture-{args.files}x{args.day_flows}"
    if not folder.is_dir() or len(list(folder.glob("*.parquet"))) != args.files:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for i in range(args.files):
            shutil.copyfile(day, folder / f"part-{i:03d}.parquet")
    flows = args.day_flows * args.files
    print(f"machine: {cpu_model()}, {usable_cpus()} cores, {total_ram_gb():.1f} GB RAM, load {load_average()}")
    print(f"capture: {folder} ({args.files} files, {flows:,} flows)")

    dataset = args.workdir / f"dataset-{args.files}x{args.day_flows}"
    shutil.rmtree(dataset, ignore_errors=True)
    seconds, peak = timed(sentinel("import", str(folder), "--to", str(dataset), "-q"))
    print(f"sentinel import: {seconds:.1f} s, {flows / seconds:,.0f} rows/s, peak {peak / 1024:,.0f} MB")
    for name, data in (("files", folder), ("dataset", dataset)):
        seconds, peak = timed(sentinel("--data", str(data), "--all", "-q"))
        print(
            f"--all on the {name}: {seconds:.1f} s, {flows / seconds:,.0f} flows/s, peak {peak / 1024:,.0f} MB "
            "(aims: >= 2,000,000 flows/s, <= 4,096 MB)"
        )
    return 0


def distinct_days(workdir: Path, day_flows: int, days: int, compare_text: bool) -> int:
    """`--all` over a dataset of `days` simulated days of different seeds, each imported under its date."""
    dataset = workdir / f"days-{days}x{day_flows}"
    flows = day_flows * days
    print(f"machine: {cpu_model()}, {usable_cpus()} cores, {total_ram_gb():.1f} GB RAM, load {load_average()}")
    complete = workdir / f"{dataset.name}.complete"  # beside the dataset: a file inside would be read as input
    parts = sorted(str(p) for p in dataset.glob("day=*/*.parquet"))
    # imported before address ids or before the summaries: redo
    if not complete.exists() or not address_table_path(dataset).is_file() or set(summaries_of(parts)) != set(SUMMARIES):
        shutil.rmtree(dataset, ignore_errors=True)
        imports = peaks = 0.0
        for i in range(1, days + 1):
            day = workdir / f"day-{day_flows}-seed{i}.parquet"
            if not day.exists():
                cmd = sentinel("simulate", str(day), "--flows", str(day_flows), "--seed", str(i), "--attacks")
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            date = f"2024-01-{i:02d}"
            more = ["--append"] if i > 1 else []
            seconds, peak = timed(sentinel("import", str(day), "--to", str(dataset), "--date", date, "-q", *more))
            imports, peaks = imports + seconds, max(peaks, peak)
        print(
            f"sentinel import of the {days} days (one each, --append): {imports:.1f} s, {flows / imports:,.0f} rows/s, "
            f"peak {peaks / 1024:,.0f} MB"
        )
        complete.touch()
    print(f"dataset: {dataset} ({days} days of {day_flows:,} flows, seeds 1-{days}: {flows:,} flows)")
    seconds, peak = timed(sentinel("--data", str(dataset), "--all", "-q"))
    print(
        f"--all on the {days} days: {seconds:.1f} s, {flows / seconds:,.0f} flows/s, peak {peak / 1024:,.0f} MB "
        "(aims: >= 2,000,000 flows/s, <= 4,096 MB)"
    )
    if compare_text:
        text = without_ids(dataset, workdir / f"{dataset.name}-text")
        text_seconds, text_peak = timed(sentinel("--data", str(text), "--all", "-q"))
        print(
            f"--all on the same days without address ids: {text_seconds:.1f} s, {flows / text_seconds:,.0f} flows/s, "
            f"peak {text_peak / 1024:,.0f} MB; with ids {text_seconds / seconds:.2f}x as fast, "
            f"{peak / text_peak:.2f}x the memory"
        )
    return 0


def without_ids(dataset: Path, target: Path) -> Path:
    """A copy of `dataset` whose files have no address ids and no address table (made once, then reused)."""
    import duckdb

    done = target.with_name(f"{target.name}.complete")
    if done.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    with duckdb.connect() as con:
        for part in sorted(dataset.glob("day=*/*.parquet")):
            out = target / part.parent.name / part.name
            out.parent.mkdir(parents=True, exist_ok=True)
            con.execute(
                "COPY (SELECT * EXCLUDE (src_id, dst_id) FROM read_parquet(?)) TO '"
                + str(out).replace("'", "''")
                + "' (FORMAT parquet, COMPRESSION zstd)",
                [str(part)],
            )
    done.touch()
    return target


if __name__ == "__main__":
    raise SystemExit(main())
