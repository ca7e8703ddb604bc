"""--beacon against the simulator's ground truth: recall and precision >= 0.95 on benign hosts.

Hosts of other labelled attacks that really keep a schedule (the low-and-slow exfiltration uploads every 3-8
minutes, the P2P mesh members call each other every 5-20 minutes) are reported as beacons too; they are
attacks, not false alarms on benign hosts, so precision counts alerts on hosts no attack uses.
"""

import pytest

from sentinel import pipeline, quality
from sentinel.simulate import SimulationConfig, simulate, write_simulation
from tests.flows import config_for

DAYS = [(60, 150_000, 1), (120, 300_000, 2), (200, 500_000, 3), (240, 600_000, 5), (100, 400_000, 6)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = []
    for hosts, flows, seed in DAYS:
        sim = simulate(SimulationConfig(hosts=hosts, flows=flows, seed=seed, attacks=True))
        path, _ = write_simulation(sim, tmp_path_factory.mktemp("day") / "day.parquet")
        out.append((sim.labels, pipeline.run(config_for(path, "beacon"))))
    return out


def test_beacon_recall_and_precision(runs):
    tp = fp = fn = 0
    for labels, report in runs:
        truth = quality.labelled_hosts(labels, "beacon")
        other_attacks = {h for a in labels["attacks"] for h in a["hosts"]} - truth
        found = quality.alerted_hosts(report, "beacon")
        tp += len(found & truth)
        fn += len(truth - found)
        fp += len(found - truth - other_attacks)
    assert tp > 0
    assert tp / (tp + fp) >= 0.95, (tp, fp)
    assert tp / (tp + fn) >= 0.95, (tp, fn)


def test_no_benign_periodic_host_high(runs):
    for labels, report in runs:
        attackers = {h for a in labels["attacks"] for h in a["hosts"]}
        high = {h for a in report.alerts if a.severity in ("high", "critical") for h in a.hosts}
        assert not high - attackers
