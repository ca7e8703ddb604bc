"""--scan: sources probing many hosts on one port (horizontal), many ports of one host (vertical), or many
internal hosts on any ports (a sweep of internal address space).

A **probe** is a flow that carried next to nothing and got next to nothing back: at most `max_probe_bytes`
sent and `max_reply_bytes` received (a SYN, a reset, a SYN-ACK at the IP level; nothing at all in Zeek's
payload counters). Where the input has them, richer columns sharpen it: with Zeek's `conn_state`, a TCP
probe is an attempt whose SYN was seen and that carried nothing (S0, REJ, RSTOS0, SH, RSTO, RSTR), never a
completed session (SF, S1-S3) nor midstream traffic (OTH: the capture began inside a connection), and a
probe of another protocol is no answered exchange (SF, S1-S3) nor a reply alone (SHR, RSTRH); a flow whose
application protocol the sensor recognised (`service`, e.g. a DNS query and its short answer) is no probe;
a flow from a service port (1-1023) to an ephemeral one (1024+) is a reply as one-way records (NetFlow)
show it, no probe; an ICMP message that answers (echo reply, unreachable, time exceeded: the type is in the
source port, as Zeek and Argus write it) is no probe; and a probe is at most `max_probe_packets` packets
each way. Where the input has no byte counts (SourceInfo.bytes_unknown: Argus without SrcBytes, its flows
read 0 bytes each way), a flow of 0 and 0 bytes is a probe only where its state says it was an attempt
(Zeek's S0, REJ, RSTOS0, SH; Argus' REQ and INT, or TCP flags of a bare handshake, `S_`, `S_RA`) or its
packets do (some out, none back): otherwise every flow would be one.

In the engine, one pass over the flows keeps, per source and window of `window_minutes` (tumbling), the
probed targets (destination, protocol, port) in a temporary table (`create_temp_table`: few rows on a
normal network). Every count reads that table, exactly (no approximate distinct counts, identical on
DuckDB and Spark): hosts per port (horizontal width), ports per host (vertical depth), internal hosts
(sweep). A window where one of them reaches its threshold (`min_hosts`, `min_ports`, `min_hosts`) makes
the source a scanner; its targets in those windows and the windows next to them go into a second temporary
table, and only per-scanner figures come to Python (totals, top ports and hosts, chart buckets, what
answered). A second pass, filtered by the internal scanners' addresses and spans, counts all their flows.

Score (severity by the one table in detectors.base): the breadth of the widest window, the largest of
width/min_hosts, depth/min_ports and swept/min_hosts, mapped by breadth/(breadth + 1): 0.5 (medium) at
the threshold, 0.75 (high) at three times it, 0.9 (critical) at nine times. A scanner discovers: it probes
each target once or a few times; a monitoring poller or a load balancer's health checks re-probe the same
targets all day. So the score is multiplied by max_repeat/(probes per target) where a source re-probed
its targets more often than `max_repeat` times in its widest window.

Direction: an internal source is an alert (hosts: the scanner). An outside source scanning the network
is context: a table row (scanner, what it probed, which internal targets answered), never an alert, since
the internet's background scanning reaches every exposed address all day. Sources in `allow` (a known
vulnerability scanner) are context too, listed apart.
"""

from __future__ import annotations

import ipaddress
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa

from sentinel.config import Config, describe_params, param
from sentinel.context import Context
from sentinel.detectors import _stats
from sentinel.detectors.base import describe_host, severity_for
from sentinel.engines.base import temp_table
from sentinel.enrich import ipdim, netclass
from sentinel.errors import ConfigError
from sentinel.exact import pylist
from sentinel.report.evidence import ScanEvidence
from sentinel.report.model import Alert, Column, Section, Table
from sentinel.schema import US_PER_SECOND
from sentinel.timefmt import Instant
from sentinel.units import Detector, Flag, UnitResult

#: Zeek's connection states (conn_state of other sensors, Argus or nfdump, uses other words).
ZEEK_STATES = ("S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH")
#: TCP: the originator's SYN was seen and the session carried nothing (no answer, refused, or reset at once).
TCP_ATTEMPT_STATES = ("S0", "REJ", "RSTOS0", "SH", "RSTO", "RSTR")
#: Other protocols: an answered exchange (SF, S1-S3) or one whose originator was not seen (SHR, RSTRH).
NOT_ATTEMPT_STATES = ("SF", "S1", "S2", "S3", "SHR", "RSTRH")
#: Zeek's states of an attempt that got no answer or a refusal (the "unanswered" evidence).
REFUSED_STATES = ("S0", "REJ", "RSTOS0", "SH")
#: Most bars in an alert's chart: longer scans are shown in coarser buckets.
CHART_BARS = 60
US_PER_MINUTE = 60 * US_PER_SECOND


