"""--alerts-jsonl: one alert per line, Elastic Common Schema field names, for SIEMs."""

import json

from sentinel.report import ecs
from sentinel.report.model import Alert, HostInfo, InputSummary, Report
from sentinel.timefmt import Instant
from tests.report.hostile import HOSTILE, exfiltration_evidence, hostile_report

MANDATORY = ("@timestamp", "event.kind", "event.severity", "event.id", "rule.name", "message", "ecs.version")


def field(doc: dict, dotted: str):
    """An ECS field by its dotted name, from the nested document (KeyError where absent)."""
    if dotted in doc:
        return doc[dotted]
    value = doc
    for part in dotted.split("."):
        value = value[part]
    return value


def _report(relative: bool = False) -> Report:
    t0 = Instant(1_715_940_000_000_000, relative)
    report = Report(
        version="9.9",
        generated_at="2024-05-18T06:00:00Z",
        input=InputSummary(["day.parquet"], "course", 10, 10, 0, {}, t0, Instant(int(t0) + 10**9, relative)),
        enrichment={},
        settings={},
    )
    report.alerts = [
        Alert(
            "exfiltration",
            "high",
            0.9,
            ["192.168.1.5"],
            "192.168.1.5 sent 1 GB to 203.0.113.9",
            src_ip="192.168.1.5",
            dst_ip="203.0.113.9",
            first_seen=t0,
            last_seen=Instant(int(t0) + 5_000_000, relative),
            evidence=exfiltration_evidence(
                "Example Hosting BV", transfers=[{"dst_ip": "203.0.113.9", "first_seen": t0}]
            ),
            proto="TCP",
            port=443,
            id=1,
        ),
        Alert("botnet", "critical", 1.0, ["10.0.0.1", "10.0.0.2", "10.0.0.3"], "three peers", id=2),
    ]
    report.hosts = {
        "192.168.1.5": HostInfo("192.168.1.5", "internal", None, None, "pc5.lan"),
        "203.0.113.9": HostInfo("203.0.113.9", "public", "NL", "Example Hosting BV", "x.example.net"),
    }
    return report


def test_each_line_is_one_alert_with_the_mandatory_ecs_fields():
    text = ecs.render(_report())
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 3  # one per alert, each ended by a newline
    docs = [json.loads(line) for line in lines[:-1]]
    for doc in docs:
        for name in MANDATORY:
            field(doc, name)
        assert field(doc, "event.kind") == "alert"
        assert isinstance(field(doc, "event.severity"), int)
        assert field(doc, "@timestamp") == "2024-05-18T06:00:00Z"
    exfil, botnet = docs
    assert field(exfil, "source.ip") == "192.168.1.5"
    assert field(exfil, "source.domain") == "pc5.lan"
    assert field(exfil, "destination.ip") == "203.0.113.9"
    assert field(exfil, "destination.port") == 443
    assert field(exfil, "network.transport") == "tcp"
    assert field(exfil, "destination.geo.country_iso_code") == "NL"
    assert field(exfil, "destination.as.organization.name") == "Example Hosting BV"
    assert field(exfil, "rule.name") == "exfiltration"
    assert field(exfil, "event.severity") == 4 and field(botnet, "event.severity") == 5
    assert field(exfil, "event.risk_score") == 0.9 and field(exfil, "event.risk_score_norm") == 90.0
    assert field(exfil, "event.start") == "2024-05-17T10:00:00.000Z"
    assert field(exfil, "event.end") == "2024-05-17T10:00:05.000Z"
    assert field(exfil, "sentinel.evidence.transfers")[0]["first_seen"] == "2024-05-17T10:00:00.000Z"
    assert field(exfil, "sentinel.evidence.transfer_out_bytes") == 10**9
    assert "timeline" not in field(exfil, "sentinel.evidence")  # chart data stays out of the SIEM line
    assert field(exfil, "message") == "192.168.1.5 sent 1 GB to 203.0.113.9"
    # A group of hosts has no one source: they are all in related.ip.
    assert "source" not in botnet and field(botnet, "related.ip") == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


def test_no_alerts_is_an_empty_file():
    report = _report()
    report.alerts = []
    assert ecs.render(report) == ""


def test_unknown_days_are_not_passed_off_as_instants():
    [doc, _] = [json.loads(line) for line in ecs.render(_report(relative=True)).splitlines()]
    assert "start" not in doc["event"] and "end" not in doc["event"]
    assert doc["sentinel"]["first_seen"].startswith("+")


def test_event_id_names_the_finding_not_the_run():
    a, b = _report(), _report()
    b.generated_at = "2030-01-01T00:00:00Z"
    b.alerts[0].score = 0.5  # other figures, same finding
    first, second = ([json.loads(x)["event"]["id"] for x in ecs.render(r).splitlines()] for r in (a, b))
    assert first == second and first[0] != first[1]


def test_hostile_strings_stay_inside_their_line():
    text = ecs.render(hostile_report())
    assert text.isascii() and text.count("\n") == 1
    doc = json.loads(text)
    assert doc["message"] == HOSTILE and doc["destination"]["as"]["organization"]["name"] == HOSTILE
