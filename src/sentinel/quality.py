"""Detection quality against ground truth: precision and recall of alerted hosts per alert type.

Used by the tests (with thresholds) and by bench/bench_detection.py (which prints the figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sentinel.report.model import Report


@dataclass(frozen=True)
class Score:
    alert_type: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0


def labelled_hosts(labels: dict[str, Any], alert_type: str) -> set[str]:
    return {h for a in labels["attacks"] if a["alert_type"] == alert_type for h in a["hosts"]}


def alerted_hosts(report: Report, alert_type: str) -> set[str]:
    return {h for a in report.alerts if a.type == alert_type for h in a.hosts}


def score(report: Report, labels: dict[str, Any], alert_type: str) -> Score:
    truth = labelled_hosts(labels, alert_type)
    found = alerted_hosts(report, alert_type)
    return Score(alert_type, len(found & truth), len(found - truth), len(truth - found))


def servers(labels: dict[str, Any]) -> set[str]:
    return {ip for ips in labels["servers"].values() for ip in ips}
