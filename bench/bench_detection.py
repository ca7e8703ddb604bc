"""Detection quality: precision and recall of -dx (exfiltration) and -bn (botnet) alerts.

On simulated office days (ground truth from the simulator) over several seeds and sizes, and on the
real labelled captures in ../shared/data where they carry a label these detectors address.

    python bench/bench_detection.py [--seeds 10] [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from sentinel import pipeline, quality
from sentinel.config import Config
from sentinel.registry import default_params
from sentinel.simulate import SimulationConfig, simulate, write_simulation

SIZES = [(60, 150_000), (120, 300_000), (200, 500_000), (200, 1_000_000), (240, 2_000_000)]
TYPES = ("exfiltration", "botnet")


def run_day(hosts: int, flows: int, seed: int, folder: Path) -> tuple[dict, object]:
    sim = simulate(SimulationConfig(hosts=hosts, flows=flows, seed=seed, attacks=True))
    path, _ = write_simulation(sim, folder / f"day-{hosts}-{flows}-{seed}.parquet")
    units = {k: default_params(k) for k in TYPES}
    report = pipeline.run(Config(data=path, units=units))
    path.unlink()
    return sim.labels, report


def simulated(seeds: int) -> None:
    totals = {t: [0, 0, 0] for t in TYPES}
    servers_flagged = 0
    print(f"{'hosts':>5} {'flows':>9} {'seed':>4}  " + "  ".join(f"{t + ' TP/FP/FN':>22}" for t in TYPES))
    with tempfile.TemporaryDirectory() as tmp:
        for hosts, flows in SIZES:
            for seed in range(seeds):
                labels, report = run_day(hosts, flows, seed, Path(tmp))
                cells = []
                for t in TYPES:
                    s = quality.score(report, labels, t)
                    for i, v in enumerate((s.true_positives, s.false_positives, s.false_negatives)):
                        totals[t][i] += v
                    cells.append(f"{s.true_positives:>12}/{s.false_positives}/{s.false_negatives}")
                servers_flagged += len(quality.servers(labels) & quality.alerted_hosts(report, "botnet"))
                print(f"{hosts:>5} {flows:>9} {seed:>4}  " + "  ".join(f"{c:>22}" for c in cells))
    print()
    for t, (tp, fp, fn) in totals.items():
        s = quality.Score(t, tp, fp, fn)
        print(f"simulated {t:13s} precision {s.precision:.3f}  recall {s.recall:.3f}  (TP {tp}, FP {fp}, FN {fn})")
    print(f"internal servers alerted as botnet: {servers_flagged}")


def real(shared: Path) -> None:
    """Labelled real captures: which labelled-malicious internal hosts each detector alerts on."""
    cases = [
        (
            "stratosphere-slips-test18-remcos-exfil.parquet",
            "exfiltration",
            "192.168.1.107",
            "RemcosRAT data exfiltration, 719 flows, 72.8 kB up",
        ),
        (
            "stratosphere-sdt-001-njrat-cc.parquet",
            "exfiltration",
            None,
            "NjRAT C&C: no exfiltration labelled",
        ),
    ]
    print("\nreal labelled captures (../shared/data/derived-course-schema):")
    for name, alert_type, infected, what in cases:
        path = shared / "derived-course-schema" / name
        if not path.exists():
            print(f"  {name}: absent")
            continue
        units = {k: default_params(k) for k in TYPES}
        report = pipeline.run(Config(data=path, units=units))
        found = sorted(quality.alerted_hosts(report, alert_type))
        rows = pq.ParquetFile(path).metadata.num_rows
        print(
            f"  {name} ({rows} flows; {what}): {alert_type} alerts on {found or 'none'};"
            f" labelled host {infected or '-'}; botnet alerts {sorted(quality.alerted_hosts(report, 'botnet'))}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("SENTINEL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")),
    )
    args = parser.parse_args()
    simulated(args.seeds)
    real(args.shared)


if __name__ == "__main__":
    main()
