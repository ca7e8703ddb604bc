"""Typed evidence of alerts, one frozen dataclass per alert type: the figures behind the score (what the
reports show as the alert's figures and records) and the raw data its chart is drawn from (fields marked
CHART: beat intervals, upload timeline, edge list, new targets over time). Charts are built from these in
report/evidence_charts.py, never by the detectors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sentinel.timefmt import Instant

#: Metadata of a field that only feeds the alert's chart: not among its figures (nor in JSON evidence).
CHART = {"chart": True}
#: Metadata of a field left out of the figures while it is None (set afterwards, for some alerts only).
OPTIONAL = {"optional": True}


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """What every alert may carry: threat_intel's amend says which lists name its addresses, and the score
    the alert had before it raised it."""

    threat_intel: list[str] | None = field(default=None, metadata=OPTIONAL)
    score_before_threat_intel: float | None = field(default=None, metadata=OPTIONAL)

    def figures(self) -> dict[str, Any]:
        """The evidence as a report shows it (JSON, ECS, HTML, Markdown): the type's own fields in order,
        then the common ones where set; chart data left out."""
        base = {f.name for f in dataclasses.fields(Evidence)}
        fields = dataclasses.fields(self)
        ordered = [f for f in fields if f.name not in base] + [f for f in fields if f.name in base]
        out: dict[str, Any] = {}
        for f in ordered:
            value = getattr(self, f.name)
            if f.metadata.get("chart") or (value is None and f.metadata.get("optional")):
                continue
            out[f.name] = _plain(value)
        return out

    def records(self) -> list[dict[str, Any]]:
        """Every record (dict) of the list fields, the objects themselves: the pipeline adds `<key>_where`."""
        out: list[dict[str, Any]] = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list) and not f.metadata.get("chart"):
                out.extend(v for v in value if isinstance(v, dict))
        return out


def _plain(value: Any) -> Any:
    """A copy of lists and dicts (a renderer never changes the evidence); Instants stay Instants."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class UploadTimeline:
    """Bytes a host sent to (and received from) the destinations an alert quotes, per bucket of `width`
    hours; `hours` are the buckets' first hours since the epoch (UTC)."""

    hours: list[int]
    width: int  # 1 (hourly) or 24 (daily)
    up_bytes: list[int]
    down_bytes: list[int]
    destinations: list[str]
    relative: bool  # the day is unknown: hours count from 00:00 of it


@dataclass(frozen=True, kw_only=True)
class ExfiltrationEvidence(Evidence):
    transfer_out_bytes: int
    alert_threshold_bytes: int
    transfers: list[dict[str, Any]]
    host_up_bytes: int
    host_down_bytes: int
    host_ratio_up_down: float | None
    peer_median_ratio: float
    excess_up_bytes: int
    ratio_robust_z: float
    external_flows: int
    percentile: float
    quiet_hours_share: float | None
    timeline: UploadTimeline | None = field(default=None, metadata=CHART)


@dataclass(frozen=True, kw_only=True)
class BotnetEvidence(Evidence):
    members: list[str]
    ports: list[str]
    flows: int
    up_bytes: int
    down_bytes: int
    connected_pairs: int
    density: float
    reciprocity: float
    rate_per_second: float | None
    edges: list[tuple[str, str, int]] = field(default_factory=list, metadata=CHART)  # (source, destination, flows)


@dataclass(frozen=True, kw_only=True)
class BeaconEvidence(Evidence):
    """A periodic series: its fit, sizes, coverage, and the intervals between its beats."""

    kind: str
    period_s: float
    jitter: float
    timing_score: float
    missed_beats_share: float
    connections: int
    connections_in_bursts: int
    gaps: int
    active_share: float
    typical_up_bytes: int
    size_dispersion: float
    size_score: float
    coverage: float
    span_share: float
    coverage_score: float
    destinations: list[str]
    destination_count: int
    prevalence: int
    service_share: float
    hosts_sharing_schedule: int
    intervals: list[float] = field(default_factory=list, metadata=CHART)  # seconds between beats
    period: float = field(default=0.0, metadata=CHART)  # period_s unrounded: the histogram's bins
    partner: str = field(default="", metadata=CHART)  # the destination, or its network ("prefix AS")


@dataclass(frozen=True, kw_only=True)
class StrobeEvidence(Evidence):
    kind: str
    connections: int
    per_second: float
    destinations: list[str]
    destination_count: int
    prevalence: int
    hosts_sharing_schedule: int


@dataclass(frozen=True, kw_only=True)
class LongConnectionEvidence(Evidence):
    kind: str
    longest_s: float
    total_s: float
    sessions: int
    up_bytes: int
    down_bytes: int
    hosts_sharing_schedule: int


@dataclass(frozen=True, kw_only=True)
class ScanEvidence(Evidence):
    kinds: list[str]
    hosts: int
    internal_hosts: int
    ports: int
    targets: int
    probes: int
    unanswered_share: float
    duration_seconds: float
    targets_per_minute: float | None
    widest_window: dict[str, Any]
    top_ports: list[dict[str, Any]]
    top_hosts: list[dict[str, Any]]
    probe_share: float
    # Targets probed for the first time per bucket of `step_minutes`, from `bucket_starts`.
    bucket_starts: list[Instant] = field(default_factory=list, metadata=CHART)
    new_targets: list[int] = field(default_factory=list, metadata=CHART)
    step_minutes: int = field(default=0, metadata=CHART)


@dataclass(frozen=True, kw_only=True)
class DnsEvidence(Evidence):
    findings: list[str]
    dns_flows: int
    dns_up_bytes: int
    dns_down_bytes: int
    up_bytes_per_query: float
    peer_median_flows: float
    peer_median_up_bytes: float
    peer_median_bytes_per_query: float
    z_flows: float | None
    z_up_bytes: float | None
    z_bytes_per_query: float | None
    rogue_resolvers: list[str]
    dns_sweep_targets: int
    resolvers: list[dict[str, Any]]
    hosts_speaking_dns: int
    internal_resolvers: list[str]
    # DNS bytes the host sent per hour (every hour of its span, at most a week's last ones).
    hours: list[Instant] = field(default_factory=list, metadata=CHART)
    up_bytes_per_hour: list[int] = field(default_factory=list, metadata=CHART)


@dataclass(frozen=True, kw_only=True)
class LateralEvidence(Evidence):
    targets: int
    burst_targets: int
    burst_start: Instant | None  # None only without sessions
    burst_minutes: int
    ports: list[str]
    flows: int
    up_bytes: int
    down_bytes: int
    unanswered_targets: int
    sessions: list[dict[str, Any]]
    # When each target was first reached on an admin port (every target, not only the sessions quoted).
    first_contacts: list[Instant] = field(default_factory=list, metadata=CHART)


@dataclass(frozen=True, kw_only=True)
class IntelEvidence(Evidence):
    lists: list[str]
    entries: list[dict[str, Any]]
    flows: int
    bytes_sent_to_listed: int
    bytes_received_from_listed: int
    opened_by_hosts: bool
    hosts_involved: list[dict[str, Any]]
