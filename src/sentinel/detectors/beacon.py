"""--beacon: command-and-control beacons, strobes and long connections.

A host that calls home on a schedule: connections from one source to one destination (or to addresses of one
/24 and AS, so a C&C rotating its addresses is one finding) at a steady period, with steady sizes, over much
of the observed time. Every pair with an internal endpoint is examined (outbound, inbound towards a
declared-internal server, and internal to internal); the internal host implicated is the source when it is
internal, else the internal destination.

Aggregation in the engine, scoring in Python: one pass counts connections per (source, destination) pair
with an internal endpoint, and how many sources each destination has (prevalence); pairs with at least
`min_pair_connections` come to Python, are grouped by (source, destination /24 and AS organisation), and
groups with at least `min_connections` are candidates. Their start times and sizes (the candidate series, at
most `strobe_connections` per group: bounded) come to Python sorted by the engine; groups beyond that are
strobes, scored from their count alone. Where the input has `duration`, a second pass finds sessions open
`long_connection_seconds` or longer.

Score of a periodic series (sentinel.detectors._beacon_stats): `0.5 * timing + 0.2 * sizes + 0.3 *
coverage`, where timing is how well the beat intervals keep the dominant period (bursts merged into beats,
missed beats and multiples of the period tolerated, jitter of ±20 % still scoring 0.94), sizes how alike the
bytes sent per connection are, and coverage how evenly the connections cover their span and how much of the
observed period that span is; then times a confidence (0.7 for a few beats, 1 from 30), times a fleet factor
(the same period kept with one destination network, its /24 and AS, by `fleet_hosts` internal hosts or more:
updates, telemetry, CDN keep-alives of clients pinned to different edge addresses; or one
internal host keeping the same period with `fleet_hosts` or more partners: a poller, or a scanning botnet
knocking on one server; 0.5 and less), times a rarity factor (1 for a destination only this host contacts,
down to 0.85), times `service_factor` for protocols periodic by design (`periodic_services`, NTP).
Strobes score 0.6 at the threshold and 0.85 at most; long connections 0.4 at an hour and 0.7 at most (a
session open for a day is a lead, not proof). Findings from `alert_score` up alert; the others are listed.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from sentinel.config import describe_params, param
from sentinel.context import Context
from sentinel.detectors import _beacon_stats as bs
from sentinel.detectors.base import describe_host, human_bytes, severity_for
from sentinel.enrich import netclass
from sentinel.exact import pylist
from sentinel.report.evidence import BeaconEvidence, LongConnectionEvidence, StrobeEvidence
from sentinel.report.formatting import seconds_text as _fmt_s
from sentinel.report.model import Alert, Column, Section, Table
from sentinel.schema import DURATION, US_PER_SECOND
from sentinel.units import Detector, Flag, UnitResult


@dataclass(frozen=True)
class Params:
    min_connections: int = param(
        10, "connections from a source to a destination (or its /24 and AS) before their timing is scored"
    )
    min_pair_connections: int = param(3, "a destination the source reached fewer times than this joins no /24 group")
    prefix_v4: int = param(24, "IPv4 destinations in one prefix of this length and one AS are one group (rotating C&C)")
    prefix_v6: int = param(64, "the same for IPv6 destinations")
    strobe_connections: int = param(
        86_400, "a group with this many connections is a strobe (RITA's default: one a second for a day)"
    )
    long_connection_seconds: float = param(
        3600.0, "a session open this long is a long connection (needs the duration column)"
    )
    fleet_hosts: int = param(
        3, "periodic traffic this many internal hosts share (same destination, same period) is a fleet, scored down"
    )
    period_tolerance: float = param(
        0.25, "periods within this relative difference are the same period (fleets, pollers)"
    )
    periodic_services: tuple[str, ...] = param(
        ("udp/123",), "proto/port services periodic by design (NTP), scored down"
    )
    service_factor: float = param(0.5, "the factor periodic_services are scored by")
    min_regular_share: float = param(
        0.3,
        "share of a group's intervals that must lie within a factor of 2 of each other for its series to be "
        "scored (Poisson traffic: about 0.25)",
    )
    alert_score: float = param(0.5, "findings scoring this or more alert (0.5: medium); the others are only listed")
    table_rows: int = param(25, "findings listed in the section table, by score")


@dataclass
class Group:
    """A candidate: one source and one destination group (a single address, or addresses of one prefix and AS)."""

    gid: int
    src_ip: str
    key: str  # the destination group: an address, or "prefix AS"
    internal: str  # the internal host implicated
    dsts: list[str]
    connections: int
    first_ts: int
    last_ts: int
    prevalence: int  # how many hosts the remote side talks to (see build_groups)
    network: str = ""  # the destination's "prefix AS" (an internal destination: itself); fleets are counted by it


def internal_host(src_ip: str, dst_ip: str, internal: set[str]) -> str:
    """The internal endpoint implicated: the source when it is internal, else the destination."""
    return src_ip if src_ip in internal else dst_ip


def prefix_of(ip: str, v4: int, v6: int) -> str:
    """The network of an address at the group prefix length ("203.0.113.0/24"); the address itself if unparsable."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    length = v4 if addr.version == 4 else v6
    return str(ipaddress.ip_network(f"{addr}/{length}", strict=False))