@dataclass(frozen=True)
class Params:
    min_hosts: int = param(
        10,
        "a source that probes this many hosts on one port (horizontal), or this many internal hosts on any "
        "ports (sweep), within one window is a scanner",
        minimum=1,
    )
    min_ports: int = param(
        10, "a source that probes this many ports of one host within one window is a scanner", minimum=1
    )
    window_minutes: int = param(60, "the window the probes are counted in (minutes, tumbling)", minimum=1)
    max_probe_bytes: int = param(200, "a probe sends at most this many bytes (a few SYNs at the IP level)")
    max_reply_bytes: int = param(60, "a probe gets at most this many bytes back (a reset or a SYN-ACK)")
    max_probe_packets: int = param(4, "where packet counts are known, a probe has at most this many each way")
    max_repeat: float = param(
        4.0,
        "a scanner probes a target about this many times at most; a source re-probing its targets more "
        "often (a poller, a health check) scores down in proportion",
    )
    allow: str = param(
        "",
        "CIDR[,CIDR...] of sources that scan by design (a vulnerability scanner): listed as context, never alerted",
    )
    top: int = param(10, "ports and hosts quoted per scanner", minimum=1)


def allow_list(text: str) -> tuple[netclass.IPNetwork, ...]:
    """The parsed `allow` parameter (empty: nothing allowed); a bad CIDR is a usage error naming it."""
    if not text.strip():
        return ()
    return netclass.parse_cidrs(text, "scan.allow")


def allowed(ip: str, nets: tuple[netclass.IPNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address.version == n.version and address in n for n in nets)


# -- the engine's part ----------------------------------------------------------------------------------
#: The probed targets per (source, window): the one pass over the flows, kept for the queries that count.
TARGETS = "scan_targets"
#: The scanners' targets over their scan's windows (and those next to them), one row per target.
FOUND = "scan_found"
#: Small tables handed to the engine: the windows that reached a threshold, an order of addresses, chart steps.
HOT = "scan_hot"
IP_ORDER = "scan_ip_order"
STEPS = "scan_chart_steps"
SPANS = "scan_spans"
#: ICMP messages that ask (echo, timestamp, information, address mask; ICMPv6 echo): the only ICMP probes.
#: Zeek puts the ICMP type in the source port, Argus type + 256 * code: type = src_port % 256 for both.
ICMP_PROTOS = ("icmp", "ipv6-icmp", "icmp6", "icmpv6")
ICMP_REQUESTS = (8, 13, 15, 17, 128)
#: Argus' own states of a flow that got no answer: a request (REQ) or initial packets (INT) alone.
ARGUS_UNANSWERED = ("REQ", "INT")
#: Argus' TCP state as flags seen from each side ("S_RA": SYN, then RST-ACK back): an attempt shows the
#: originator's SYN and nothing but SYN, RST and ACK from either side (no data pushed, no FIN).
ARGUS_TCP_ATTEMPT = "[RA]*S[RA]*_[SRA]*"
#: ... and one that got no SYN-ACK back (nothing, or a reset: refused).
ARGUS_TCP_REFUSED = "[RA]*S[RA]*_[RA]*"
#: Most internal scanners whose flows are also filtered by their addresses as literals (more: the join only).
LITERAL_SPANS = 64


def _sql_list(values: tuple[str, ...] | tuple[int, ...]) -> str:
    return ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)


def bytes_unknown_sql() -> str:
    """SQL: a flow whose byte counts the input did not have (read as 0 and 0; see SourceInfo.bytes_unknown)."""
    return "(up_bytes = 0 AND down_bytes = 0)"


def attempt_said_sql(columns: set[str] | frozenset[str], params: Params) -> str:
    """SQL: what says, without bytes, that a flow was an attempt that carried nothing: a state of an attempt
    (Zeek's S0, REJ, RSTOS0, SH; Argus' REQ and INT, or TCP flags of a bare handshake), or packets out and
    none back. FALSE where the input has neither."""
    said = []
    if "conn_state" in columns:
        said += [
            f"conn_state IN ({_sql_list(REFUSED_STATES + ARGUS_UNANSWERED)})",
            f"(proto = 'tcp' AND regexp_full_match(conn_state, '{ARGUS_TCP_ATTEMPT}'))",
        ]
    if {"up_packets", "down_packets"} <= columns:
        said.append(f"(down_packets = 0 AND up_packets BETWEEN 1 AND {int(params.max_probe_packets)})")
    return "(" + " OR ".join(said) + ")" if said else "FALSE"


