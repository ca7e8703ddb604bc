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


def allow_lists(labels: dict[str, Any]) -> dict[str, dict[str, tuple[str, ...]]]:
    """What a deployment declares about the simulated office's benign look-alikes that need it (e.g. the
    backup host in `lateral.admin_hosts`): unit key -> parameter -> addresses, from the labels."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for item in labels.get("benign", []):
        for name, ips in (item.get("allow_list") or {}).items():
            key, param = name.split(".", 1)
            before = out.setdefault(key, {}).get(param, ())
            out[key][param] = tuple(sorted({*before, *ips}))
    return out


def benign_hosts(labels: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Hosts of the labelled benign look-alikes (address -> their kinds); 'clients' (every client) is left
    out."""
    out: dict[str, tuple[str, ...]] = {}
    for item in labels.get("benign", []):
        hosts = item.get("hosts")
        if isinstance(hosts, list):
            for h in hosts:
                out[h] = (*out.get(h, ()), item["kind"])
    return out
