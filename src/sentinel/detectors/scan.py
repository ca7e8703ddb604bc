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
show it, no probe; and a probe is at most `max_probe_packets` packets each way.

In the engine, per source and window of `window_minutes` (tumbling), the probed targets (destination,
protocol, port) are grouped once, so every count is exact (no approximate distinct counts, identical on
DuckDB and Spark): hosts per port (horizontal width), ports per host (vertical depth), internal hosts
(sweep). A window where one of them reaches its threshold (`min_hosts`, `min_ports`, `min_hosts`) makes
the source a scanner; only its probed targets in those windows, and the windows next to them, come to
Python.

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
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa

from sentinel.config import Config, describe_params, param
from sentinel.context import Context
from sentinel.detectors import _stats
from sentinel.detectors.base import describe_host, severity_for
from sentinel.enrich import netclass
from sentinel.errors import ConfigError
from sentinel.exact import pylist
from sentinel.report.model import Alert, Chart, Column, Section, Table
from sentinel.schema import US_PER_SECOND
from sentinel.timefmt import format_us
from sentinel.units import Flag, UnitResult

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
    )
    min_ports: int = param(10, "a source that probes this many ports of one host within one window is a scanner")
    window_minutes: int = param(60, "the window the probes are counted in (minutes, tumbling)")
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
    top: int = param(10, "ports and hosts quoted per scanner")


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
def probe_predicate(columns: set[str] | frozenset[str], params: Params) -> str:
    """SQL: whether a flow is a probe, using the optional columns the input has."""
    parts = [f"up_bytes <= {int(params.max_probe_bytes)}", f"down_bytes <= {int(params.max_reply_bytes)}"]
    if "conn_state" in columns:
        # Zeek's states, where the sensor wrote them (Argus and nfdump have other vocabularies: bytes decide).
        zeek = ", ".join(f"'{s}'" for s in ZEEK_STATES)
        attempts = ", ".join(f"'{s}'" for s in TCP_ATTEMPT_STATES)
        answered = ", ".join(f"'{s}'" for s in NOT_ATTEMPT_STATES)
        parts.append(
            f"(conn_state IS NULL OR conn_state NOT IN ({zeek}) OR "
            f"(proto = 'tcp' AND conn_state IN ({attempts})) OR (proto <> 'tcp' AND conn_state NOT IN ({answered})))"
        )
    if "src_port" in columns:
        # A flow from a service port to an ephemeral one is a reply, as one-way records (NetFlow) show it.
        parts.append("NOT (coalesce(src_port, 0) BETWEEN 1 AND 1023 AND port >= 1024)")
    if "service" in columns:
        parts.append("(service IS NULL OR service IN ('', '-'))")
    for column in ("up_packets", "down_packets"):
        if column in columns:
            parts.append(f"({column} IS NULL OR {column} <= {int(params.max_probe_packets)})")
    return " AND ".join(parts)


def unanswered_sql(columns: set[str] | frozenset[str]) -> str:
    """SQL: a probe that got nothing back (no packet where packets are counted, else no byte; or a refused
    state where the sensor says so)."""
    nothing = "down_packets = 0" if "down_packets" in columns else "down_bytes = 0"
    if "conn_state" in columns:
        refused = ", ".join(f"'{s}'" for s in REFUSED_STATES)
        return f"({nothing} OR conn_state IN ({refused}))"
    return nothing