def probe_predicate(columns: set[str] | frozenset[str], params: Params, bytes_unknown: bool = False) -> str:
    """SQL: whether a flow is a probe, using the optional columns the input has.

    `bytes_unknown`: some inputs had no byte counts (their flows read 0 bytes each way): such a flow is no
    probe unless its state or packets say it was an attempt."""
    parts = [f"up_bytes <= {int(params.max_probe_bytes)}", f"down_bytes <= {int(params.max_reply_bytes)}"]
    if bytes_unknown:
        parts.append(f"(NOT {bytes_unknown_sql()} OR {attempt_said_sql(columns, params)})")
    if "conn_state" in columns:
        # Zeek's states, where the sensor wrote them (Argus and nfdump have other vocabularies: bytes decide).
        zeek = _sql_list(ZEEK_STATES)
        attempts = _sql_list(TCP_ATTEMPT_STATES)
        answered = _sql_list(NOT_ATTEMPT_STATES)
        parts.append(
            f"(conn_state IS NULL OR conn_state NOT IN ({zeek}) OR "
            f"(proto = 'tcp' AND conn_state IN ({attempts})) OR (proto <> 'tcp' AND conn_state NOT IN ({answered})))"
        )
    if "src_port" in columns:
        # A flow from a service port to an ephemeral one is a reply, as one-way records (NetFlow) show it.
        parts.append("NOT (coalesce(src_port, 0) BETWEEN 1 AND 1023 AND port >= 1024)")
        # An ICMP message that answers (echo reply, unreachable, time exceeded) is no probe.
        parts.append(
            f"NOT (proto IN ({_sql_list(ICMP_PROTOS)}) AND src_port IS NOT NULL "
            f"AND src_port % 256 NOT IN ({_sql_list(ICMP_REQUESTS)}))"
        )
    if "service" in columns:
        parts.append("(service IS NULL OR service IN ('', '-'))")
    for column in ("up_packets", "down_packets"):
        if column in columns:
            parts.append(f"({column} IS NULL OR {column} <= {int(params.max_probe_packets)})")
    return " AND ".join(parts)


def unanswered_sql(columns: set[str] | frozenset[str], bytes_unknown: bool = False) -> str:
    """SQL: a probe that got nothing back (no packet where packets are counted, else no byte; or a refused
    state where the sensor says so). Where bytes are unknown, only packets or the state can say so."""
    has_packets = "down_packets" in columns
    nothing = "down_packets = 0" if has_packets else "down_bytes = 0"
    if bytes_unknown and not has_packets:
        nothing = f"(down_bytes = 0 AND NOT {bytes_unknown_sql()})"
    if "conn_state" in columns:
        refused = _sql_list(REFUSED_STATES + ARGUS_UNANSWERED)
        argus = f"(proto = 'tcp' AND regexp_full_match(conn_state, '{ARGUS_TCP_REFUSED}'))"
        return f"({nothing} OR conn_state IN ({refused}) OR {argus})"
    return nothing


def targets_sql(columns: set[str] | frozenset[str], params: Params, bytes_unknown: bool = False) -> str:
    """The one pass over the flows: each source's probed targets (destination, protocol, port) per window of
    `window_minutes`, with how often each was probed, unanswered, first and last. A normal network makes few
    probes, so this is small; every count after it reads this, not the flows."""
    window = int(params.window_minutes) * US_PER_MINUTE
    return f"""
        SELECT src_ip, w, dst_ip, proto, port, count(*) AS probes, sum(unanswered) AS unanswered,
               min(ts) AS first_ts, max(ts) AS last_ts
        FROM (
            SELECT src_ip, dst_ip, proto, port, ts, ts // {window} AS w,
                   CASE WHEN {unanswered_sql(columns, bytes_unknown)} THEN 1 ELSE 0 END AS unanswered
            FROM flows WHERE {probe_predicate(columns, params, bytes_unknown)}
        ) p
        GROUP BY src_ip, w, dst_ip, proto, port
    """


def hot_windows_sql(params: Params) -> str:
    """The windows in which a source reached a threshold, with the figures of window_stats: hosts on its
    busiest port (width), ports of its busiest host (depth), internal hosts (swept), targets and probes.
    Only windows with enough targets to reach one are counted further."""
    least = min(int(params.min_hosts), int(params.min_ports))
    return f"""
        WITH c AS (
            SELECT src_ip, w, count(*) AS targets, sum(probes) AS probes FROM {TARGETS}
            GROUP BY src_ip, w HAVING count(*) >= {least}
        ), t AS (
            SELECT t.src_ip, t.w, t.dst_ip, t.proto, t.port FROM {TARGETS} t
            JOIN c ON t.src_ip = c.src_ip AND t.w = c.w
        ), wide AS (
            SELECT src_ip, w, max(n) AS n FROM (
                SELECT src_ip, w, proto, port, count(*) AS n FROM t GROUP BY src_ip, w, proto, port
            ) x GROUP BY src_ip, w
        ), hosts AS (
            SELECT src_ip, w, dst_ip, count(*) AS n FROM t GROUP BY src_ip, w, dst_ip
        ), deep AS (
            SELECT h.src_ip, h.w, max(h.n) AS depth,
                   sum(CASE WHEN d.class = 'internal' THEN 1 ELSE 0 END) AS swept
            FROM hosts h LEFT JOIN ip_dim d ON h.dst_ip = d.ip GROUP BY h.src_ip, h.w
        )
        SELECT c.src_ip, c.w, wide.n AS width, deep.depth, deep.swept, c.targets, c.probes
        FROM c
        JOIN wide ON c.src_ip = wide.src_ip AND c.w = wide.w
        JOIN deep ON c.src_ip = deep.src_ip AND c.w = deep.w
        WHERE wide.n >= {int(params.min_hosts)} OR deep.depth >= {int(params.min_ports)}
           OR deep.swept >= {int(params.min_hosts)}
        ORDER BY c.src_ip, c.w
    """


