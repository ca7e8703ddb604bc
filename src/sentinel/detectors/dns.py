"""--dns: DNS tunnelling and rogue resolvers, from flow records alone.

DNS is the one protocol every host may speak to the outside, which makes it a channel for commands and
data. Without the queries themselves, flows still show two things:

* **Rogue resolvers.** In a network, resolvers are shared: every client asks the internal resolvers (or
  the same public ones), and those forward upstream. A resolver that (almost) no other internal host
  uses — the malware's own name server, a tunnel endpoint, a DNS changer's resolver — stands out by its
  *prevalence*: the number of internal hosts sending it DNS (port 53 udp/tcp, 853). A destination used by
  at most `rogue_max_hosts` hosts is rogue, when at least `min_hosts` internal hosts speak DNS at all. A
  host with more than `max_rogue_resolvers` of them is sweeping port 53 (a vulnerability scanner, a scan:
  the scan detector's finding), not using resolvers.
* **Out-of-line volume.** A tunnel carries its data up in the queries: many of them, longer than names
  are. Per host, the DNS bytes sent up and the bytes per query (per flow: a DNS flow is one query and its
  answer, in every format alike) are compared with the peers' by a robust z-score on their logarithms (median and
  MAD of the peers, the MAD-based scale floored at `min_log_scale` so that identical peers do not make
  every difference infinite); flows per host are given as evidence.

Internal resolvers (a host that at least `server_min_clients` internal hosts send DNS to) are servers:
their own DNS traffic is forwarding, never an alert, and their clients are using the company resolver.

Score (severity from the one table): a rogue resolver counts 0.5 (medium); out-of-line volume counts 0.5
at z = `volume_z`, 0.75 at twice it, approaching 1; the two combine as independent evidence,
1 - (1 - rogue)(1 - volume): a tunnel to an outside resolver of its own is high or critical.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from sentinel.config import describe_params, param
from sentinel.context import ALL_FIGURES, Context, summed
from sentinel.detectors import _stats
from sentinel.detectors._timeline import HOUR_SQL, hour_span
from sentinel.detectors.base import describe_host, human_bytes, severity_for
from sentinel.engines.base import temp_table
from sentinel.enrich import netclass
from sentinel.enrich.ipdim import HostRow
from sentinel.exact import pylist
from sentinel.report.evidence import DnsEvidence
from sentinel.report.model import Alert, Column, Section, Table
from sentinel.schema import US_PER_HOUR
from sentinel.sources.summaries import DNS_FLOWS_SQL  # DNS's ports, shared with the dns summary of datasets
from sentinel.timefmt import Instant
from sentinel.units import Detector, Flag, UnitResult


@dataclass(frozen=True)
class Params:
    server_min_clients: int = param(5, "a destination at least this many internal hosts send DNS to is a resolver")
    rogue_max_hosts: int = param(1, "a DNS destination used by at most this many internal hosts is a rogue resolver")
    min_hosts: int = param(5, "internal hosts speaking DNS before resolver prevalence and peer volumes are judged")
    volume_z: float = param(
        4.0, "robust z (log scale) of DNS bytes up or bytes per query that makes volume out of line"
    )
    min_log_scale: float = param(0.05, "least spread of the peers (log10 units) a robust z divides by")
    min_flows: int = param(100, "DNS flows of a host before its volume can alert")
    min_up_bytes: int = param(100_000, "DNS bytes sent up by a host before its volume can alert")
    max_rogue_resolvers: int = param(
        3, "a host sending DNS to more rogue destinations than this is sweeping port 53 (a scan), not using them"
    )
    top_resolvers: int = param(5, "resolvers quoted per alert, by flows")
    table_rows: int = param(
        25, "DNS destinations listed in the section table, most used first (the JSON and CSV have all)", minimum=0
    )


#: The internal hosts' DNS flows per (host, destination, hour): one pass over the flows gives both the pairs
#: and the alerting hosts' hourly charts.
DNS_HOURS = "dns_hours"


def dns_hours_sql(ctx: Context) -> str:
    """From the flows, or from an imported dataset's dns summary (the same flows, summed per pair and hour)."""
    k = ctx.keys
    summary = ctx.summary("dns")
    hour, where = ("hour", "TRUE") if summary is not None else (HOUR_SQL, DNS_FLOWS_SQL)
    return f"""
        SELECT {k.src} AS src, {k.dst} AS dst, {hour} AS hour, {summed(ALL_FIGURES, summary)}
        FROM {summary or "flows"}
        WHERE {where} AND {ctx.internal_source()}
        GROUP BY 1, 2, 3
        """


