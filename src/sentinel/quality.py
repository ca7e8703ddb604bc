"""Detection quality against ground truth: precision and recall of alerted hosts per alert type.

Used by the tests (with thresholds) and by bench/bench_detection.py (which prints the figures).

Host level: a host the simulator made an attacker of kind K is a true positive of K's alert type when an
alert of that type names it. An alert of type T on a host that another injected attack compromised (the
low-and-slow exfiltration host also keeps a schedule, so `beacon` names it too) is no false alarm: it is
counted apart, as a cross-detection. A false positive is an alert on a host no attack used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sentinel.report.model import SEVERITIES, Report


@dataclass(frozen=True)
class Score:
    alert_type: str
    true_positives: int
    false_positives: int
    false_negatives: int
    cross_detections: int = 0  # hosts of other attack kinds this type named

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.alert_type,
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
            self.cross_detections + other.cross_detections,
        )


def labelled_hosts(labels: dict[str, Any], alert_type: str) -> set[str]:
    return {h for a in labels["attacks"] if a["alert_type"] == alert_type for h in a["hosts"]}


def attacker_hosts(labels: dict[str, Any]) -> set[str]:
    return {h for a in labels["attacks"] for h in a["hosts"]}


def alerted_hosts(report: Report, alert_type: str) -> set[str]:
    return {h for a in report.alerts if a.type == alert_type for h in a.hosts}


def score(report: Report, labels: dict[str, Any], alert_type: str) -> Score:
    truth = labelled_hosts(labels, alert_type)
    found = alerted_hosts(report, alert_type)
    others = attacker_hosts(labels) - truth
    return Score(
        alert_type,
        len(found & truth),
        len(found - truth - others),
        len(truth - found),
        len(found & others),
    )


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


def look_alikes(labels: dict[str, Any]) -> dict[str, tuple[set[str], set[str]]]:
    """Per benign look-alike kind (update checks, NTP, backup, a vulnerability scanner, ...): the internal hosts
    that do it ("clients" meaning every client) and the destinations they do it with (empty: any)."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    for b in labels["benign"]:
        hosts = b.get("hosts")
        members = set(labels["clients"]) if hosts == "clients" else set(hosts or [])
        targets = set(b.get("dst_ips") or []) | ({b["dst_ip"]} if b.get("dst_ip") else set())
        out[b["kind"]] = (members, targets)
    return out


def look_alikes_flagged(report: Report, labels: dict[str, Any]) -> dict[str, str]:
    """Per benign look-alike kind an alert mistook for an attack, the highest severity raised: an alert naming
    one of its hosts (not an attacker) and, where the look-alike has destinations, one of them (or none)."""
    attackers = attacker_hosts(labels)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    flagged: dict[str, str] = {}
    for kind, (hosts, targets) in look_alikes(labels).items():
        for alert in report.alerts:
            if not (set(alert.hosts) & hosts) - attackers:
                continue
            if targets and alert.dst_ip is not None and alert.dst_ip not in targets:
                continue
            if kind not in flagged or rank[alert.severity] > rank[flagged[kind]]:
                flagged[kind] = alert.severity
    return flagged