def found_sql() -> str:
    """The scanners' targets over the windows that reached a threshold and the windows next to them (a scan
    across a window's edge is seen whole), one row per target, marked internal or not."""
    return f"""
        WITH near AS (
            SELECT src_ip, w FROM {HOT}
            UNION SELECT src_ip, w - 1 AS w FROM {HOT}
            UNION SELECT src_ip, w + 1 AS w FROM {HOT}
        ), g AS (
            SELECT t.src_ip, t.dst_ip, t.proto, t.port, sum(t.probes) AS probes, sum(t.unanswered) AS unanswered,
                   min(t.first_ts) AS first_ts, max(t.last_ts) AS last_ts
            FROM {TARGETS} t JOIN near n ON t.src_ip = n.src_ip AND t.w = n.w
            GROUP BY t.src_ip, t.dst_ip, t.proto, t.port
        )
        SELECT g.src_ip, g.dst_ip, g.proto, g.port, g.probes, g.unanswered, g.first_ts, g.last_ts,
               coalesce(d.class = 'internal', false) AS internal
        FROM g LEFT JOIN ip_dim d ON g.dst_ip = d.ip
    """


def summary_sql() -> str:
    """Per scanner, over its found targets: targets, hosts, internal hosts, ports, probes, unanswered, span."""
    return f"""
        WITH t AS (
            SELECT src_ip, count(*) AS targets, sum(probes) AS probes, sum(unanswered) AS unanswered,
                   min(first_ts) AS first_ts, max(last_ts) AS last_ts
            FROM {FOUND} GROUP BY src_ip
        ), h AS (
            SELECT src_ip, count(*) AS hosts, sum(CASE WHEN internal THEN 1 ELSE 0 END) AS internal_hosts FROM (
                SELECT DISTINCT src_ip, dst_ip, internal FROM {FOUND}
            ) x GROUP BY src_ip
        ), p AS (
            SELECT src_ip, count(*) AS ports FROM (SELECT DISTINCT src_ip, proto, port FROM {FOUND}) x
            GROUP BY src_ip
        )
        SELECT t.src_ip, t.targets, h.hosts, h.internal_hosts, p.ports, t.probes, t.unanswered,
               t.first_ts, t.last_ts
        FROM t JOIN h ON t.src_ip = h.src_ip JOIN p ON t.src_ip = p.src_ip
        ORDER BY t.src_ip
    """


def top_ports_sql(top: int) -> str:
    """Each scanner's `top` ports by hosts probed on them (ties: protocol, then port)."""
    return f"""
        SELECT src_ip, proto, port, hosts FROM (
            SELECT src_ip, proto, port, hosts,
                   row_number() OVER (PARTITION BY src_ip ORDER BY hosts DESC, proto, port) AS rn
            FROM (SELECT src_ip, proto, port, count(*) AS hosts FROM {FOUND} GROUP BY src_ip, proto, port) x
        ) y WHERE rn <= {int(top)}
        ORDER BY src_ip, rn
    """


def top_hosts_sql(top: int) -> str:
    """Each scanner's `top` hosts by ports probed on them (ties: address order, from IP_ORDER)."""
    return f"""
        SELECT src_ip, ip, ports FROM (
            SELECT x.src_ip, x.dst_ip AS ip, x.ports,
                   row_number() OVER (PARTITION BY x.src_ip ORDER BY x.ports DESC, o.ord) AS rn
            FROM (SELECT src_ip, dst_ip, count(*) AS ports FROM {FOUND} GROUP BY src_ip, dst_ip) x
            JOIN {IP_ORDER} o ON x.dst_ip = o.ip
        ) y WHERE rn <= {int(top)}
        ORDER BY src_ip, rn
    """


def answered_sql(top: int) -> str:
    """Each scanner's first `top` internal targets (address order, protocol, port) that answered a probe."""
    return f"""
        SELECT src_ip, dst_ip, proto, port FROM (
            SELECT f.src_ip, f.dst_ip, f.proto, f.port,
                   row_number() OVER (PARTITION BY f.src_ip ORDER BY o.ord, f.proto, f.port) AS rn
            FROM {FOUND} f JOIN {IP_ORDER} o ON f.dst_ip = o.ip
            WHERE f.internal AND f.unanswered < f.probes
        ) y WHERE rn <= {int(top)}
        ORDER BY src_ip, rn
    """


