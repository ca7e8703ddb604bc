"""--beacon: command-and-control beacons, strobes and long connections.

A host that calls home on a schedule: connections from one source to one destination (or to addresses of one
/24 and AS, so a C&C rotating its addresses is one finding) at a steady period, with steady sizes, over much
of the observed time. Every pair with an internal endpoint is examined (outbound, inbound towards a
declared-internal server, and internal to internal); the internal host implicated is the source when it is
internal, else the internal destination.

Aggregation in the engine, scoring in Python: one pass counts connections per (source, destination) pair
with an internal endpoint, and how many sources each destination has (prevalence); pairs with at least
`min_pair_connections` come to Python, are grouped by (source, destination /24 and AS organisation), and
groups with at least `min_connections` are candidates. A second pass over the flows tests each candidate's
series in the engine (the largest share of its intervals within a factor of 2 of each other, from
`min_regular_share`) and returns the start times and sizes of only the series that pass, sorted (at most
`strobe_connections` per group: bounded); groups beyond that are strobes, scored from their count alone. The
series are then scored all at once, with per-series medians and quantiles computed over every series
together (sentinel.detectors._segments). Where the input has `duration`, a third pass finds sessions open
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
session open for a day is a lead, not proof). Findings from `alert_score` up alert; the others from
`list_score` up are listed, and those under it only counted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinel.config import describe_params, param
from sentinel.context import Context
from sentinel.detectors import _beacon_stats as bs
from sentinel.detectors._schedules import partners_keeping
from sentinel.detectors.base import describe_host, human_bytes, severity_for
from sentinel.enrich import ipdim, netclass
from sentinel.exact import pylist
from sentinel.report.evidence import BeaconEvidence, LongConnectionEvidence, StrobeEvidence
from sentinel.report.formatting import seconds_text as _fmt_s
from sentinel.report.model import Alert, Column, Section, Table
from sentinel.schema import DURATION, US_PER_SECOND
from sentinel.units import Detector, Flag, UnitResult


@dataclass(frozen=True)
class Params:
    min_connections: int = param(
        10,
        "connections from a source to a destination (or its /24 and AS) before their timing is scored",
        minimum=1,
    )
    min_pair_connections: int = param(
        3, "a destination the source reached fewer times than this joins no /24 group", minimum=1
    )
    prefix_v4: int = param(
        24,
        "IPv4 destinations in one prefix of this length and one AS are one group (rotating C&C)",
        minimum=0,
        maximum=32,
    )
    prefix_v6: int = param(64, "the same for IPv6 destinations", minimum=0, maximum=128)
    strobe_connections: int = param(
        86_400, "a group with this many connections is a strobe (RITA's default: one a second for a day)", minimum=1
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
        0.5,
        "share of a group's intervals that must lie within a factor of 2 of each other for its series to be "
        "scored (Poisson traffic: about 0.25)",
    )
    alert_score: float = param(0.5, "findings scoring this or more alert (0.5: medium); the others are only listed")
    list_score: float = param(
        0.25,
        "findings scoring under this (0.25: under low severity; schedules of a fleet, traffic with a period "
        "by chance) are counted, not listed; 0 lists every series with a period",
        minimum=0.0,
    )
    table_rows: int = param(25, "findings listed in the section table, by score", minimum=0)


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
    value = netclass.ipv4_int(ip)
    if value is not None:
        return f"{netclass.ipv4_text(value & (0xFFFFFFFF << (32 - v4)) & 0xFFFFFFFF)}/{v4}"
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    length = v4 if addr.version == 4 else v6
    return str(ipaddress.ip_network(f"{addr}/{length}", strict=False))


def pair_counts(ctx: Context, params: Params) -> pa.Table:
    """Per (source, destination) pair with an internal endpoint: connections, first/last, the destination's
    sources; only pairs with at least min_pair_connections leave the engine (their texts looked up then, where
    the flows are keyed by address ids)."""
    k = ctx.keys
    internal = f"SELECT {k.dim} FROM ip_dim WHERE class = 'internal'"
    pairs = f"""
        WITH a AS (
            SELECT src, dst, flows AS n, first_ts, last_ts FROM ({ctx.pair_totals(["flows", "first_ts", "last_ts"])})
        ), p AS (
            SELECT * FROM a WHERE src IN ({internal}) OR dst IN ({internal})
        ), d AS (
            SELECT dst, count(*) AS dst_sources FROM p GROUP BY dst
        ), s AS (
            SELECT src, count(*) AS src_destinations FROM p GROUP BY src
        )
        SELECT p.src, p.dst, p.n, p.first_ts, p.last_ts, d.dst_sources, s.src_destinations
        FROM p JOIN d ON p.dst = d.dst JOIN s ON p.src = s.src
        WHERE p.n >= {int(params.min_pair_connections)}
        """
    figures = ["n", "first_ts", "last_ts", "dst_sources", "src_destinations"]
    return ctx.engine.query(ctx.with_texts(pairs, {"src": "src_ip", "dst": "dst_ip"}, figures)).combine_chunks()


def _v4_text(values: np.ndarray) -> pa.Array:
    """Dotted quads of IPv4 addresses given as numbers, for a whole array at once."""
    octets = [pa.array((values >> shift) & 0xFF).cast(pa.string()) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


def destination_keys(ctx: Context, destinations: pa.Array, internal: np.ndarray, params: Params) -> pa.Array:
    """The group key of each destination: an internal destination is itself (no rotation among your own
    hosts); any other is "prefix AS organisation" ("203.0.113.0/24 AS64500 Example"), or its prefix alone."""
    dim = ctx.ip_dim.table
    row = pc.index_in(destinations, dim["ip"])
    found = pc.is_valid(row).to_numpy(zero_copy_only=False)
    row = pc.fill_null(row, 0)
    version = pc.fill_null(pc.take(dim["version"], row), 0).to_numpy(zero_copy_only=False)
    number = pc.fill_null(pc.take(dim["ip_num"], row), 0).to_numpy(zero_copy_only=False).astype(np.uint64)
    org = pc.if_else(pa.array(found), pc.fill_null(pc.take(dim["as_org"], row), ""), "")
    # canonical dotted quads (other spellings, rare, go the slow way below, as before)
    v4 = found & (version == 4) & pc.equal(pc.take(dim["canonical"], row), destinations).to_numpy(zero_copy_only=False)
    mask = (0xFFFFFFFF << (32 - params.prefix_v4)) & 0xFFFFFFFF
    prefix = pc.binary_join_element_wise(_v4_text(number & np.uint64(mask)), pa.scalar(f"/{params.prefix_v4}"), "")
    others = np.flatnonzero(~v4)  # IPv6 and text that is no address: one at a time (few)
    if others.size:
        texts = destinations.take(pa.array(others)).to_pylist()
        slow = pa.array([prefix_of(t, params.prefix_v4, params.prefix_v6) for t in texts], pa.string())
        prefix = pc.replace_with_mask(prefix, pa.array(~v4), slow)
    key = pc.utf8_trim_whitespace(pc.binary_join_element_wise(prefix, org, " "))
    return pc.if_else(pa.array(internal), destinations, key)


@dataclass(frozen=True)
class Groups:
    """The candidate groups as columns, in output order (sources by address, then keys); a group's gid is its
    row. Hundreds of thousands of groups over a few days of a network: only the few that make findings become
    `Group` objects."""

    table: pa.Table  # src_ip, key, network, internal, dsts (list), connections, first_ts, last_ts, prevalence

    def __len__(self) -> int:
        return self.table.num_rows

    def column(self, name: str, rows: np.ndarray | None = None) -> pa.Array:
        values = self.table[name].combine_chunks()
        return values if rows is None else values.take(pa.array(rows, pa.int64()))

    def group(self, gid: int) -> Group:
        row = {name: self.table[name][gid].as_py() for name in self.table.column_names}
        dsts = row["dsts"] if len(row["dsts"]) == 1 else sorted(row["dsts"], key=netclass.ip_sort_key)
        return Group(
            gid=gid,
            src_ip=row["src_ip"],
            key=row["key"],
            internal=row["internal"],
            dsts=dsts,
            connections=row["connections"],
            first_ts=row["first_ts"],
            last_ts=row["last_ts"],
            prevalence=row["prevalence"],
            network=row["network"],
        )


def build_groups(ctx: Context, pairs: pa.Table, params: Params) -> Groups:
    """Groups of pairs by (source, destination prefix and AS), with at least min_connections, in a fixed order.

    A group of one destination is keyed by the address; a group of several by "prefix AS". The grouping runs
    on whole columns (pyarrow), so millions of pairs cost seconds, not minutes."""
    dim = ctx.ip_dim.table
    internal_ips = dim.filter(pc.equal(dim["class"], "internal"))["ip"]
    src_internal = pc.is_in(pairs["src_ip"], internal_ips)
    destinations = pc.unique(pairs["dst_ip"])
    dst_internal = pc.is_in(destinations, internal_ips).to_numpy(zero_copy_only=False)
    keys = destination_keys(ctx, destinations, dst_internal, params)
    table = pa.table(
        {
            "src_ip": pairs["src_ip"],
            "key": pc.take(keys, pc.index_in(pairs["dst_ip"], destinations)),
            "dst_ip": pairs["dst_ip"],
            "n": pairs["n"],
            "first_ts": pairs["first_ts"],
            "last_ts": pairs["last_ts"],
            # hosts of yours the remote side talks to: an outbound destination's sources, an inbound source's
            # destinations
            "prevalence": pc.if_else(src_internal, pairs["dst_sources"], pairs["src_destinations"]),
            "src_internal": src_internal,
        }
    )
    grouped = table.group_by(["src_ip", "key"], use_threads=False).aggregate(
        [
            ("n", "sum"),
            ("first_ts", "min"),
            ("last_ts", "max"),
            ("prevalence", "max"),
            ("dst_ip", "list"),
            ("src_internal", "max"),
        ]
    )
    grouped = grouped.filter(pc.greater_equal(grouped["n_sum"], params.min_connections))
    # the order of the output: sources by address (as netclass.ip_sort_key orders them), then keys
    order = ipdim.address_order(ctx.ip_dim.table, pc.unique(grouped["src_ip"]))
    grouped = grouped.append_column("src_rank", pc.take(order["ord"], pc.index_in(grouped["src_ip"], order["ip"])))
    grouped = grouped.take(pc.sort_indices(grouped, [("src_rank", "ascending"), ("key", "ascending")]))
    dsts = grouped["dst_ip_list"]
    single = pc.equal(pc.list_value_length(dsts), 1)
    # Groups of several destinations are outbound (an internal destination is a group of its own), so the
    # internal host of a group is its source, or its only destination.
    first_dst = pc.list_element(dsts, 0)
    return Groups(
        pa.table(
            {
                "src_ip": grouped["src_ip"],
                "key": pc.if_else(single, first_dst, grouped["key"]),
                "network": grouped["key"],
                "internal": pc.if_else(grouped["src_internal_max"], grouped["src_ip"], first_dst),
                "dsts": dsts,
                "connections": grouped["n_sum"],
                "first_ts": grouped["first_ts_min"],
                "last_ts": grouped["last_ts_max"],
                "prevalence": grouped["prevalence_max"],
            }
        )
    )


def register_pairs(ctx: Context, groups: Groups, gids: np.ndarray) -> None:
    """The (gid, source, destination) pairs of the groups given, as the engine table `beacon_pairs`; read them
    with `src` and `dst`, the keys that join them to the flows (`ctx.keys`)."""
    dsts = groups.column("dsts", gids)
    # each destination's group
    of_pair = np.asarray(gids, dtype=np.int64)[pc.list_parent_indices(dsts).to_numpy(zero_copy_only=False)]
    pairs = pa.table(
        {
            # int32: the regularity test's window sorts its rows (61M at 100M flows) by gid: narrower, faster
            "gid": pa.array(of_pair, pa.int32()),
            "src_ip": groups.column("src_ip", of_pair),
            "dst_ip": pc.list_flatten(dsts),
        }
    )
    ctx.register_keyed("beacon_pairs", pairs, {"src_ip": "src", "dst_ip": "dst"})


@dataclass(frozen=True)
class Batch:
    """The connections of many groups (rows sorted by group and start time) and what was computed for all of
    them at once: `seg` numbers each row's group by its position in `gids`."""

    groups: Groups
    gids: np.ndarray  # the groups whose series these are, in gid order
    seg: np.ndarray
    ts: np.ndarray  # µs
    up: np.ndarray
    proto: np.ndarray  # codes into `protos`, which are sorted
    port: np.ndarray
    protos: list[str]

    @property
    def n(self) -> int:
        return len(self.gids)

    def group(self, i: int) -> Group:
        return self.groups.group(int(self.gids[i]))

    def rows(self) -> np.ndarray:
        return np.bincount(self.seg, minlength=self.n)