def dns_pairs(ctx: Context) -> list[dict[str, Any]]:
    """Internal hosts' DNS per (host, resolver), from the DNS_HOURS table (aggregated in the engine)."""
    return pylist(
        ctx.engine.query(
            ctx.with_texts(
                f"""
                SELECT src, dst, CAST(sum(flows) AS BIGINT) AS flows, sum(up_bytes) AS up_bytes,
                       sum(down_bytes) AS down_bytes, min(first_ts) AS first_ts, max(last_ts) AS last_ts
                FROM {DNS_HOURS} WHERE src <> dst
                GROUP BY src, dst
                """,
                {"src": "src_ip", "dst": "dst_ip"},
                ["flows", "up_bytes", "down_bytes", "first_ts", "last_ts"],
            )
        )
    )


@dataclass
class Resolvers:
    """Who uses which DNS destination."""

    users: dict[str, set[str]]  # destination -> internal hosts sending it DNS
    internal_resolvers: set[str]  # internal destinations with at least server_min_clients users
    hosts: list[str]  # internal hosts speaking DNS, in address order


def resolvers(pairs: list[dict[str, Any]], internal: set[str], params: Params) -> Resolvers:
    users: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        users[p["dst_ip"]].add(p["src_ip"])
    servers = {d for d, who in users.items() if d in internal and len(who) >= params.server_min_clients}
    hosts = sorted({p["src_ip"] for p in pairs}, key=netclass.ip_sort_key)
    return Resolvers(dict(users), servers, hosts)


def is_rogue(prevalence: int, hosts_speaking_dns: int, params: Params) -> bool:
    """A resolver almost nobody else uses, in a network large enough to say so."""
    return hosts_speaking_dns >= params.min_hosts and prevalence <= params.rogue_max_hosts


def log_z(values: list[float], reference: list[float], min_log_scale: float) -> np.ndarray:
    """Robust z of log10(values) against log10(reference), the scale floored at `min_log_scale`."""
    logs = np.log10(np.maximum(np.asarray(values, dtype=float), 1.0))
    ref = np.log10(np.maximum(np.asarray(reference, dtype=float), 1.0))
    return _stats.robust_z(logs, reference=ref, floor=min_log_scale)


def volume_part(z: float, threshold: float) -> float:
    """0 below the threshold; 0.5 at it, 0.75 at twice it, approaching 1."""
    if not z >= threshold:  # NaN too
        return 0.0
    return 0.5 + 0.5 * _stats.saturating(z - threshold, threshold)


def score(rogue: bool, z: float, threshold: float) -> float:
    """Rogue resolver (0.5) and out-of-line volume (volume_part) as independent evidence."""
    r = 0.5 if rogue else 0.0
    v = volume_part(z, threshold)
    return round(1.0 - (1.0 - r) * (1.0 - v), 4)


def host_rows(pairs: list[dict[str, Any]], res: Resolvers, params: Params) -> list[dict[str, Any]]:
    """Per DNS-speaking host that is not a resolver: totals, robust z against its peers, rogue resolvers."""
    totals: dict[str, dict[str, Any]] = {}
    for p in pairs:
        if p["src_ip"] in res.internal_resolvers:
            continue
        t = totals.setdefault(
            p["src_ip"],
            {"host": p["src_ip"], "flows": 0, "up_bytes": 0, "down_bytes": 0, "resolvers": []},
        )
        for k in ("flows", "up_bytes", "down_bytes"):
            t[k] += p[k]
        t["resolvers"].append(p)
    rows = sorted(totals.values(), key=lambda r: netclass.ip_sort_key(r["host"]))
    n_hosts = len(res.hosts)
    for r in rows:
        r["bytes_per_query"] = r["up_bytes"] / r["flows"]  # a DNS flow: a query and its answer
        rogue = sorted(
            (p for p in r["resolvers"] if is_rogue(len(res.users[p["dst_ip"]]), n_hosts, params)),
            key=lambda p: (-p["flows"], netclass.ip_sort_key(p["dst_ip"])),
        )
        # Port 53 of many hosts nobody else asks: a sweep (the scan detector's), not resolvers in use.
        r["dns_sweep_targets"] = len(rogue) if len(rogue) > params.max_rogue_resolvers else 0
        r["rogue"] = [] if r["dns_sweep_targets"] else rogue
    judged = len(rows) >= params.min_hosts
    for key in ("flows", "up_bytes", "bytes_per_query"):
        values = [float(r[key]) for r in rows]
        z = log_z(values, values, params.min_log_scale) if judged and rows else np.full(len(rows), math.nan)
        for r, v in zip(rows, z, strict=True):
            r[f"z_{key}"] = float(v)
    for r in rows:
        big = r["flows"] >= params.min_flows and r["up_bytes"] >= params.min_up_bytes
        z = max(r["z_up_bytes"], r["z_bytes_per_query"])
        r["volume_z"] = z if big and not math.isnan(z) else math.nan
        r["score"] = score(bool(r["rogue"]), r["volume_z"], params.volume_z)
    return rows