def pair_counts(ctx: Context, params: Params) -> list[dict[str, Any]]:
    """Per (source, destination) pair with an internal endpoint: connections, first/last, the destination's
    sources; only pairs with at least min_pair_connections leave the engine."""
    internal = "SELECT ip FROM ip_dim WHERE class = 'internal'"
    table = ctx.engine.query(
        f"""
        WITH a AS (
            SELECT src_ip, dst_ip, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts
            FROM flows GROUP BY src_ip, dst_ip
        ), p AS (
            SELECT * FROM a WHERE src_ip IN ({internal}) OR dst_ip IN ({internal})
        ), q AS (
            SELECT src_ip, dst_ip, n, first_ts, last_ts, count(*) OVER (PARTITION BY dst_ip) AS dst_sources,
                   count(*) OVER (PARTITION BY src_ip) AS src_destinations FROM p
        )
        SELECT * FROM q WHERE n >= {int(params.min_pair_connections)}
        """
    )
    return pylist(table)


def build_groups(ctx: Context, pairs: list[dict[str, Any]], params: Params) -> list[tuple[Group, list[str]]]:
    """Groups of pairs by (source, destination prefix and AS), with at least min_connections, in a fixed order.

    A group of one destination is keyed by the address; a group of several by "prefix AS". Each group's pairs
    are listed so the series query can fetch them."""
    internal = (
        {r["ip"] for r in pylist(ctx.engine.query("SELECT ip FROM ip_dim WHERE class = 'internal'"))}
        if pairs
        else set()
    )
    destinations = sorted({r["dst_ip"] for r in pairs})
    info = ctx.ip_dim.lookup(destinations)
    # The group key of each distinct destination, once (an internal destination is itself: no rotation among
    # your own hosts)
    dst_key: dict[str, str] = {}
    for dst in destinations:
        if dst in internal:
            dst_key[dst] = dst
        else:
            row = info.get(dst)
            org = (row["as_org"] if row else None) or ""
            dst_key[dst] = f"{prefix_of(dst, params.prefix_v4, params.prefix_v6)} {org}".strip()
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in pairs:
        by_key[(r["src_ip"], dst_key[r["dst_ip"]])].append(r)
    # only the keys of groups large enough are sorted (ip_sort_key parses an address: once per address)
    large = {k: rows for k, rows in by_key.items() if sum(r["n"] for r in rows) >= params.min_connections}
    sort_key = functools.cache(netclass.ip_sort_key)
    groups: list[tuple[Group, list[str]]] = []
    order = sorted(large, key=lambda k: (sort_key(k[0]), k[1]))
    for src, key in order:
        rows = sorted(large[(src, key)], key=lambda r: sort_key(r["dst_ip"]))
        n = sum(r["n"] for r in rows)
        dsts = [r["dst_ip"] for r in rows]
        group = Group(
            gid=len(groups),
            src_ip=src,
            key=dsts[0] if len(dsts) == 1 else key,
            internal=internal_host(src, dsts[0], internal),
            dsts=dsts,
            connections=n,
            first_ts=min(r["first_ts"] for r in rows),
            last_ts=max(r["last_ts"] for r in rows),
            # hosts of yours the remote side talks to: an outbound destination's sources, an inbound source's
            # destinations
            prevalence=max(r["dst_sources"] if src in internal else r["src_destinations"] for r in rows),
            network=key,
        )
        groups.append((group, dsts))
    return groups