def probed_targets_sql(columns: set[str] | frozenset[str], params: Params) -> str:
    """One row per (source, window, target) probed, for the windows of scanners and the windows next to
    them; `hot` marks the windows that reached a threshold. Exact counts, one pass over the flows."""
    window = int(params.window_minutes) * US_PER_MINUTE
    return f"""
        WITH p AS (
            SELECT src_ip, dst_ip, proto, port, ts, ts // {window} AS w,
                   CASE WHEN {unanswered_sql(columns)} THEN 1 ELSE 0 END AS unanswered
            FROM flows WHERE {probe_predicate(columns, params)}
        ), t AS (
            SELECT src_ip, w, dst_ip, proto, port, count(*) AS probes, sum(unanswered) AS unanswered,
                   min(ts) AS first_ts, max(ts) AS last_ts
            FROM p GROUP BY src_ip, w, dst_ip, proto, port
        ), wide AS (
            SELECT src_ip, w, max(n) AS n FROM (
                SELECT src_ip, w, proto, port, count(*) AS n FROM t GROUP BY src_ip, w, proto, port
            ) x GROUP BY src_ip, w
        ), deep AS (
            SELECT src_ip, w, max(n) AS n FROM (
                SELECT src_ip, w, dst_ip, count(*) AS n FROM t GROUP BY src_ip, w, dst_ip
            ) x GROUP BY src_ip, w
        ), swept AS (
            SELECT src_ip, w, count(*) AS n FROM (
                SELECT DISTINCT src_ip, w, dst_ip FROM t
                WHERE dst_ip IN (SELECT ip FROM ip_dim WHERE class = 'internal')
            ) x GROUP BY src_ip, w
        ), hot AS (
            SELECT wide.src_ip, wide.w FROM wide
            JOIN deep ON wide.src_ip = deep.src_ip AND wide.w = deep.w
            LEFT JOIN swept ON wide.src_ip = swept.src_ip AND wide.w = swept.w
            WHERE wide.n >= {int(params.min_hosts)} OR deep.n >= {int(params.min_ports)}
               OR coalesce(swept.n, 0) >= {int(params.min_hosts)}
        ), near AS (
            SELECT src_ip, w FROM hot
            UNION SELECT src_ip, w - 1 AS w FROM hot
            UNION SELECT src_ip, w + 1 AS w FROM hot
        )
        SELECT t.src_ip, t.w, t.dst_ip, t.proto, t.port, t.probes, t.unanswered, t.first_ts, t.last_ts,
               h.src_ip IS NOT NULL AS hot, coalesce(d.class = 'internal', false) AS internal
        FROM t
        JOIN near n ON t.src_ip = n.src_ip AND t.w = n.w
        LEFT JOIN hot h ON t.src_ip = h.src_ip AND t.w = h.w
        LEFT JOIN ip_dim d ON t.dst_ip = d.ip
        ORDER BY t.src_ip, t.w, t.dst_ip, t.proto, t.port
    """


def source_flows(ctx: Context, spans: list[dict[str, Any]]) -> dict[str, int]:
    """Every flow each scanner made within its scan's span (probes or not): the share that were probes."""
    if not spans:
        return {}
    table = pa.table(
        {
            "src_ip": pa.array([s["src_ip"] for s in spans], pa.string()),
            "first_ts": pa.array([s["first_ts"] for s in spans], pa.int64()),
            "last_ts": pa.array([s["last_ts"] for s in spans], pa.int64()),
        }
    )
    ctx.engine.register("scan_spans", table)
    rows = pylist(
        ctx.engine.query(
            """
            SELECT f.src_ip, count(*) AS flows FROM flows f
            JOIN scan_spans s ON f.src_ip = s.src_ip AND f.ts >= s.first_ts AND f.ts <= s.last_ts
            GROUP BY f.src_ip
            """
        )
    )
    return {r["src_ip"]: int(r["flows"]) for r in rows}


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


def new_targets_series(first_seen: list[int], bucket_minutes: int) -> tuple[list[int], list[int]]:
    """Bucket starts (µs) and how many targets were first probed in each, from the first to the last."""
    step = bucket_minutes * US_PER_MINUTE
    start = min(first_seen) // step * step
    counts: dict[int, int] = defaultdict(int)
    for ts in first_seen:
        counts[(ts - start) // step] += 1
    n = max(counts) + 1
    return [start + i * step for i in range(n)], [counts.get(i, 0) for i in range(n)]


# -- assembling a finding --------------------------------------------------------------------------------
def _top(counter: dict[Any, int], n: int, key: Any) -> list[tuple[Any, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], key(kv[0])))[:n]


