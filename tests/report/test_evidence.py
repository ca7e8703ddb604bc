"""Typed evidence: what reports show of it (figures), and the records the pipeline annotates."""

import dataclasses

import pytest

from sentinel.report.evidence import IntelEvidence, LateralEvidence
from sentinel.timefmt import Instant
from tests.report.hostile import exfiltration_evidence


def _intel() -> IntelEvidence:
    return IntelEvidence(
        lists=["drop.txt: 203.0.113.0/24"],
        entries=[{"list": "drop.txt", "entry": "203.0.113.0/24", "comment": ""}],
        flows=3,
        bytes_sent_to_listed=100,
        bytes_received_from_listed=0,
        opened_by_hosts=True,
        hosts_involved=[{"host": "10.0.0.1", "flows": 3, "sent": 100, "received": 0, "opened": True}],
    )


def test_figures_are_the_fields_in_order_without_chart_data_or_unset_extras():
    ev = exfiltration_evidence("AS1 Example")
    figures = ev.figures()
    assert list(figures)[:3] == ["transfer_out_bytes", "alert_threshold_bytes", "transfers"]
    assert "timeline" not in figures  # the chart's data
    assert "threat_intel" not in figures and "score_before_threat_intel" not in figures  # never set
    assert figures["quiet_hours_share"] is None  # a figure of its own, None or not
    assert list(_intel().figures()) == [f.name for f in dataclasses.fields(IntelEvidence)][2:]


def test_amended_figures_come_last():
    ev = dataclasses.replace(_intel(), threat_intel=["203.0.113.9 on drop.txt"], score_before_threat_intel=0.5)
    assert list(ev.figures())[-2:] == ["threat_intel", "score_before_threat_intel"]
    assert ev.figures()["score_before_threat_intel"] == 0.5


def test_figures_are_copies_and_records_are_the_evidence_itself():
    ev = _intel()
    ev.figures()["entries"][0]["entry"] = "changed"
    assert ev.entries[0]["entry"] == "203.0.113.0/24"  # a renderer cannot change the evidence
    records = ev.records()
    assert records == [*ev.entries, *ev.hosts_involved] and records[0] is ev.entries[0]
    records[0]["entry_where"] = "NL"  # what the pipeline does: seen by every renderer after it
    assert ev.figures()["entries"][0]["entry_where"] == "NL"


def test_evidence_is_frozen_and_keeps_instants():
    start = Instant(3_600_000_000, relative=True)
    ev = LateralEvidence(
        targets=1,
        burst_targets=1,
        burst_start=start,
        burst_minutes=30,
        ports=["tcp/445"],
        flows=1,
        up_bytes=1,
        down_bytes=1,
        unanswered_targets=0,
        sessions=[],
        first_contacts=[start],
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.targets = 2  # type: ignore[misc]
    assert isinstance(ev.figures()["burst_start"], Instant) and "first_contacts" not in ev.figures()