#: The regularity pre-filter's interval buckets are this wide in log scale (x1.105 each); an on-time beat lies
#: in a window of WINDOW_BUCKETS of them (a factor of 2: ±35 % around its centre); intervals more than
#: BURST_BUCKETS below the window (under a tenth of it: inside bursts) are left out of its share.
BUCKET_LN = 0.1
WINDOW_BUCKETS = 7
BURST_BUCKETS = 23


def regular_series(ctx: Context, groups: Groups, candidates: np.ndarray, min_share: float) -> Batch:
    """The connections (start µs, bytes up, proto, port) of the groups given whose series look regular,
    sorted by the engine.

    Regular: at least `min_share` of the intervals between a group's connections lie within a factor of 2 of
    each other (of those not under a tenth of them: bursts). A series that keeps a period, even with ±30 %
    jitter and some missed beats, has most of its intervals in one such window; memoryless (Poisson) traffic
    about a quarter. The test runs in the engine, so the connections of what people do at random times, the
    bulk of the candidates, never leave it."""
    register_pairs(ctx, groups, candidates)
    regular = ctx.engine.query(
        f"""
        WITH j AS (
            SELECT c.gid, f.ts FROM flows f JOIN beacon_pairs c ON f.{ctx.keys.src} = c.src AND f.{ctx.keys.dst} = c.dst
        ), i AS (
            SELECT gid, (ts - LAG(ts) OVER (PARTITION BY gid ORDER BY ts)) / {float(US_PER_SECOND)} AS d FROM j
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
        SELECT gid FROM w GROUP BY gid HAVING max(CAST(in_window AS DOUBLE) / above) >= {float(min_share)}
        """
    )
    gids = np.sort(regular["gid"].to_numpy(zero_copy_only=False).astype(np.int64))
    register_pairs(ctx, groups, gids)
    table = ctx.engine.query(
        f"""
        SELECT c.gid, f.ts, f.up_bytes, f.proto, f.port
        FROM flows f JOIN beacon_pairs c ON f.{ctx.keys.src} = c.src AND f.{ctx.keys.dst} = c.dst
        ORDER BY c.gid, f.ts
        """
    )
    position = np.full(len(groups), -1, dtype=np.int64)
    position[gids] = np.arange(gids.size)
    proto = pc.fill_null(table["proto"], "")
    protos = sorted(str(p) for p in pc.unique(proto).to_pylist())
    return Batch(
        groups=groups,
        gids=gids,
        seg=position[table["gid"].to_numpy()],
        ts=np.asarray(table["ts"].to_numpy(), dtype=np.int64),  # as read: no copy of 35M times at 100M flows
        up=table["up_bytes"].to_numpy(zero_copy_only=False).astype(float),
        proto=pc.index_in(proto, value_set=pa.array(protos, pa.string())).to_numpy(zero_copy_only=False),
        port=table["port"].to_numpy(zero_copy_only=False),  # int32 as read: 35M rows at 100M flows
        protos=protos,
    )