def chart_sql() -> str:
    """Targets first probed per chart bucket, for the scanners in STEPS (bucket = (first - start) // step)."""
    return f"""
        SELECT f.src_ip, (f.first_ts - s.start_ts) // s.step AS bucket, count(*) AS targets
        FROM {FOUND} f JOIN {STEPS} s ON f.src_ip = s.src_ip
        GROUP BY f.src_ip, (f.first_ts - s.start_ts) // s.step
        ORDER BY f.src_ip, bucket
    """


def source_flows(ctx: Context, spans: list[tuple[str, int, int]]) -> dict[str, int]:
    """Every flow each scanner made within its scan's span (probes or not): the share that were probes.
    A second pass over the flows, for the few internal scanners only: the flows are joined to their spans
    and, where the scanners are few, also filtered by their addresses and the spans' range as literals,
    which the engine checks while it reads. (A chain of one condition per span, checked on every row, took
    3.1 s against the join's 2.0 s over 100M flows: bench_passes.py, README.)"""
    if not spans:
        return {}
    table = pa.table(
        {
            "src_ip": pa.array([s for s, _, _ in spans], pa.string()),
            "first_ts": pa.array([a for _, a, _ in spans], pa.int64()),
            "last_ts": pa.array([b for _, _, b in spans], pa.int64()),
        }
    )
    ctx.register_keyed(SPANS, table, {"src_ip": "src"})
    src = f"f.{ctx.keys.src}"
    prune = ""
    if len(spans) <= LITERAL_SPANS:
        low, high = min(a for _, a, _ in spans), max(b for _, _, b in spans)
        keys = ", ".join(ctx.key_literals([s for s, _, _ in spans]))
        prune = f"WHERE {src} IN ({keys}) AND f.ts BETWEEN {low} AND {high}"
    sql = f"""
        SELECT s.src_ip, count(*) AS flows FROM flows f
        JOIN {SPANS} s ON {src} = s.src AND f.ts >= s.first_ts AND f.ts <= s.last_ts
        {prune}
        GROUP BY s.src_ip
        """
    return {r["src_ip"]: int(r["flows"]) for r in pylist(ctx.engine.query(sql))}


# -- pure scoring ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """What one source probed in one window."""

    w: int
    width: int  # most hosts probed on one (proto, port)
    depth: int  # most (proto, port) probed on one host
    swept: int  # internal hosts probed
    targets: int  # distinct (host, proto, port)
    probes: int


def window_stats(w: int, targets: list[dict[str, Any]]) -> Window:
    """Width, depth and sweep of one source's probed targets in one window (rows: distinct targets)."""
    hosts_per_port: dict[tuple[str, int], int] = defaultdict(int)
    ports_per_host: dict[str, int] = defaultdict(int)
    internal: set[str] = set()
    for t in targets:
        hosts_per_port[(t["proto"], t["port"])] += 1
        ports_per_host[t["dst_ip"]] += 1
        if t["internal"]:
            internal.add(t["dst_ip"])
    return Window(
        w=w,
        width=max(hosts_per_port.values(), default=0),
        depth=max(ports_per_host.values(), default=0),
        swept=len(internal),
        targets=len(targets),
        probes=sum(t["probes"] for t in targets),
    )


def breadth(win: Window, min_hosts: int, min_ports: int) -> float:
    """How far past its thresholds a window went: 1.0 exactly at one of them."""
    return max(win.width / min_hosts, win.depth / min_ports, win.swept / min_hosts)


def kinds(win: Window, min_hosts: int, min_ports: int) -> list[str]:
    """Which thresholds the window reached: horizontal, vertical, sweep (several can hold at once)."""
    out = []
    if win.width >= min_hosts:
        out.append("horizontal")
    if win.depth >= min_ports:
        out.append("vertical")
    if win.swept >= min_hosts:
        out.append("sweep")
    return out


def score(breadth_ratio: float, probes_per_target: float, max_repeat: float) -> float:
    """breadth/(breadth+1): 0.5 at the threshold, 0.75 at 3x, 0.9 at 9x; times max_repeat/repeats where
    the targets were re-probed more than max_repeat times each (pollers, health checks)."""
    value = _stats.saturating(breadth_ratio, 1.0)
    if probes_per_target > max_repeat > 0:
        value *= max_repeat / probes_per_target
    return round(min(1.0, max(0.0, value)), 4)


def chart_bucket_minutes(first_us: int, last_us: int, bars: int = CHART_BARS) -> int:
    """Minutes per bar so that the scan's span fits in `bars` bars: 1, 2, 5, 10, 15, 30, 60, ... minutes."""
    minutes = max(1, math.ceil((last_us - first_us + 1) / US_PER_MINUTE))
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720):
        if minutes / step <= bars:
            return step
    return 1440 * max(1, math.ceil(minutes / 1440 / bars))


def chart_steps(first_us: int, last_us: int) -> tuple[int, int]:
    """(first bucket's start, bucket length) in µs of a scan's chart: buckets of chart_bucket_minutes, aligned
    to whole multiples of their length."""
    step = chart_bucket_minutes(first_us, last_us) * US_PER_MINUTE
    return first_us // step * step, step


