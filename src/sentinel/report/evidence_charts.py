"""The chart of an alert, built from its typed evidence: the one place "why" charts are made (HTML, the
Markdown report's PNGs and the JSON report all ask here)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import numpy as np

from sentinel.enrich import netclass
from sentinel.report.evidence import (
    BeaconEvidence,
    BotnetEvidence,
    DnsEvidence,
    ExfiltrationEvidence,
    LateralEvidence,
    ScanEvidence,
)
from sentinel.report.formatting import human_bytes, seconds_text
from sentinel.report.model import Alert, Chart, Series
from sentinel.schema import US_PER_HOUR, US_PER_SECOND
from sentinel.timefmt import Instant, format_us

US_PER_MINUTE = 60 * US_PER_SECOND


def chart_key(alert: Alert) -> str:
    """The key of an alert's chart: `alert-<id>`, also the end of its PNG's name beside the Markdown report."""
    return f"alert-{alert.id}"


def alert_chart(alert: Alert) -> Chart | None:
    """What shows an alert's evidence, or None where its type has no chart (or its data is empty)."""
    ev = alert.evidence
    key = chart_key(alert)
    host = alert.hosts[0]
    if isinstance(ev, BeaconEvidence):
        return _intervals(key, alert.src_ip or host, ev)
    if isinstance(ev, ExfiltrationEvidence):
        return _uploads(key, host, ev)
    if isinstance(ev, BotnetEvidence):
        return _graph(key, ev)
    if isinstance(ev, ScanEvidence):
        return _new_targets(key, host, ev)
    if isinstance(ev, DnsEvidence):
        return _dns_up(key, host, ev)
    if isinstance(ev, LateralEvidence):
        return _first_contacts(key, host, ev)
    return None


def _intervals(key: str, source: str, ev: BeaconEvidence) -> Chart | None:
    """Histogram of beat intervals over 0-3 periods (12 bins); longer ones in the last bin."""
    if not ev.intervals or not ev.period:
        return None
    edges = np.linspace(0, 3 * ev.period, 13)
    counts, _ = np.histogram(np.clip(np.asarray(ev.intervals), 0, 3 * ev.period * 0.9999), bins=edges)
    return Chart(
        key=key,
        title=f"Intervals between connections of {source} to {ev.partner}",
        labels=[f"{seconds_text(a)}-{seconds_text(b)}" for a, b in itertools.pairwise(edges.tolist())],
        values=[float(c) for c in counts],
        xlabel="interval",
        ylabel="intervals",
        unit="intervals",  # a count of intervals: the axis is not "intervals (flows)"
    )


def _hour_label(hour: int, width: int, relative: bool, many_days: bool) -> str:
    if relative:
        days, h = divmod(hour, 24)
        if width == 24:
            return f"day +{days}"
        return f"+{days}d {h:02d}h" if many_days else f"+{h:02d}h"
    start = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=hour)
    if width == 24:
        return start.strftime("%Y-%m-%d")
    return start.strftime("%m-%d %Hh") if many_days else start.strftime("%Hh")


def _uploads(key: str, host: str, ev: ExfiltrationEvidence) -> Chart | None:
    """Bytes the host sent to the destinations the alert quotes (and received back), per hour or day."""
    t = ev.timeline
    if t is None or not t.hours:
        return None
    many_days = t.hours[-1] - t.hours[0] >= 24
    where = t.destinations[0] if len(t.destinations) == 1 else f"its {len(t.destinations)} transfer destinations"
    unit = "day" if t.width == 24 else "hour"
    return Chart(
        key=key,
        title=f"Bytes {host} sent to {where}, per {unit} (UTC)",
        labels=[_hour_label(b, t.width, t.relative, many_days) for b in t.hours],
        values=[float(v) for v in t.up_bytes],
        xlabel=f"{unit} (UTC)" if not t.relative else f"{unit} (from 00:00 of the unknown day)",
        ylabel="up_bytes (sent)",
        unit="bytes",
        series=[Series("down_bytes (received back)", [float(v) for v in t.down_bytes], "bytes")],
    )