def peer_medians(rows: list[dict[str, Any]]) -> dict[str, float]:
    if not rows:
        return {"flows": 0.0, "up_bytes": 0.0, "bytes_per_query": 0.0}
    return {k: float(np.median([r[k] for r in rows])) for k in ("flows", "up_bytes", "bytes_per_query")}


def hourly_up(ctx: Context, hosts: list[str]) -> dict[str, dict[int, int]]:
    """DNS bytes sent up per hour by each of a few alerting hosts (their charts), from the DNS_HOURS table."""
    if not hosts:
        return {}
    ctx.register_keyed("dns_alert_hosts", pa.table({"ip": pa.array(hosts, pa.string())}), {"ip": "src"})
    rows = pylist(
        ctx.engine.query(
            f"""
            SELECT h.ip AS src_ip, t.hour, sum(t.up_bytes) AS up_bytes
            FROM {DNS_HOURS} t JOIN dns_alert_hosts h ON t.src = h.src
            GROUP BY 1, 2
            """
        )
    )
    out: dict[str, dict[int, int]] = defaultdict(dict)
    for r in rows:
        out[r["src_ip"]][r["hour"]] = r["up_bytes"]
    return dict(out)


def make_alert(
    ctx: Context, row: dict[str, Any], res: Resolvers, medians: dict[str, float], up: dict[int, int], params: Params
) -> Alert:
    """`up`: the host's DNS bytes sent per hour since the epoch, for the chart."""
    rogue = row["rogue"]
    volume = not math.isnan(row["volume_z"]) and row["volume_z"] >= params.volume_z
    main = rogue[0] if rogue else max(row["resolvers"], key=lambda p: (p["flows"], p["dst_ip"]))
    findings = (["rogue resolver"] if rogue else []) + (["volume out of line"] if volume else [])
    info = ctx.ip_dim.lookup([p["dst_ip"] for p in row["resolvers"]])
    quoted = sorted(row["resolvers"], key=lambda p: (-p["flows"], netclass.ip_sort_key(p["dst_ip"])))
    resolvers_ev = [
        {
            "resolver": p["dst_ip"],
            "role": "rogue"
            if p in rogue
            else "internal resolver"
            if p["dst_ip"] in res.internal_resolvers
            else "shared",
            "hosts_using": len(res.users[p["dst_ip"]]),
            "country": _where(info, p["dst_ip"])[1],
            "as_org": _where(info, p["dst_ip"])[2],
            "flows": p["flows"],
            "up_bytes": p["up_bytes"],
            "down_bytes": p["down_bytes"],
        }
        for p in quoted[: params.top_resolvers]
    ]
    parts = []
    if rogue:
        parts.append(
            f"sent {sum(p['flows'] for p in rogue)} DNS flows to {describe_host(ctx, main['dst_ip'])}, a resolver "
            f"no more than {params.rogue_max_hosts} of the {len(res.hosts)} internal DNS hosts use"
        )
    if volume:
        parts.append(
            f"sent {human_bytes(row['up_bytes'])} of DNS up in {row['flows']} flows "
            f"({row['bytes_per_query']:.0f} B per query; peers' median {human_bytes(medians['up_bytes'])}, "
            f"{medians['bytes_per_query']:.0f} B per query)"
        )
    summary = f"{row['host']} " + " and ".join(parts) + "."
    hours = hour_span(list(up))
    evidence = DnsEvidence(
        findings=findings,
        dns_flows=row["flows"],
        dns_up_bytes=row["up_bytes"],
        dns_down_bytes=row["down_bytes"],
        up_bytes_per_query=round(row["bytes_per_query"], 1),
        peer_median_flows=medians["flows"],
        peer_median_up_bytes=medians["up_bytes"],
        peer_median_bytes_per_query=round(medians["bytes_per_query"], 1),
        z_flows=_rounded(row["z_flows"]),
        z_up_bytes=_rounded(row["z_up_bytes"]),
        z_bytes_per_query=_rounded(row["z_bytes_per_query"]),
        rogue_resolvers=[p["dst_ip"] for p in rogue],
        dns_sweep_targets=row["dns_sweep_targets"],
        resolvers=resolvers_ev,
        hosts_speaking_dns=len(res.hosts),
        internal_resolvers=sorted(res.internal_resolvers, key=netclass.ip_sort_key),
        hours=[Instant(h * US_PER_HOUR, ctx.source.relative_time) for h in hours],
        up_bytes_per_hour=[up.get(h, 0) for h in hours],
    )
    value = row["score"]
    return Alert(
        type="dns_tunnel",
        severity=severity_for(value),
        score=value,
        hosts=[row["host"]],
        summary=summary,
        src_ip=row["host"],
        dst_ip=main["dst_ip"],
        first_seen=ctx.instant(min(p["first_ts"] for p in row["resolvers"])),
        last_seen=ctx.instant(max(p["last_ts"] for p in row["resolvers"])),
        evidence=evidence,
        proto="udp",
        port=53,
    )