def bucket_series(start: int, step: int, counts: dict[int, int]) -> tuple[list[int], list[int]]:
    """Bucket starts (µs) and counts from bucket 0 to the last counted one (empty buckets as 0)."""
    n = max(counts, default=-1) + 1
    return [start + i * step for i in range(n)], [counts.get(i, 0) for i in range(n)]


def new_targets_series(first_seen: list[int], bucket_minutes: int) -> tuple[list[int], list[int]]:
    """Bucket starts (µs) and how many targets were first probed in each, from the first to the last: what
    chart_sql counts in the engine, here over a list (the reference its tests compare with)."""
    step = bucket_minutes * US_PER_MINUTE
    start = min(first_seen) // step * step
    counts: dict[int, int] = defaultdict(int)
    for ts in first_seen:
        counts[(ts - start) // step] += 1
    return bucket_series(start, step, counts)


# -- assembling a finding --------------------------------------------------------------------------------
def finding(
    src: str,
    hot: list[Window],
    summary: dict[str, Any],
    top_ports: list[dict[str, Any]],
    top_hosts: list[dict[str, Any]],
    params: Params,
) -> dict[str, Any]:
    """Everything said about one scanner: its windows that reached a threshold, and the totals and top
    ports and hosts of its targets over those windows and the ones next to them (summary_sql, top_*_sql)."""
    best = max(hot, key=lambda s: (breadth(s, params.min_hosts, params.min_ports), -s.w))
    first, last = int(summary["first_ts"]), int(summary["last_ts"])
    targets, probes = int(summary["targets"]), int(summary["probes"])
    seconds = (last - first) / US_PER_SECOND
    repeats = best.probes / best.targets
    return {
        "src_ip": src,
        "kinds": kinds(best, params.min_hosts, params.min_ports),
        "hosts": int(summary["hosts"]),
        "internal_hosts": int(summary["internal_hosts"]),
        "ports": int(summary["ports"]),
        "targets": targets,
        "probes": probes,
        "unanswered_share": round(int(summary["unanswered"]) / probes, 4),
        "duration_seconds": round(seconds, 3),
        "targets_per_minute": round(targets / (seconds / 60), 3) if seconds > 0 else None,
        "widest_window": {
            "start": best.w * params.window_minutes * US_PER_MINUTE,
            "hosts_on_one_port": best.width,
            "ports_on_one_host": best.depth,
            "internal_hosts": best.swept,
            "probes_per_target": round(repeats, 3),
        },
        "top_ports": [{"proto": r["proto"], "port": int(r["port"]), "hosts": int(r["hosts"])} for r in top_ports],
        "top_hosts": [{"ip": r["ip"], "ports": int(r["ports"])} for r in top_hosts],
        "first_ts": first,
        "last_ts": last,
        "score": score(breadth(best, params.min_hosts, params.min_ports), repeats, params.max_repeat),
    }


def describe_kinds(f: dict[str, Any]) -> str:
    ports = f["top_ports"][0]
    hosts = f["top_hosts"][0]
    bits = []
    if "horizontal" in f["kinds"]:
        bits.append(f"{ports['hosts']} hosts on {ports['proto']}/{ports['port']}")
    if "vertical" in f["kinds"]:
        bits.append(f"{hosts['ports']} ports of {hosts['ip']}")
    if "sweep" in f["kinds"]:
        bits.append(f"{f['internal_hosts']} internal hosts")
    return ", ".join(bits)


def make_alert(ctx: Context, f: dict[str, Any], flows: int, buckets: dict[int, int]) -> Alert:
    probe_share = f["probes"] / flows if flows else 1.0
    rate = f["targets_per_minute"]
    rate_text = f", {rate:g} targets/min" if rate is not None else ""
    summary = (
        f"{f['src_ip']} scanned ({', '.join(f['kinds'])}): {describe_kinds(f)}; {f['targets']} targets "
        f"(host, port) in {f['probes']} probes over {f['duration_seconds']:g} s{rate_text}, "
        f"{f['unanswered_share']:.0%} unanswered."
    )
    top_port = f["top_ports"][0]
    top_host = f["top_hosts"][0]
    start, step = chart_steps(f["first_ts"], f["last_ts"])
    starts, counts = bucket_series(start, step, buckets)
    figures = {k: v for k, v in f.items() if k not in ("first_ts", "last_ts", "score", "src_ip", "widest_window")}
    evidence = ScanEvidence(
        **figures,
        widest_window=f["widest_window"] | {"start": ctx.instant(f["widest_window"]["start"])},
        probe_share=round(probe_share, 4),
        bucket_starts=[Instant(s, ctx.source.relative_time) for s in starts],
        new_targets=counts,
        step_minutes=step // US_PER_MINUTE,
    )
    horizontal = "horizontal" in f["kinds"]
    return Alert(
        type="scan",
        severity=severity_for(f["score"]),
        score=f["score"],
        hosts=[f["src_ip"]],
        summary=summary,
        src_ip=f["src_ip"],
        dst_ip=top_host["ip"] if "vertical" in f["kinds"] and not horizontal else None,
        first_seen=ctx.instant(f["first_ts"]),
        last_seen=ctx.instant(f["last_ts"]),
        evidence=evidence,
        proto=top_port["proto"] if horizontal else None,
        port=top_port["port"] if horizontal else None,
    )


#: What the JSON report says of a scanner (its lists scanners, outside, allowed): the finding, times as Instants.
SCANNER_FIELDS = (
    "src_ip",
    "kinds",
    "hosts",
    "internal_hosts",
    "ports",
    "targets",
    "probes",
    "unanswered_share",
    "duration_seconds",
    "targets_per_minute",
    "widest_window",
    "top_ports",
    "top_hosts",
    "score",
    "first_seen",
    "last_seen",
)


def scanner_row(ctx: Context, f: dict[str, Any]) -> dict[str, Any]:
    """A finding as a row: its raw figures, times as Instants."""
    out = {k: v for k, v in f.items() if k not in ("first_ts", "last_ts")}
    out["widest_window"] = f["widest_window"] | {"start": ctx.instant(f["widest_window"]["start"])}
    return out | {"first_seen": ctx.instant(f["first_ts"]), "last_seen": ctx.instant(f["last_ts"])}


def context_row(ctx: Context, f: dict[str, Any], answered: list[str]) -> dict[str, Any]:
    """A scanner that is no alert (outside, allow-listed), with the internal targets that answered it."""
    return scanner_row(ctx, f) | {
        "scanner": f["src_ip"],
        "where": describe_host(ctx, f["src_ip"]),
        "answered_internal": answered,
    }


_Params = Params


@dataclass
class _Detail:
    """Which scanners are alerts (internal, not allowed), and what the report shows of some scanners only:
    internal targets that answered (context rows), and the targets first probed per chart bucket (alerts)."""

    alerting: set[str] = field(default_factory=set)
    answered: dict[str, list[str]] = field(default_factory=dict)
    charts: dict[str, dict[int, int]] = field(default_factory=dict)


class Scan(Detector):
    key: ClassVar[str] = "scan"
    title: ClassVar[str] = "Scans"
    Params: ClassVar[type] = Params
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(
            ("--scan",),
            "scans: internal sources probing many hosts on a port, many ports of a host, or sweeping internal "
            "addresses (outside scanners and allow-listed ones are listed as context)",
        ),
    )

    def check(self, params: _Params, config: Config) -> None:
        allow_list(params.allow)
        if params.max_repeat <= 0:
            raise ConfigError(f"scan.max_repeat: {params.max_repeat} must be above 0")

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        allow = allow_list(params.allow)
        findings, detail = self._find(ctx, params, allow)
        inside = [f for f in findings if f["src_ip"] in detail.alerting]
        flows = source_flows(ctx, [(f["src_ip"], f["first_ts"], f["last_ts"]) for f in inside])
        alerts = [make_alert(ctx, f, flows.get(f["src_ip"], 0), detail.charts.get(f["src_ip"], {})) for f in inside]
        allowed_rows = [
            context_row(ctx, f, detail.answered.get(f["src_ip"], [])) for f in findings if allowed(f["src_ip"], allow)
        ]
        outside_rows = [
            context_row(ctx, f, detail.answered.get(f["src_ip"], []))
            for f in findings
            if f["src_ip"] not in detail.alerting and not allowed(f["src_ip"], allow)
        ]
        columns = [
            Column("scanner", "scanner", "ip"),
            Column("kinds", "kind", "list"),
            Column("hosts", "hosts", "int"),
            Column("ports", "ports", "int"),
            Column("probes", "probes", "int"),
            Column("unanswered_share", "unanswered", "percent"),
            Column("answered_internal", "internal targets that answered", "list"),
            Column("first_seen", "first seen", "time"),
        ]
        scanners = Table(
            key="scan_scanners",
            title="Internal scanners (alerts)",
            columns=[
                Column("src_ip", "scanner", "ip"),
                Column("kinds", "kind", "list"),
                Column("hosts", "hosts", "int"),
                Column("ports", "ports", "int"),
                Column("probes", "probes", "int"),
                Column("unanswered_share", "unanswered", "percent"),
                Column("score", "score", "float"),
            ],
            rows=[scanner_row(ctx, f) for f in inside],
            json_key="scanners",
            json_fields=SCANNER_FIELDS,
            note=self._note(params),
        )
        outside = Table(
            key="scan_outside",
            title="Scanners outside your networks (context, not alerts)",
            columns=columns,
            rows=outside_rows,
            json_key="outside",
            json_fields=SCANNER_FIELDS,
            note="Sources outside --internal that probed as a scanner does; the internet's background "
            "scanning reaches every exposed address. The internal targets that answered are what they found.",
        )
        tables = [scanners, outside]
        if allow:
            tables.append(
                Table(
                    key="scan_allowed",
                    title="Allow-listed scanners (context, not alerts)",
                    columns=columns,
                    rows=allowed_rows,
                    json_key="allowed",
                    json_fields=SCANNER_FIELDS,
                    note=f"Sources in scan.allow ({params.allow}): they scan by design.",
                )
            )
        # Without an allow list there is no such table, and the JSON still says none was allowed.
        payload: dict[str, Any] = {} if allow else {"allowed": []}
        section = Section(
            key=self.key,
            title=self.title,
            description="Sources probing many hosts on a port, many ports of a host, or sweeping internal "
            "addresses with tiny or unanswered flows.",
            tables=tables,
            params=describe_params(params),
            payload=payload,
        )
        return UnitResult(section, alerts)

    @staticmethod
    def _find(
        ctx: Context, params: _Params, allow: tuple[netclass.IPNetwork, ...]
    ) -> tuple[list[dict[str, Any]], _Detail]:
        """The engine's work: one pass over the flows into a table of probed targets; the rest reads that
        table, then the scanners' own targets, and only per-scanner figures come back to Python."""
        engine = ctx.engine
        unknown = ctx.source.bytes_unknown
        with temp_table(engine, TARGETS, targets_sql(ctx.source.optional, params, unknown)):
            hot: dict[str, list[Window]] = defaultdict(list)
            for r in pylist(engine.query(hot_windows_sql(params))):
                hot[r["src_ip"]].append(
                    Window(
                        w=int(r["w"]),
                        width=int(r["width"]),
                        depth=int(r["depth"]),
                        swept=int(r["swept"]),
                        targets=int(r["targets"]),
                        probes=int(r["probes"]),
                    )
                )
            if not hot:
                return [], _Detail()
            windows = [(src, win.w) for src, wins in hot.items() for win in wins]
            engine.register(
                HOT,
                pa.table(
                    {
                        "src_ip": pa.array([src for src, _ in windows], pa.string()),
                        "w": pa.array([w for _, w in windows], pa.int64()),
                    }
                ),
            )
            # Both tables live until the end: Spark Connect analyses a cached view's SQL again when it is read,
            # so the found targets need the probed ones still there.
            with temp_table(engine, FOUND, found_sql()):
                return Scan._gather(ctx, params, allow, hot)

    @staticmethod
    def _gather(
        ctx: Context, params: _Params, allow: tuple[netclass.IPNetwork, ...], hot: dict[str, list[Window]]
    ) -> tuple[list[dict[str, Any]], _Detail]:
        engine = ctx.engine
        dsts = engine.query(f"SELECT DISTINCT dst_ip FROM {FOUND}")["dst_ip"]
        engine.register(IP_ORDER, ipdim.address_order(ctx.ip_dim.table, dsts))
        ports: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in pylist(engine.query(top_ports_sql(params.top))):
            ports[r["src_ip"]].append(r)
        hosts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in pylist(engine.query(top_hosts_sql(params.top))):
            hosts[r["src_ip"]].append(r)
        findings = [
            finding(r["src_ip"], hot[r["src_ip"]], r, ports[r["src_ip"]], hosts[r["src_ip"]], params)
            for r in pylist(engine.query(summary_sql()))
        ]
        findings.sort(key=lambda f: (-f["score"], -f["targets"], netclass.ip_sort_key(f["src_ip"])))
        classes = {ip: info.get("class") for ip, info in ctx.ip_dim.lookup([f["src_ip"] for f in findings]).items()}
        alerting = [f for f in findings if classes.get(f["src_ip"]) == "internal" and not allowed(f["src_ip"], allow)]
        detail = _Detail(alerting={f["src_ip"] for f in alerting})
        for r in pylist(engine.query(answered_sql(params.top))):
            detail.answered.setdefault(r["src_ip"], []).append(f"{r['dst_ip']} {r['proto']}/{r['port']}")
        if alerting:
            steps = [(f["src_ip"], *chart_steps(f["first_ts"], f["last_ts"])) for f in alerting]
            engine.register(
                STEPS,
                pa.table(
                    {
                        "src_ip": pa.array([s for s, _, _ in steps], pa.string()),
                        "start_ts": pa.array([a for _, a, _ in steps], pa.int64()),
                        "step": pa.array([b for _, _, b in steps], pa.int64()),
                    }
                ),
            )
            for r in pylist(engine.query(chart_sql())):
                detail.charts.setdefault(r["src_ip"], {})[int(r["bucket"])] = int(r["targets"])
        return findings, detail

    @staticmethod
    def _note(params: _Params) -> str:
        return (
            f"A probe sends at most {params.max_probe_bytes} bytes and gets at most {params.max_reply_bytes} back. "
            f"A scanner probes, within {params.window_minutes} minutes, at least {params.min_hosts} hosts on one "
            f"port (horizontal), {params.min_ports} ports of one host (vertical) or {params.min_hosts} internal "
            "hosts (sweep)."
        )