def dominant_services(batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group, the most frequent (proto, port) (ties to the lowest) and its share of the connections: proto
    codes, ports, shares.

    Most series keep one service throughout: they are read off their first row, and only the rows of series
    that mix services are counted (tens of millions of rows at 100M flows: no whole-array sort)."""
    value = batch.proto.astype(np.int32) * 65_536 + batch.port.astype(np.int32)
    rows = batch.rows()
    first_row = np.concatenate(([0], np.cumsum(rows)[:-1]))
    changed = np.flatnonzero(value[1:] != value[:-1]) + 1  # rows whose service differs from the row before
    changed = changed[changed != first_row[batch.seg[changed]]]  # ... within their series
    mixed = np.zeros(batch.n, dtype=bool)
    mixed[batch.seg[changed]] = True
    best = np.zeros(batch.n, dtype=np.int64)
    best[rows > 0] = value[first_row[rows > 0]]
    shares = np.where(rows > 0, 1.0, 0.0)
    if mixed.any():
        take = np.flatnonzero(mixed[batch.seg])
        seg, sub = batch.seg[take], value[take].astype(np.int64)
        # Counted by hashing (pyarrow), a third of the time of np.unique's sort of ~12M rows at 100M flows;
        # the counts' order is then whatever, and the sort below makes it the same on every run.
        counted = pa.table({"k": pa.array(seg * 2**32 + sub)}).group_by("k").aggregate([("k", "count")])
        keys = counted["k"].to_numpy()
        per_key = counted["k_count"].to_numpy()
        kseg, kvalue = keys >> 32, keys & (2**32 - 1)
        order = np.lexsort((kvalue, -per_key, kseg))  # per group: the largest count first, then the lowest service
        top = order[np.flatnonzero(np.diff(kseg[order], prepend=-1))]
        best[kseg[top]] = kvalue[top]
        shares[kseg[top]] = per_key[top] / rows[kseg[top]]
    return best // 65_536, best % 65_536, shares


@dataclass(frozen=True)
class Scored:
    """What score_periodic computed for every regular series at once; a finding's evidence is read from it
    when the finding is shown (most never are: only alerts and the table's first rows)."""

    batch: Batch
    beats: bs.Beats
    fits: bs.IntervalFits
    sizes: bs.SizeFits
    covers: bs.Coverages
    shares: np.ndarray
    base: np.ndarray  # the score before the sharing factor
    codes: np.ndarray  # the main service's proto (a code into batch.protos) and port
    ports: np.ndarray

    def evidence(self, i: int) -> dict[str, Any]:
        group, fit = self.batch.group(i), self.fits.at(i)
        size, cover = self.sizes.at(i), self.covers.at(i)
        assert fit is not None  # findings are made of series with a fit only
        return {
            "kind": "periodic",
            "period_s": round(fit.period, 3),
            "jitter": round(fit.jitter, 4),
            "timing_score": round(fit.score, 4),
            "missed_beats_share": round(1 - fit.observed_share, 4),
            "connections": group.connections,
            "connections_in_bursts": int(self.beats.in_bursts[i]),
            "gaps": fit.gaps,
            "active_share": round(fit.active_share, 4),
            "typical_up_bytes": round(size.typical),
            "size_dispersion": round(size.dispersion, 4),
            "size_score": round(size.score, 4),
            "coverage": round(cover.evenness, 4),
            "span_share": round(cover.span_share, 4),
            "coverage_score": round(cover.score, 4),
            "destinations": group.dsts[:10],
            "destination_count": len(group.dsts),
            "prevalence": group.prevalence,
            "service_share": round(float(self.shares[i]), 4),
        }


@dataclass
class Finding:
    group: Group
    kind: str  # periodic | strobe | long_connection
    base: float  # before the fleet factor
    score: float = 0.0
    period: float | None = None
    evidence: dict[str, Any] | None = None  # strobes, long connections; periodic: from `scored` (typed by make_alert)
    proto: str | None = None
    port: int | None = None
    sharing: int = 1
    timing: float = 0.0  # the timing score of a periodic finding
    jitter: float | None = None  # a periodic finding's, rounded as in its evidence
    scored: Scored | None = None
    index: int = -1  # a periodic finding's series in `scored`

    def figures(self) -> dict[str, Any]:
        """The figures behind the score, with how many hosts or partners keep the same schedule."""
        if self.evidence is None and self.scored is not None:
            self.evidence = self.scored.evidence(self.index)
        return {**(self.evidence or {}), "hosts_sharing_schedule": self.sharing}


def score_periodic(batch: Batch, observed: tuple[float, float], params: Params) -> Scored:
    """Score every group's series at once (timing, sizes, coverage: sentinel.detectors._beacon_stats); the
    score before the sharing factor is `Scored.base` (meaningless for groups without a fit: fewer than two
    beats)."""
    times = batch.ts / US_PER_SECOND
    beats = bs.beats_of(batch.seg, times, batch.n)
    fits = bs.fit_many(beats.d, beats.seg, batch.n)
    sizes = bs.sizes_many(batch.up, batch.seg, batch.n)
    covers = bs.coverage_many(times, batch.seg, batch.n, fits.period, *observed)
    codes, ports, shares = dominant_services(batch)
    prevalence = batch.groups.column("prevalence", batch.gids).to_numpy(zero_copy_only=False).astype(float)
    base = bs.periodic_score(fits.score, sizes.score, covers.score) * bs.confidence(fits.beats)
    base *= bs.service_consistency(shares)
    base *= bs.rarity_factor(prevalence)
    by_design = np.zeros(batch.n, dtype=bool)  # services periodic by design (NTP)
    for service in params.periodic_services:
        proto, _, port = service.partition("/")
        if proto in batch.protos and port.isdigit():
            by_design |= (codes == batch.protos.index(proto)) & (ports == int(port))
    base = np.where(by_design, base * params.service_factor, base)
    return Scored(batch, beats, fits, sizes, covers, shares, base, codes, ports)


#: Only series that keep their period (timing score of at least this) make a fleet or a poller.
SHARED_TIMING = 0.7


def _codes(values: pa.Array) -> np.ndarray:
    """Integer codes of strings (equal strings, equal codes)."""
    return pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False).astype(np.int64)


def schedule_sharing(
    groups: Groups, gids: np.ndarray, period: np.ndarray, timing: np.ndarray, params: Params
) -> np.ndarray:
    """How many keep each periodic series' schedule: the internal hosts keeping the same period with the same
    remote side (a fleet: updates, telemetry), or, for an internal source, the destinations it keeps the same
    period with (a poller: monitoring); the larger count, at least 1.

    The remote side is the destination network (prefix and AS) when the source is the internal host, else the
    source: clients of a CDN or a cloud service are pinned to different addresses of one network by DNS load
    balancing, so a fleet is the hosts keeping the period with one network, not one address."""
    src, internal = groups.column("src_ip", gids), groups.column("internal", gids)
    outbound = pc.equal(internal, src)
    members = timing >= SHARED_TIMING
    fleet = partners_keeping(
        _codes(pc.if_else(outbound, groups.column("network", gids), src)),
        _codes(internal),
        period,
        members,
        params.period_tolerance,
    )
    polled = partners_keeping(
        _codes(src),
        _codes(groups.column("key", gids)),
        period,
        members & outbound.to_numpy(zero_copy_only=False),
        params.period_tolerance,
    )
    return np.maximum(np.maximum(fleet, polled), 1)


def final_score(base: float, sharing: int, params: Params) -> float:
    return round(min(1.0, max(0.0, float(base * bs.sharing_factor(sharing, params.fleet_hosts)))), 4)


def periodic_findings(scored: Scored, params: Params) -> tuple[list[Finding], int]:
    """The periodic findings scoring list_score or more (each with its sharing count and final score), and how
    many scored less: computed on whole arrays, so only the findings listed become objects."""
    fits = scored.fits
    index = np.flatnonzero(fits.valid)
    batch = scored.batch
    period, timing = fits.period[index], fits.score[index]
    sharing = schedule_sharing(batch.groups, batch.gids[index], period, timing, params)
    rough = np.clip(scored.base[index] * bs.sharing_factor(sharing, params.fleet_hosts), 0.0, 1.0)
    findings: list[Finding] = []
    # the rounded score decides (exactly as for one finding); the rough one only narrows who is looked at
    for j in np.flatnonzero(rough >= params.list_score - 1e-3).tolist():
        i = int(index[j])
        score = final_score(float(scored.base[i]), int(sharing[j]), params)
        if score < params.list_score:
            continue
        findings.append(
            Finding(
                batch.group(i),
                "periodic",
                float(scored.base[i]),
                score=score,
                period=float(period[j]),
                proto=batch.protos[int(scored.codes[i])],
                port=int(scored.ports[i]),
                sharing=int(sharing[j]),
                timing=float(timing[j]),
                jitter=round(fits.jitter_at(i), 4),
                scored=scored,
                index=i,
            )
        )
    return findings, index.size - len(findings)


def strobes(groups: list[Group], params: Params) -> list[Finding]:
    out: list[Finding] = []
    for g in groups:
        base = bs.strobe_score(g.connections, params.strobe_connections) * float(bs.rarity_factor(g.prevalence))
        evidence = {
            "kind": "strobe",
            "connections": g.connections,
            "per_second": round(g.connections / max((g.last_ts - g.first_ts) / US_PER_SECOND, 1.0), 3),
            "destinations": g.dsts[:10],
            "destination_count": len(g.dsts),
            "prevalence": g.prevalence,
        }
        out.append(Finding(g, "strobe", base, score=final_score(base, 1, params), evidence=evidence))
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
        score = final_score(base, 1, params)
        out.append(
            Finding(g, "long_connection", base, score=score, evidence=evidence, proto=r["proto"], port=r["port"])
        )
    return out


def _sharing(others: int) -> str:
    """Who else keeps the schedule, in words: a lone schedule is what makes a beacon suspicious."""
    if others <= 0:
        return "no other host or partner keeps this schedule"
    if others == 1:
        return "one other host or partner keeps this schedule"
    return f"{others} other hosts or partners keep this schedule"


def summary(ctx: Context, f: Finding) -> str:
    g, ev = f.group, f.figures()
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
    figures = f.figures()
    if f.kind == "periodic" and f.scored is not None and f.period:
        intervals = f.scored.beats.of(f.index)
        return BeaconEvidence(**figures, intervals=[float(i) for i in intervals], period=f.period, partner=f.group.key)
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
        return self.start(ctx, params)()

    def start(self, ctx: Context, params: _Params) -> Callable[[], UnitResult]:
        """The passes over the flows (pair count, regularity test, series, long connections); what it returns
        scores them without the engine, which the pipeline runs beside the next units' passes."""
        pairs = pair_counts(ctx, params)
        pair_count = pairs.num_rows
        groups = build_groups(ctx, pairs, params)
        del pairs  # hundreds of MB at 100M flows, not needed past grouping
        connections = groups.column("connections").to_numpy(zero_copy_only=False)
        is_strobe = connections >= params.strobe_connections
        strobe_groups = [groups.group(gid) for gid in np.flatnonzero(is_strobe).tolist()]
        q = ctx.quality
        first = (q.first_ts if q.first_ts is not None else 0) / US_PER_SECOND
        last = (q.last_ts if q.last_ts is not None else 0) / US_PER_SECOND
        regular = regular_series(ctx, groups, np.flatnonzero(~is_strobe), params.min_regular_share)
        lasting = long_connections(ctx, params, len(groups))
        return lambda: self._finish(ctx, params, regular, (first, last), strobe_groups, lasting, pair_count)

    def _finish(
        self,
        ctx: Context,
        params: _Params,
        regular: Batch,
        observed: tuple[float, float],
        strobe_groups: list[Group],
        lasting: list[Finding],
        pair_count: int,
    ) -> UnitResult:
        """Scoring, findings and the section: Python and the address dimension only, no engine."""
        groups = regular.groups
        findings, unlisted = periodic_findings(score_periodic(regular, observed, params), params)
        others = strobes(strobe_groups, params) + lasting
        unlisted += sum(1 for f in others if f.score < params.list_score)
        findings += [f for f in others if f.score >= params.list_score]
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
                "jitter": f.jitter,
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
                f"{pair_count} pairs with an internal endpoint and at least {params.min_pair_connections} "
                "connections; "
                f"{len(groups)} source/destination groups with at least {params.min_connections} "
                f"({len(strobe_groups)} strobe(s)), of which {regular.n} with {params.min_regular_share:g} of "
                f"their intervals within a factor of 2 scored; findings scoring {params.alert_score:g} or more alert, "
                f"{unlisted} scoring under {params.list_score:g} are not listed."
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
                "pairs": pair_count,
                "groups": len(groups),
                "scored_groups": regular.n,
                "series_rows": int(regular.seg.size),
                "unlisted": unlisted,
            },
        )
        return UnitResult(section, alerts)