#: The regularity pre-filter's interval buckets are this wide in log scale (x1.105 each); an on-time beat lies
#: in a window of WINDOW_BUCKETS of them (a factor of 2: ±35 % around its centre); intervals more than
#: BURST_BUCKETS below the window (under a tenth of it: inside bursts) are left out of its share.
BUCKET_LN = 0.1
WINDOW_BUCKETS = 7
BURST_BUCKETS = 23


def register_pairs(ctx: Context, groups: list[Group]) -> None:
    """The (gid, source, destination) pairs of the groups given, as the engine table `beacon_pairs`."""
    pairs = pa.table(
        {
            "gid": pa.array([g.gid for g in groups for _ in g.dsts], pa.int64()),
            "src_ip": pa.array([g.src_ip for g in groups for _ in g.dsts], pa.string()),
            "dst_ip": pa.array([d for g in groups for d in g.dsts], pa.string()),
        }
    )
    ctx.engine.register("beacon_pairs", pairs)


def regular_shares(ctx: Context, groups: list[Group]) -> dict[int, float]:
    """Per group, the largest share of the intervals between its connections that lie within a factor of 2 of
    each other (of those not under a tenth of them: bursts), computed in the engine.

    A series that keeps a period, even with ±30 % jitter and some missed beats, has most of its intervals in
    one such window; memoryless (Poisson) traffic about a quarter. Only groups from `min_regular_share` have
    their series fetched and scored: what people do at random times, the bulk of the pairs, stays in the
    engine."""
    if not groups:
        return {}
    register_pairs(ctx, groups)
    table = ctx.engine.query(
        f"""
        WITH s AS (
            SELECT c.gid, f.ts FROM flows f JOIN beacon_pairs c ON f.src_ip = c.src_ip AND f.dst_ip = c.dst_ip
        ), i AS (
            SELECT gid, (ts - LAG(ts) OVER (PARTITION BY gid ORDER BY ts)) / {float(US_PER_SECOND)} AS d FROM s
        ), b AS (
            SELECT gid, CAST(FLOOR(LN(d) / {BUCKET_LN}) AS BIGINT) AS bucket, count(*) AS n
            FROM i WHERE d > 0 GROUP BY gid, CAST(FLOOR(LN(d) / {BUCKET_LN}) AS BIGINT)
        ), w AS (
            SELECT gid,
                   sum(n) OVER (PARTITION BY gid ORDER BY bucket
                                RANGE BETWEEN CURRENT ROW AND {WINDOW_BUCKETS - 1} FOLLOWING) AS in_window,
                   sum(n) OVER (PARTITION BY gid ORDER BY bucket
                                RANGE BETWEEN {BURST_BUCKETS} PRECEDING AND UNBOUNDED FOLLOWING) AS above
            FROM b
        )
        SELECT gid, max(CAST(in_window AS DOUBLE) / above) AS share FROM w GROUP BY gid
        """
    )
    return dict(zip(table["gid"].to_pylist(), (float(x) for x in table["share"].to_pylist()), strict=True))