def _graph(key: str, ev: BotnetEvidence) -> Chart | None:
    """Who talks to whom in a group: its members, and flows between each pair (both directions together)."""
    if not ev.edges:
        return None
    pair_flows: dict[tuple[str, str], int] = defaultdict(int)
    member_flows: dict[str, int] = defaultdict(int)
    for src, dst, flows in ev.edges:
        a, b = sorted((src, dst), key=netclass.ip_sort_key)
        pair_flows[(a, b)] += flows
        member_flows[src] += flows
        member_flows[dst] += flows
    edges = sorted(pair_flows.items(), key=lambda kv: (netclass.ip_sort_key(kv[0][0]), netclass.ip_sort_key(kv[0][1])))
    return Chart(
        key=key,
        title=f"Peer-to-peer group of {len(ev.members)} hosts",
        labels=ev.members,
        values=[float(member_flows[m]) for m in ev.members],
        xlabel="flows of the host within the group",
        ylabel="flows between the two hosts",
        kind="graph",
        edges=[(a, b, float(n)) for (a, b), n in edges],
    )


def _new_targets(key: str, host: str, ev: ScanEvidence) -> Chart | None:
    if not ev.bucket_starts:
        return None
    return Chart(
        key=key,
        title=f"Targets {host} probed for the first time, per {ev.step_minutes} min",
        labels=[s.text() for s in ev.bucket_starts],
        values=[float(c) for c in ev.new_targets],
        xlabel="time",
        ylabel="new targets",
        unit="targets",  # a count of targets: the axis is not "new targets (flows)"
    )


def hour_label(hour: Instant) -> str:
    """'2024-04-19 10:00' (or '+10:00', '+1d 10:00' for a day-relative input) for the start of an hour."""
    text = hour.text()
    if hour.relative:
        return text.rsplit(":", 2)[0] + ":00"
    return text[:13].replace("T", " ") + ":00" if text[:4].isdigit() else text


def _dns_up(key: str, host: str, ev: DnsEvidence) -> Chart | None:
    if not ev.hours:
        return None
    return Chart(
        key=key,
        title=f"DNS bytes sent up per hour by {host} (peers' median: {human_bytes(ev.peer_median_up_bytes)} a day)",
        labels=[hour_label(h) for h in ev.hours],
        values=[float(v) for v in ev.up_bytes_per_hour],
        xlabel="hour",
        ylabel="bytes up",
        unit="bytes",  # the axis in kB/MB/GB, as "bytes up", not "bytes up (flows)"
    )


def _minute_label(moment: Instant) -> str:
    text = format_us(int(moment), moment.relative)
    if moment.relative:
        return text.rsplit(":", 1)[0]
    return text[:16].replace("T", " ") if text[:4].isdigit() else text


def _first_contacts(key: str, host: str, ev: LateralEvidence) -> Chart | None:
    """New targets per 10 minutes (per hour when the fan-out spans more than a day)."""
    firsts = [int(t) for t in ev.first_contacts]
    if not firsts:
        return None
    relative = ev.first_contacts[0].relative
    step = 10 * US_PER_MINUTE if max(firsts) - min(firsts) <= 24 * US_PER_HOUR else US_PER_HOUR
    first_bin = min(firsts) // step
    counts: dict[int, int] = {}
    for f in firsts:
        counts[f // step - first_bin] = counts.get(f // step - first_bin, 0) + 1
    bins = range(max(counts) + 1)
    per = "10 minutes" if step < US_PER_HOUR else "hour"
    return Chart(
        key=key,
        title=f"Internal hosts {host} first reached on admin ports, per {per}",
        labels=[_minute_label(Instant((first_bin + b) * step, relative)) for b in bins],
        values=[float(counts.get(b, 0)) for b in bins],
        xlabel="time",
        ylabel="new targets",
        unit="targets",  # a count of targets: the axis is not "new targets (flows)"
    )
