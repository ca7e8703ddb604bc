"""Alerts as JSON lines with Elastic Common Schema (ECS) field names, for SIEMs (`--alerts-jsonl`).

One alert per line, nested objects as ECS writes them (`{"event": {"kind": "alert"}}` is `event.kind`).
`@timestamp` is when Sentinel raised the alert (the report's generation time, as Elastic's own detection
alerts do); the activity it is about is `event.start`/`event.end`. Times whose day is unknown (course
data without --date) are not RFC 3339 instants: they are left out of `event.start`/`event.end` and kept
as text under `sentinel.first_seen`/`sentinel.last_seen`. Everything Sentinel-specific (score, evidence,
implicated hosts) is under `sentinel.*`, ECS's place for custom fields of the producer.

`event.id` is a fingerprint of what the alert is about (type, hosts, counterpart, service, first seen):
the same finding in two runs has the same id, so a SIEM can tell repeats from new findings.

Lines are pure ASCII (JSON escapes for anything beyond it): a name from the data cannot carry a character that some
line-oriented reader takes for a line break (U+0085, U+2028, U+2029) and so split an alert in two.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sentinel.report.model import SEVERITIES, Alert, HostInfo, Report
from sentinel.timefmt import Instant, render_times

ECS_VERSION = "8.11.0"
# ECS event.severity is a number; Sentinel's labels in their order, 1 (info) to 5 (critical).
SEVERITY_NUMBER = {name: number for number, name in enumerate(SEVERITIES, start=1)}


def fingerprint(alert: Alert) -> str:
    """A stable id of what the alert is about (not of its figures): 20 hex digits of SHA-256."""
    first = alert.first_seen
    identity = [
        alert.type,
        sorted(alert.hosts),
        alert.src_ip,
        alert.dst_ip,
        alert.proto,
        alert.port,
        None if first is None else [int(first), first.relative],
    ]
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def _absolute(moment: Instant | None) -> str | None:
    return moment.text() if moment is not None and not moment.relative else None


def _endpoint(ip: str | None, info: HostInfo | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ip is None:
        return out
    out["ip"] = ip
    if info is not None:
        if info.dns_name:
            out["domain"] = info.dns_name
        if info.country:
            out["geo"] = {"country_iso_code": info.country}
        if info.as_org:
            out["as"] = {"organization": {"name": info.as_org}}
    return out


def document(alert: Alert, report: Report) -> dict[str, Any]:
    """The ECS document of one alert."""
    source_ip = alert.src_ip or (alert.hosts[0] if len(alert.hosts) == 1 else None)
    event: dict[str, Any] = {
        "kind": "alert",
        "category": ["network", "threat"],
        "type": ["indicator"],
        "module": "sentinel",
        "dataset": f"sentinel.{alert.type}",
        "provider": "sentinel",
        "id": fingerprint(alert),
        "severity": SEVERITY_NUMBER[alert.severity],
        "risk_score": alert.score,
        "risk_score_norm": round(100 * alert.score, 2),
        "created": report.generated_at,
    }
    if (start := _absolute(alert.first_seen)) is not None:
        event["start"] = start
    if (end := _absolute(alert.last_seen)) is not None:
        event["end"] = end
    doc: dict[str, Any] = {
        "@timestamp": report.generated_at,
        "ecs": {"version": ECS_VERSION},
        "event": event,
        "rule": {
            "name": alert.type,
            "id": f"sentinel.{alert.type}",
            "ruleset": "sentinel",
            "category": _section_title(alert, report),
        },
        "message": alert.summary,
        "observer": {"vendor": "Sentinel", "product": "sentinel", "version": report.version, "type": "analyzer"},
    }
    source = _endpoint(source_ip, report.hosts.get(source_ip) if source_ip else None)
    if source:
        doc["source"] = source
    destination = _endpoint(alert.dst_ip, report.hosts.get(alert.dst_ip) if alert.dst_ip else None)
    if alert.port is not None:
        destination["port"] = alert.port
    if destination:
        doc["destination"] = destination
    if alert.proto:
        doc["network"] = {"transport": alert.proto.lower()}
    related = list(dict.fromkeys([*alert.hosts, *(ip for ip in (alert.src_ip, alert.dst_ip) if ip)]))
    doc["related"] = {"ip": related}
    doc["sentinel"] = render_times(
        {
            "alert_id": alert.id,
            "type": alert.type,
            "severity": alert.severity,
            "score": alert.score,
            "hosts": alert.hosts,
            "first_seen": alert.first_seen,
            "last_seen": alert.last_seen,
            "evidence": alert.evidence.figures(),
            "sources": report.input.sources,
        }
    )
    return doc


def _section_title(alert: Alert, report: Report) -> str:
    """The title of the detector that raised the alert, where its section is in the report."""
    section = report.section(alert.type)
    return section.title if section is not None else alert.type


def render(report: Report) -> str:
    """One line per alert (none: empty text), in report order."""
    lines = [
        json.dumps(document(a, report), ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        for a in report.alerts
    ]
    return "".join(line + "\n" for line in lines)
