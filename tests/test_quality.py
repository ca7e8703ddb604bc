"""Host-level scoring against ground truth: what counts as a hit, a miss, a false alarm, a cross-detection."""

from sentinel import quality
from sentinel.report.model import Alert, InputSummary, Report

LABELS = {
    "clients": ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"],
    "servers": {"dns": ["10.0.0.250"]},
    "benign": [
        {"kind": "update_check", "hosts": "clients", "dst_ip": "9.9.9.9"},
        {"kind": "vulnerability_scanner", "hosts": ["10.0.0.200"]},
    ],
    "attacks": [
        {"kind": "beacon", "alert_type": "beacon", "hosts": ["10.0.0.1"]},
        {"kind": "exfil_slow", "alert_type": "exfiltration", "hosts": ["10.0.0.2"]},
    ],
}


def _report(*alerts: Alert) -> Report:
    summary = InputSummary([], "parquet", 0, 0, 0, {}, None, None)
    return Report("0", "t", summary, {}, {}, alerts=list(alerts))


def _alert(kind: str, host: str, severity: str = "medium", dst: str | None = None) -> Alert:
    return Alert(kind, severity, 0.6, [host], "s", dst_ip=dst)


def test_hits_misses_false_alarms_and_cross_detections():
    report = _report(_alert("beacon", "10.0.0.2"), _alert("beacon", "10.0.0.3"))
    s = quality.score(report, LABELS, "beacon")
    # 10.0.0.1 missed; 10.0.0.2 is the exfiltration host (a cross-detection); 10.0.0.3 a false alarm.
    assert (s.true_positives, s.false_positives, s.false_negatives, s.cross_detections) == (0, 1, 1, 1)
    assert s.precision == 0.0 and s.recall == 0.0
    both = s + quality.score(_report(_alert("beacon", "10.0.0.1")), LABELS, "beacon")
    assert (both.true_positives, both.false_positives, both.false_negatives) == (1, 1, 1)


def test_nothing_to_find_and_nothing_found_is_perfect():
    s = quality.score(_report(), LABELS, "scan")
    assert s.precision == 1.0 and s.recall == 1.0


def test_look_alikes_flagged_by_host_and_destination():
    report = _report(
        _alert("beacon", "10.0.0.3", "high", dst="9.9.9.9"),  # a client's update check mistaken: flagged
        _alert("beacon", "10.0.0.4", "critical", dst="5.5.5.5"),  # another destination: not the update check
        _alert("scan", "10.0.0.200", "low"),
        _alert("beacon", "10.0.0.1", "critical", dst="9.9.9.9"),  # an attacker: never a look-alike
    )
    assert quality.look_alikes_flagged(report, LABELS) == {"update_check": "high", "vulnerability_scanner": "low"}