def finding(src: str, rows: list[dict[str, Any]], params: Params) -> dict[str, Any]:
    """Everything said about one scanner, from its probed targets in the windows around its scans."""
    by_window: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_window[r["w"]].append(r)
    hot = [window_stats(w, ts) for w, ts in sorted(by_window.items()) if ts[0]["hot"]]
    best = max(hot, key=lambda s: (breadth(s, params.min_hosts, params.min_ports), -s.w))
    # One target over every window it was probed in.
    targets: dict[tuple[str, str, int], dict[str, Any]] = {}
    for r in rows:
        key = (r["dst_ip"], r["proto"], r["port"])
        t = targets.setdefault(key, {"probes": 0, "unanswered": 0, "first_ts": r["first_ts"], "internal": False})
        t["probes"] += r["probes"]
        t["unanswered"] += r["unanswered"]
        t["first_ts"] = min(t["first_ts"], r["first_ts"])
        t["internal"] = r["internal"]
    hosts_per_port: dict[tuple[str, int], int] = defaultdict(int)
    ports_per_host: dict[str, int] = defaultdict(int)
    for dst, proto, port in targets:
        hosts_per_port[(proto, port)] += 1
        ports_per_host[dst] += 1
    probes = sum(t["probes"] for t in targets.values())
    first = min(r["first_ts"] for r in rows)
    last = max(r["last_ts"] for r in rows)
    seconds = (last - first) / US_PER_SECOND
    found = kinds(best, params.min_hosts, params.min_ports)
    repeats = best.probes / best.targets
    return {
        "src_ip": src,
        "kinds": found,
        "hosts": len(ports_per_host),
        "internal_hosts": len({dst for (dst, _, _), t in targets.items() if t["internal"]}),
        "ports": len(hosts_per_port),
        "targets": len(targets),
        "probes": probes,
        "unanswered_share": round(sum(t["unanswered"] for t in targets.values()) / probes, 4),
        "duration_seconds": round(seconds, 3),
        "targets_per_minute": round(len(targets) / (seconds / 60), 3) if seconds > 0 else None,
        "widest_window": {
            "start": best.w * params.window_minutes * US_PER_MINUTE,
            "hosts_on_one_port": best.width,
            "ports_on_one_host": best.depth,
            "internal_hosts": best.swept,
            "probes_per_target": round(repeats, 3),
        },
        "top_ports": [
            {"proto": proto, "port": port, "hosts": n}
            for (proto, port), n in _top(hosts_per_port, params.top, lambda k: (k[0], k[1]))
        ],
        "top_hosts": [{"ip": ip, "ports": n} for ip, n in _top(ports_per_host, params.top, netclass.ip_sort_key)],
        "first_ts": first,
        "last_ts": last,
        "first_probes": [t["first_ts"] for t in targets.values()],
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


def make_chart(ctx: Context, f: dict[str, Any]) -> Chart:
    step = chart_bucket_minutes(f["first_ts"], f["last_ts"])
    starts, counts = new_targets_series(f["first_probes"], step)
    relative = ctx.source.relative_time
    return Chart(
        key=f"scan-{f['src_ip']}",
        title=f"Targets {f['src_ip']} probed for the first time, per {step} min",
        labels=[format_us(s, relative) for s in starts],
        values=[float(c) for c in counts],
        xlabel="time",
        ylabel="new targets",
    )


def make_alert(ctx: Context, f: dict[str, Any], flows: int) -> Alert:
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
    evidence = {k: v for k, v in f.items() if k not in ("first_ts", "last_ts", "first_probes", "score", "src_ip")}
    evidence["widest_window"] = f["widest_window"] | {"start": ctx.instant(f["widest_window"]["start"])}
    evidence["probe_share"] = round(probe_share, 4)
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
        chart=make_chart(ctx, f),
    )


def context_row(ctx: Context, f: dict[str, Any], answered: list[str]) -> dict[str, Any]:
    return {
        "scanner": f["src_ip"],
        "where": describe_host(ctx, f["src_ip"]),
        "kinds": f["kinds"],
        "hosts": f["hosts"],
        "ports": f["ports"],
        "probes": f["probes"],
        "unanswered_share": f["unanswered_share"],
        "answered_internal": answered,
        "first_seen": ctx.instant(f["first_ts"]),
        "last_seen": ctx.instant(f["last_ts"]),
        "score": f["score"],
    }