def series(ctx: Context, groups: list[Group]) -> dict[int, dict[str, np.ndarray]]:
    """The connections of the groups given (start µs, bytes up and down, proto, port), sorted by the engine."""
    if not groups:
        return {}
    register_pairs(ctx, groups)
    table = ctx.engine.query(
        """
        SELECT c.gid, f.ts, f.up_bytes, f.down_bytes, f.proto, f.port
        FROM flows f JOIN beacon_pairs c ON f.src_ip = c.src_ip AND f.dst_ip = c.dst_ip
        ORDER BY c.gid, f.ts, f.up_bytes, f.down_bytes, f.proto, f.port
        """
    )
    gid = table["gid"].to_numpy()
    bounds = np.flatnonzero(np.diff(gid)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(gid)]])
    columns = {
        "ts": table["ts"].to_numpy(),
        "up": table["up_bytes"].to_numpy(),
        "down": table["down_bytes"].to_numpy(),
        "port": table["port"].to_numpy(),
    }
    protos = table["proto"].to_pylist()
    out: dict[int, dict[str, np.ndarray]] = {}
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if e > s:
            out[int(gid[s])] = {k: v[s:e] for k, v in columns.items()} | {"proto": np.array(protos[s:e], dtype=object)}
    return out


def dominant_service(proto: np.ndarray, port: np.ndarray) -> tuple[str, int, float]:
    """The most frequent (proto, port) of a series (ties to the lowest) and its share of the connections."""
    names, code = np.unique(proto.astype(str), return_inverse=True)
    values, counts = np.unique(code.astype(np.int64) * 65_536 + port.astype(np.int64), return_counts=True)
    best = int(np.argmax(counts))  # the first of the largest: the lowest (proto, port)
    return str(names[int(values[best]) // 65_536]), int(values[best]) % 65_536, float(counts[best] / counts.sum())


@dataclass
class Finding:
    group: Group
    kind: str  # periodic | strobe | long_connection
    base: float  # before the fleet factor
    score: float = 0.0
    period: float | None = None
    evidence: dict[str, Any] | None = None  # the figures of its kind's evidence (make_alert types them)
    proto: str | None = None
    port: int | None = None
    sharing: int = 1
    timing: float = 0.0  # the timing score of a periodic finding
    intervals: np.ndarray | None = None  # a periodic finding's beat intervals, for its chart if it alerts


def score_periodic(
    group: Group, s: dict[str, np.ndarray], observed: tuple[float, float], params: Params
) -> Finding | None:
    times = s["ts"] / US_PER_SECOND
    intervals, in_bursts = bs.beat_intervals(times)
    fit = bs.fit_intervals(intervals)
    if fit is None:
        return None
    sizes = bs.fit_sizes(s["up"])
    cover = bs.coverage(times, fit.period, *observed)
    proto, port, port_share = dominant_service(s["proto"], s["port"])
    base = bs.periodic_score(fit.score, sizes.score, cover.score) * bs.confidence(fit.beats)
    base *= bs.service_consistency(port_share)
    base *= bs.rarity_factor(group.prevalence)
    if f"{proto}/{port}" in params.periodic_services:
        base *= params.service_factor
    evidence = {
        "kind": "periodic",
        "period_s": round(fit.period, 3),
        "jitter": round(fit.jitter, 4),
        "timing_score": round(fit.score, 4),
        "missed_beats_share": round(1 - fit.observed_share, 4),
        "connections": group.connections,
        "connections_in_bursts": in_bursts,
        "gaps": fit.gaps,
        "active_share": round(fit.active_share, 4),
        "typical_up_bytes": round(sizes.typical),
        "size_dispersion": round(sizes.dispersion, 4),
        "size_score": round(sizes.score, 4),
        "coverage": round(cover.evenness, 4),
        "span_share": round(cover.span_share, 4),
        "coverage_score": round(cover.score, 4),
        "destinations": group.dsts[:10],
        "destination_count": len(group.dsts),
        "prevalence": group.prevalence,
        "service_share": round(port_share, 4),
    }
    return Finding(
        group,
        "periodic",
        base,
        period=fit.period,
        evidence=evidence,
        proto=proto,
        port=port,
        timing=fit.score,
        intervals=intervals,
    )


def same_period(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(a, b)


SHARED_TIMING = 0.7


def remote_of(g: Group) -> str:
    """The other side of a group: its destination network (prefix and AS) when the source is the internal host,
    else the source. Clients of a CDN or a cloud service are pinned to different addresses of one network by
    DNS load balancing: a fleet is the hosts keeping the period with one network, not one address."""
    return (g.network or g.key) if g.internal == g.src_ip else g.src_ip


def apply_sharing(findings: list[Finding], params: Params) -> None:
    """Score down schedules many hosts share: per finding, the internal hosts keeping the same period with the
    same remote side (a fleet: updates, telemetry), or, for an internal source, the destinations it keeps the
    same period with (a poller: monitoring); the larger count sets the factor."""
    # Only series that keep their period (timing score of at least SHARED_TIMING) make a fleet or a poller.
    periodic = [f for f in findings if f.kind == "periodic" and f.period is not None and f.timing >= SHARED_TIMING]
    by_remote: dict[str, list[Finding]] = defaultdict(list)
    by_source: dict[str, list[Finding]] = defaultdict(list)
    for f in periodic:
        by_remote[remote_of(f.group)].append(f)
        if f.group.internal == f.group.src_ip:
            by_source[f.group.src_ip].append(f)
    for f in findings:
        if f.kind == "periodic" and f.period is not None:
            period, tol = f.period, params.period_tolerance
            fleet = {o.group.internal for o in by_remote[remote_of(f.group)] if same_period(o.period or 0, period, tol)}
            polled = {o.group.key for o in by_source.get(f.group.src_ip, []) if same_period(o.period or 0, period, tol)}
            f.sharing = max(len(fleet), len(polled), 1)
        f.score = round(float(np.clip(f.base * bs.sharing_factor(f.sharing, params.fleet_hosts), 0.0, 1.0)), 4)
        if f.evidence is not None:
            f.evidence["hosts_sharing_schedule"] = f.sharing


def strobes(groups: list[Group], params: Params) -> list[Finding]:
    out: list[Finding] = []
    for g in groups:
        base = bs.strobe_score(g.connections, params.strobe_connections) * bs.rarity_factor(g.prevalence)
        evidence = {
            "kind": "strobe",
            "connections": g.connections,
            "per_second": round(g.connections / max((g.last_ts - g.first_ts) / US_PER_SECOND, 1.0), 3),
            "destinations": g.dsts[:10],
            "destination_count": len(g.dsts),
            "prevalence": g.prevalence,
        }
        out.append(Finding(g, "strobe", base, evidence=evidence))
    return out


def long_connections(ctx: Context, params: Params, next_gid: int) -> list[Finding]:
    """Sessions open at least long_connection_seconds (from the duration column), per pair: the longest."""
    if DURATION not in ctx.source.optional:
        return []
    internal = "SELECT ip FROM ip_dim WHERE class = 'internal'"
    rows = pylist(
        ctx.engine.query(
            f"""
            SELECT src_ip, dst_ip, count(*) AS sessions, max(duration) AS longest, sum(duration) AS total,
                   min(ts) AS first_ts, max(ts) AS last_ts, min(proto) AS proto, min(port) AS port,
                   sum(up_bytes) AS up_bytes, sum(down_bytes) AS down_bytes
            FROM flows
            WHERE duration >= {float(params.long_connection_seconds)}
              AND (src_ip IN ({internal}) OR dst_ip IN ({internal}))
            GROUP BY src_ip, dst_ip
            """
        )
    )
    if not rows:
        return []
    internal_ips = {r["ip"] for r in pylist(ctx.engine.query(internal))}
    out: list[Finding] = []
    for r in sorted(rows, key=lambda r: (netclass.ip_sort_key(r["src_ip"]), netclass.ip_sort_key(r["dst_ip"]))):
        g = Group(
            gid=next_gid + len(out),
            src_ip=r["src_ip"],
            key=r["dst_ip"],
            internal=internal_host(r["src_ip"], r["dst_ip"], internal_ips),
            dsts=[r["dst_ip"]],
            connections=r["sessions"],
            first_ts=r["first_ts"],
            last_ts=r["last_ts"] + int(r["longest"] * US_PER_SECOND),
            prevalence=1,
        )
        evidence = {
            "kind": "long_connection",
            "longest_s": round(float(r["longest"]), 3),
            "total_s": round(float(r["total"]), 3),
            "sessions": r["sessions"],
            "up_bytes": r["up_bytes"],
            "down_bytes": r["down_bytes"],
        }
        base = bs.long_connection_score(float(r["longest"]), params.long_connection_seconds)
        out.append(Finding(g, "long_connection", base, evidence=evidence, proto=r["proto"], port=r["port"]))
    return out


def _sharing(others: int) -> str:
    """Who else keeps the schedule, in words: a lone schedule is what makes a beacon suspicious."""
    if others <= 0:
        return "no other host or partner keeps this schedule"
    if others == 1:
        return "one other host or partner keeps this schedule"
    return f"{others} other hosts or partners keep this schedule"


def summary(ctx: Context, f: Finding) -> str:
    g, ev = f.group, f.evidence or {}
    where = describe_host(ctx, g.dsts[0]) if len(g.dsts) == 1 else f"{len(g.dsts)} addresses of {g.key}"
    if f.kind == "periodic":
        return (
            f"{g.src_ip} connected to {where} {g.connections} times, every {_fmt_s(ev['period_s'])} "
            f"(jitter ±{ev['jitter'] * 100:.0f}%, {ev['missed_beats_share'] * 100:.0f}% of beats missed), "
            f"about {human_bytes(ev['typical_up_bytes'])} sent each time; {_sharing(ev['hosts_sharing_schedule'] - 1)}."
        )
    if f.kind == "strobe":
        return f"{g.src_ip} connected to {where} {g.connections} times ({ev['per_second']} a second): a strobe."
    return (
        f"{g.src_ip} kept a session to {where} open for {_fmt_s(ev['longest_s'])} "
        f"({human_bytes(ev['up_bytes'])} up, {human_bytes(ev['down_bytes'])} down)."
    )


#: The evidence of each kind of finding.
EVIDENCE: dict[str, type[BeaconEvidence | StrobeEvidence | LongConnectionEvidence]] = {
    "periodic": BeaconEvidence,
    "strobe": StrobeEvidence,
    "long_connection": LongConnectionEvidence,
}


def evidence_of(f: Finding) -> BeaconEvidence | StrobeEvidence | LongConnectionEvidence:
    """A finding's figures as its kind's evidence; a periodic one with its beat intervals, for the chart."""
    figures = dict(f.evidence or {})
    if f.kind == "periodic" and f.intervals is not None and f.period:
        return BeaconEvidence(
            **figures, intervals=[float(i) for i in f.intervals], period=f.period, partner=f.group.key
        )
    return EVIDENCE[f.kind](**figures)


def make_alert(ctx: Context, f: Finding) -> Alert:
    g = f.group
    return Alert(
        type="beacon",
        severity=severity_for(f.score),
        score=f.score,
        hosts=[g.internal],
        summary=summary(ctx, f),
        src_ip=g.src_ip,
        dst_ip=g.dsts[0],
        first_seen=ctx.instant(g.first_ts),
        last_seen=ctx.instant(g.last_ts),
        evidence=evidence_of(f),
        proto=f.proto,
        port=f.port,
    )


def finding_order(f: Finding) -> tuple[Any, ...]:
    return (-f.score, netclass.ip_sort_key(f.group.src_ip), f.group.key, f.kind)


# Inside the unit's body the class attribute Params shadows the dataclass; run's annotation uses this name.
_Params = Params


class Beacon(Detector):
    key: ClassVar[str] = "beacon"
    title: ClassVar[str] = "Command-and-control beacons"
    Params: ClassVar[type] = Params
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(
            ("--beacon",),
            "C&C beacons (periodic connections, also over rotating addresses), strobes and long connections",
        ),
    )

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        pairs = pair_counts(ctx, params)
        groups = [g for g, _ in build_groups(ctx, pairs, params)]
        strobe_groups = [g for g in groups if g.connections >= params.strobe_connections]
        periodic_groups = [g for g in groups if g.connections < params.strobe_connections]
        q = ctx.quality
        first = (q.first_ts if q.first_ts is not None else 0) / US_PER_SECOND
        last = (q.last_ts if q.last_ts is not None else 0) / US_PER_SECOND
        shares = regular_shares(ctx, periodic_groups)
        regular = [g for g in periodic_groups if shares.get(g.gid, 0.0) >= params.min_regular_share]
        data = series(ctx, regular)
        findings: list[Finding] = []
        for g in regular:
            found = score_periodic(g, data[g.gid], (first, last), params) if g.gid in data else None
            if found is not None:
                findings.append(found)
        findings += strobes(strobe_groups, params)
        findings += long_connections(ctx, params, len(groups))
        apply_sharing(findings, params)
        findings.sort(key=finding_order)
        alerts = [make_alert(ctx, f) for f in findings if f.score >= params.alert_score]
        rows = [
            {
                "src_ip": f.group.src_ip,
                "destination": f.group.key,
                "host": f.group.internal,
                "kind": f.kind,
                "score": f.score,
                "connections": f.group.connections,
                "period_s": None if f.period is None else round(f.period, 3),
                "jitter": (f.evidence or {}).get("jitter"),
                "sharing": f.sharing,
                "alert": f.score >= params.alert_score,
            }
            for f in findings
        ]
        table = Table(
            key="beacon",
            title="Periodic connections, strobes and long connections, by score",
            columns=[
                Column("src_ip", "source", "ip"),
                Column("destination", "destination", "ip"),  # an address, or "prefix AS" (left as it is)
                Column("kind", "kind"),
                Column("score", "score", "float"),
                Column("connections", "connections", "int"),
                Column("period_s", "period (s)", "float"),
                Column("jitter", "jitter", "float"),
                Column("sharing", "hosts sharing", "int"),
                Column("alert", "alert"),
            ],
            rows=rows,
            limit=params.table_rows,
            json_key="rows",
            note=(
                f"{len(pairs)} pairs with an internal endpoint and at least {params.min_pair_connections} connections; "
                f"{len(groups)} source/destination groups with at least {params.min_connections} "
                f"({len(strobe_groups)} strobe(s)), of which {len(regular)} with {params.min_regular_share:g} of "
                f"their intervals within a factor of 2 scored; findings scoring {params.alert_score:g} or more alert."
            ),
        )
        section = Section(
            key=self.key,
            title=self.title,
            description="Connections that keep a schedule (C&C beacons), strobes and long-lived sessions, "
            "scored for regularity, coverage and rarity; schedules a fleet of hosts shares are scored down.",
            tables=[table],
            params=describe_params(params),
            payload={
                "pairs": len(pairs),
                "groups": len(groups),
                "scored_groups": len(regular),
                "series_rows": int(sum(len(v["ts"]) for v in data.values())),
            },
        )
        return UnitResult(section, alerts)