def _where(info: dict[str, HostRow], ip: str) -> tuple[str | None, str | None, str | None]:
    """Class, country and AS organisation of an address of the IP dimension."""
    row = info.get(ip)
    return (row["class"], row["country"], row["as_org"]) if row else (None, None, None)


def _rounded(z: float) -> float | None:
    return None if math.isnan(z) else round(z, 3)


# Inside the unit's body the class attribute Params shadows the dataclass; run's annotation uses this name.
_Params = Params


class Dns(Detector):
    key: ClassVar[str] = "dns"
    title: ClassVar[str] = "DNS tunnelling and rogue resolvers"
    Params: ClassVar[type] = Params
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(
            ("--dns",),
            "DNS tunnelling and rogue resolvers: hosts using a resolver nobody else uses, or "
            "sending DNS volumes out of line with their peers",
        ),
    )

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        with temp_table(ctx.engine, DNS_HOURS, dns_hours_sql(ctx)):
            pairs = dns_pairs(ctx)
            dsts = sorted({p["dst_ip"] for p in pairs})
            info = ctx.ip_dim.lookup(dsts)
            internal = {d for d in dsts if _where(info, d)[0] == "internal"}
            res = resolvers(pairs, internal, params)
            rows = host_rows(pairs, res, params)
            medians = peer_medians(rows)
            alerting = sorted(
                (r for r in rows if r["score"] > 0), key=lambda r: (-r["score"], netclass.ip_sort_key(r["host"]))
            )
            series = hourly_up(ctx, [r["host"] for r in alerting])
        alerts = [make_alert(ctx, r, res, medians, series.get(r["host"], {}), params) for r in alerting]
        resolver_rows = sorted(
            (
                {
                    "resolver": d,
                    "role": "internal resolver" if d in res.internal_resolvers else _where(info, d)[0],
                    "hosts_using": len(who),
                    "flows": sum(p["flows"] for p in pairs if p["dst_ip"] == d),
                }
                for d, who in res.users.items()
            ),
            key=lambda r: (-r["hosts_using"], -r["flows"], netclass.ip_sort_key(r["resolver"])),
        )
        table = Table(
            key="dns_hosts",
            title="Hosts whose DNS stands out",
            columns=[
                Column("host", "host", "ip"),
                Column("flows", "DNS flows", "int"),
                Column("up_bytes", "bytes up", "bytes"),
                Column("bytes_per_query", "bytes/query", "float"),
                Column("volume_z", "volume z", "float"),
                Column("rogue_resolvers", "rogue resolvers", "list"),
                Column("score", "score", "float"),
            ],
            rows=[_table_row(r) for r in alerting],
            json_key="rows",
            note=f"{len(res.hosts)} internal hosts speak DNS (ports 53, 853); "
            f"{len(res.internal_resolvers)} internal resolver(s) (used by at least {params.server_min_clients} hosts) "
            f"are servers, not judged. Rogue: a resolver at most {params.rogue_max_hosts} internal host(s) use "
            f"(judged from {params.min_hosts} DNS hosts). Volume: robust z of log bytes up or bytes per query "
            f">= {params.volume_z:g} (hosts with >= {params.min_flows} DNS flows and "
            f">= {human_bytes(params.min_up_bytes)} up).",
        )
        resolver_table = Table(
            key="dns_resolvers",
            title="DNS destinations by internal hosts using them",
            columns=[
                Column("resolver", "resolver", "ip"),
                Column("role", "role"),
                Column("hosts_using", "internal hosts", "int"),
                Column("flows", "flows", "int"),
            ],
            rows=resolver_rows,
            limit=params.table_rows,  # a sweep scan makes every host a DNS destination: hundreds of rows
            json_key="resolvers",
        )
        section = Section(
            key=self.key,
            title=self.title,
            description="Hosts sending DNS to a resolver the rest of the network does not use, or DNS volumes out "
            "of line with their peers (tunnelling), told apart from the internal resolvers forwarding upstream.",
            tables=[table, resolver_table],
            params=describe_params(params),
            payload={
                "hosts_speaking_dns": len(res.hosts),
                "internal_resolvers": sorted(res.internal_resolvers, key=netclass.ip_sort_key),
                "peer_medians": medians,
            },
        )
        return UnitResult(section, alerts)


def _table_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "host": r["host"],
        "flows": r["flows"],
        "up_bytes": r["up_bytes"],
        "bytes_per_query": round(r["bytes_per_query"], 1),
        "volume_z": _rounded(r["volume_z"]),
        "rogue_resolvers": [p["dst_ip"] for p in r["rogue"]],
        "score": r["score"],
    }
