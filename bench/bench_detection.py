"""Detection quality: precision and recall of -dx (exfiltration), -bn (botnet), --dns (dns_tunnel) and
--lateral (lateral) alerts, and which benign look-alikes were flagged.

On simulated office days (ground truth from the simulator) over several seeds and sizes, and on the
real labelled captures in ../shared/data where they carry a label these detectors address.

    python bench/bench_detection.py [--seeds 10] [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from sentinel import pipeline, quality
from sentinel.config import Config
from sentinel.detectors.scan import Params as ScanParams
from sentinel.enrich import netclass
from sentinel.registry import default_params
from sentinel.simulate import SimulationConfig, simulate, write_simulation

SIZES = [(60, 150_000), (120, 300_000), (200, 500_000), (200, 1_000_000), (240, 2_000_000)]
UNITS = ("exfiltration", "botnet", "scan", "dns", "lateral")  # unit keys run
TYPES = ("exfiltration", "botnet", "scan", "dns_tunnel", "lateral")  # alert types scored


def run_day(hosts: int, flows: int, seed: int, folder: Path) -> tuple[dict, object]:
    sim = simulate(SimulationConfig(hosts=hosts, flows=flows, seed=seed, attacks=True))
    path, _ = write_simulation(sim, folder / f"day-{hosts}-{flows}-{seed}.parquet")
    units = {k: default_params(k) for k in UNITS}
    for key, declared in quality.allow_lists(sim.labels).items():  # what a deployment declares (admin hosts)
        units[key] = dataclasses.replace(units[key], **declared)
    # The simulated vulnerability scanner is a known one: allow-listed, as a site would (scan.allow).
    allow = ",".join(b["allow"] for b in sim.labels["benign"] if b["kind"] == "vulnerability_scanner")
    units["scan"] = ScanParams(allow=allow)
    report = pipeline.run(Config(data=path, units=units))
    path.unlink()
    return sim.labels, report


def simulated(seeds: int) -> None:
    totals = {t: [0, 0, 0] for t in TYPES}
    servers_flagged = 0
    lookalikes: dict[tuple[str, str, str], int] = {}  # (kind, alert type, severity) -> days
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
                benign = quality.benign_hosts(labels)
                for a in report.alerts:
                    for h in a.hosts:
                        for kind in benign.get(h, ()):
                            key = (kind, a.type, a.severity)
                            lookalikes[key] = lookalikes.get(key, 0) + 1
                print(f"{hosts:>5} {flows:>9} {seed:>4}  " + "  ".join(f"{c:>22}" for c in cells))
    print()
    for t, (tp, fp, fn) in totals.items():
        s = quality.Score(t, tp, fp, fn)
        print(f"simulated {t:13s} precision {s.precision:.3f}  recall {s.recall:.3f}  (TP {tp}, FP {fp}, FN {fn})")
    print(f"internal servers alerted as botnet: {servers_flagged}")
    flagged = ", ".join(f"{k} as {t} ({sev}) x{n}" for (k, t, sev), n in sorted(lookalikes.items())) or "none"
    print(f"benign look-alikes alerted (with their declared allow-lists): {flagged}")


REAL_CASES = [  # (file, internal network, what its labels say)
    (
        "stratosphere-slips-test18-remcos-exfil.parquet",
        "192.168.0.0/16",
        "RemcosRAT exfiltration from 192.168.1.107: 719 flows, 72.8 kB up",
    ),
    ("stratosphere-sdt-001-njrat-cc.parquet", "192.168.0.0/16", "NjRAT C&C, no exfiltration or P2P"),
    ("stratosphere-sdt-008-ctu-normal-40-day1.parquet", "147.32.0.0/16", "attacks against a host, benign"),
    ("stratosphere-sdt-010-ctu-normal-42-day2.parquet", "147.32.0.0/16", "attacks against a host, benign"),
    ("stratosphere-sdt-011-ctu-normal-43-day1.parquet", "147.32.0.0/16", "attacks against a host, benign"),
    ("stratosphere-sdt-012-ctu-normal-44-day2.parquet", "147.32.0.0/16", "attacks against a host, benign"),
    ("rita-missing-host-2024-04-19.parquet", "64.225.56.201/32", "inbound beacon, internet scanning"),
]


def real(shared: Path) -> None:
    """Real labelled captures: which hosts each detector alerts on (labels say what is there to find)."""
    print("\nreal labelled captures (../shared/data/derived-course-schema):")
    for name, network, labels in REAL_CASES:
        path = shared / "derived-course-schema" / name
        if not path.exists():
            print(f"  {name}: absent")
            continue
        units = {k: default_params(k) for k in UNITS}
        internal = netclass.parse_cidrs(network, "--internal")
        report = pipeline.run(Config(data=path, internal=internal, units=units))
        found = {t: sorted(quality.alerted_hosts(report, t)) or "none" for t in TYPES}
        rows = pq.ParquetFile(path).metadata.num_rows
        alerted = ", ".join(f"{t} alerts {found[t]}" for t in TYPES)
        print(f"  {name} ({rows} flows, internal {network}; {labels}): {alerted}")


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