def answered_internal(rows: list[dict[str, Any]], top: int) -> list[str]:
    """Internal targets that answered a probe (host:port): what a scanner from outside found open."""
    seen = sorted(
        {(r["dst_ip"], r["proto"], r["port"]) for r in rows if r["internal"] and r["unanswered"] < r["probes"]},
        key=lambda k: (netclass.ip_sort_key(k[0]), k[1], k[2]),
    )
    return [f"{ip} {proto}/{port}" for ip, proto, port in seen[:top]]


_Params = Params


class Scan:
    key: ClassVar[str] = "scan"
    title: ClassVar[str] = "Scans"
    kind: ClassVar[str] = "detector"
    charts: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type] = Params
    needs: ClassVar[tuple[str, ...]] = ()
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(
            ("--scan",),
            "scans: internal sources probing many hosts on a port, many ports of a host, or sweeping internal "
            "addresses (outside scanners and allow-listed ones are listed as context)",
        ),
    )

    def check(self, params: _Params, config: Config) -> None:
        allow_list(params.allow)
        for name in ("min_hosts", "min_ports", "window_minutes", "top"):
            if getattr(params, name) < 1:
                raise ConfigError(f"scan.{name}: {getattr(params, name)} must be at least 1")
        if params.max_repeat <= 0:
            raise ConfigError(f"scan.max_repeat: {params.max_repeat} must be above 0")

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        allow = allow_list(params.allow)
        rows = pylist(ctx.engine.query(probed_targets_sql(ctx.source.optional, params)))
        by_src: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_src[r["src_ip"]].append(r)
        classes = {ip: info.get("class") for ip, info in ctx.ip_dim.lookup(list(by_src)).items()}
        findings = [finding(src, rs, params) for src, rs in by_src.items() if any(r["hot"] for r in rs)]
        findings.sort(key=lambda f: (-f["score"], -f["targets"], netclass.ip_sort_key(f["src_ip"])))
        inside = [f for f in findings if classes.get(f["src_ip"]) == "internal" and not allowed(f["src_ip"], allow)]
        flows = source_flows(ctx, inside)
        alerts = [make_alert(ctx, f, flows.get(f["src_ip"], 0)) for f in inside]
        allowed_rows = [
            context_row(ctx, f, answered_internal(by_src[f["src_ip"]], params.top))
            for f in findings
            if allowed(f["src_ip"], allow)
        ]
        outside_rows = [
            context_row(ctx, f, answered_internal(by_src[f["src_ip"]], params.top))
            for f in findings
            if classes.get(f["src_ip"]) != "internal" and not allowed(f["src_ip"], allow)
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
            rows=[
                {k: f[k] for k in ("src_ip", "kinds", "hosts", "ports", "probes", "unanswered_share", "score")}
                for f in inside
            ],
            note=self._note(params),
        )
        outside = Table(
            key="scan_outside",
            title="Scanners outside your networks (context, not alerts)",
            columns=columns,
            rows=outside_rows,
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
                    note=f"Sources in scan.allow ({params.allow}): they scan by design.",
                )
            )
        payload = {
            "scanners": [self._payload(ctx, f) for f in inside],
            "outside": [self._payload(ctx, f) for f in findings if f["src_ip"] in {r["scanner"] for r in outside_rows}],
            "allowed": [self._payload(ctx, f) for f in findings if f["src_ip"] in {r["scanner"] for r in allowed_rows}],
        }
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
    def _payload(ctx: Context, f: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in f.items() if k not in ("first_ts", "last_ts", "first_probes")}
        out["widest_window"] = f["widest_window"] | {"start": ctx.instant(f["widest_window"]["start"])}
        return out | {"first_seen": ctx.instant(f["first_ts"]), "last_seen": ctx.instant(f["last_ts"])}

    @staticmethod
    def _note(params: _Params) -> str:
        return (
            f"A probe sends at most {params.max_probe_bytes} bytes and gets at most {params.max_reply_bytes} back. "
            f"A scanner probes, within {params.window_minutes} minutes, at least {params.min_hosts} hosts on one "
            f"port (horizontal), {params.min_ports} ports of one host (vertical) or {params.min_hosts} internal "
            "hosts (sweep)."
        )
