"""--intel FILE: flows touching an address that a threat-intelligence list names (Spamhaus DROP, FireHOL,
abuse.ch Feodo Tracker, MISP/OpenCTI exports; formats in sentinel.enrich.intel).

Matching is done in the engine over the *distinct* addresses of the capture (the IP dimension), never per
flow: the lists' networks become integer ranges (IPv4 as one number, IPv6 as two signed 64-bit halves that
keep the order of the 128-bit value) and a range join finds the listed addresses. Only public addresses are
matched: internal, private and reserved ones never are (FireHOL level1 lists the bogons, 10.0.0.0/8
included, which would otherwise name every internal host). Then one pass, two equi-joins on the few listed
addresses, sums the flows each internal host exchanged with each of them.

One alert per listed address, naming every list and entry (with its comment: the SBL id, the malware
family), the internal hosts involved and the volume each way. Score (severity by the one table in
detectors.base): 0.8 (high) when internal hosts opened connections to it (a callback to a C&C or a listed
network), 0.55 (medium) when it only connected in and was answered, 0.3 (low) when it only knocked; each
further list naming it adds 0.05 (at most 0.95).

And every other finding on a listed address (an exfiltration to it, a beacon, a scan from it) is raised:
after all units ran, the pipeline calls `amend`, which adds the lists to the alert's evidence and raises its
score to 1 - (1 - score) x (1 - boost) (severity follows).
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from sentinel.config import Config, describe_params, param
from sentinel.context import Context
from sentinel.detectors.base import describe_host, human_bytes, severity_for
from sentinel.enrich import intel, netclass
from sentinel.errors import ConfigError
from sentinel.exact import pylist
from sentinel.report.evidence import IntelEvidence
from sentinel.report.model import SEVERITIES, Alert, Column, Section, Table
from sentinel.units import Detector, Flag, UnitResult

if TYPE_CHECKING:
    from sentinel.report.model import Report

_SIGN = np.uint64(1 << 63)
_KEYS, _RANGES, _HITS = "intel_keys", "intel_ranges", "intel_hits"


def _intel_file(text: str) -> str:
    if not text.strip():
        raise ConfigError("--intel: the value is empty; give a list file")
    return text


@dataclass(frozen=True)
class Params:
    lists: tuple[str, ...] = param((), "--intel FILE (repeatable): threat-intelligence lists of addresses and networks")
    boost: float = param(0.5, "other findings on a listed address: score becomes 1 - (1 - score) x (1 - boost)")
    top_hosts: int = param(10, "internal hosts quoted per alert, by flows")


# -- scoring: small pure functions ------------------------------------------------------------------------
def score(outbound: bool, answered: bool, lists: int) -> float:
    """How grave contact with a listed address is: opened from inside > answered from outside > knocked."""
    base = 0.8 if outbound else 0.55 if answered else 0.3
    return round(min(0.95, base + 0.05 * max(0, lists - 1)), 4)


def boosted(value: float, boost: float) -> float:
    """A finding's score raised because its counterpart is listed (never lowered, never above 1)."""
    return round(min(1.0, max(value, 1.0 - (1.0 - value) * (1.0 - boost))), 4)


def ranges(lists: list[intel.IntelList]) -> pa.Table:
    """The lists' networks as integer ranges: (version, fa, fb) .. (version, la, lb), signed 64-bit halves."""
    rows: dict[str, list[Any]] = defaultdict(list)
    for lst in lists:
        for e in lst.entries:
            first, last = int(e.network.network_address), int(e.network.broadcast_address)
            if e.network.version == 4:
                fa, fb, la, lb = first, 0, last, 0
            else:
                fa, fb, la, lb = (_signed(first >> 64), _signed(first), _signed(last >> 64), _signed(last))
            for k, v in (
                ("list", lst.name),
                ("entry", e.text),
                ("comment", e.comment),
                ("prefix", e.network.prefixlen),
                ("version", e.network.version),
                ("fa", fa),
                ("fb", fb),
                ("la", la),
                ("lb", lb),
            ):
                rows[k].append(v)
    schema = pa.schema(
        [("list", pa.string()), ("entry", pa.string()), ("comment", pa.string()), ("prefix", pa.int32())]
        + [("version", pa.int32())]
        + [(k, pa.int64()) for k in ("fa", "fb", "la", "lb")]
    )
    return pa.table({f.name: rows.get(f.name, []) for f in schema}, schema=schema)


def _signed(half: int) -> int:
    """The low 64 bits of `half` as a signed integer whose order is that of the unsigned value."""
    return (half & ((1 << 64) - 1)) - (1 << 63)


def address_keys(dim: pa.Table) -> pa.Table:
    """The public addresses of the IP dimension with the same integer keys (IPv4: the number; IPv6: halves)."""
    public = dim.filter(pa.compute.equal(dim["class"], netclass.PUBLIC))
    version = public["version"].to_numpy(zero_copy_only=False)
    v4 = version == 4
    ip_num = pa.compute.fill_null(public["ip_num"], 0).to_numpy().astype(np.int64)
    hi = pa.compute.fill_null(public["hi"], 0).to_numpy().astype(np.uint64)
    lo = pa.compute.fill_null(public["lo"], 0).to_numpy().astype(np.uint64)
    a = np.where(v4, ip_num, (hi - _SIGN).astype(np.int64) if len(hi) else hi.astype(np.int64))
    b = np.where(v4, 0, (lo - _SIGN).astype(np.int64) if len(lo) else lo.astype(np.int64))
    return pa.table(
        {"ip": public["ip"], "version": pa.array(version.astype(np.int32)), "a": pa.array(a), "b": pa.array(b)}
    )


MATCH_SQL = f"""
SELECT k.ip, i.list, i.entry, i.comment, i.prefix
FROM {_KEYS} k JOIN {_RANGES} i ON k.version = i.version AND k.a BETWEEN i.fa AND i.la
WHERE k.version = 4
   OR ((k.a > i.fa OR (k.a = i.fa AND k.b >= i.fb)) AND (k.a < i.la OR (k.a = i.la AND k.b <= i.lb)))
"""

TRAFFIC_SQL = f"""
SELECT f.src_ip AS host, f.dst_ip AS listed, true AS outbound, count(*) AS flows,
       sum(f.up_bytes)::HUGEINT AS sent, sum(f.down_bytes)::HUGEINT AS received, min(f.ts) AS first_ts,
       max(f.ts) AS last_ts
FROM flows f JOIN {_HITS} h ON f.dst_ip = h.ip
GROUP BY f.src_ip, f.dst_ip
UNION ALL
SELECT f.dst_ip AS host, f.src_ip AS listed, false AS outbound, count(*) AS flows,
       sum(f.down_bytes)::HUGEINT AS sent, sum(f.up_bytes)::HUGEINT AS received, min(f.ts) AS first_ts,
       max(f.ts) AS last_ts
FROM flows f JOIN {_HITS} h ON f.src_ip = h.ip
GROUP BY f.dst_ip, f.src_ip
"""


def matches(ctx: Context, lists: list[intel.IntelList]) -> dict[str, list[dict[str, Any]]]:
    """Listed address -> the entries naming it (most specific first, then by list and entry)."""
    ctx.engine.register(_KEYS, address_keys(ctx.ip_dim.table))
    ctx.engine.register(_RANGES, ranges(lists))
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in pylist(ctx.engine.query(MATCH_SQL)):
        out[r["ip"]].append({k: r[k] for k in ("list", "entry", "comment", "prefix")})
    order = [lst.name for lst in lists]
    for entries in out.values():
        entries.sort(key=lambda e: (-e["prefix"], order.index(e["list"]), e["entry"]))
    return dict(out)


def traffic(ctx: Context, listed: list[str]) -> list[dict[str, Any]]:
    ctx.engine.register(_HITS, pa.table({"ip": pa.array(listed, pa.string())}))
    return pylist(ctx.engine.query(TRAFFIC_SQL))


def label(entry: dict[str, Any]) -> str:
    """'spamhaus-drop.txt: 1.10.16.0/20 (SBL256894)'."""
    comment = f" ({entry['comment']})" if entry["comment"] else ""
    return f"{entry['list']}: {entry['entry']}{comment}"


def finding(
    listed: str, entries: list[dict[str, Any]], rows: list[dict[str, Any]], classes: dict[str, Any]
) -> dict[str, Any]:
    """What one listed address did with the capture's hosts (rows: per host and direction)."""
    per_host: dict[str, dict[str, Any]] = {}
    for r in rows:
        h = per_host.setdefault(
            r["host"],
            {
                "host": r["host"],
                "flows": 0,
                "sent": 0,
                "received": 0,
                "opened": False,
                "first_ts": None,
                "last_ts": None,
            },
        )
        h["flows"] += r["flows"]
        h["sent"] += int(r["sent"] or 0)
        h["received"] += int(r["received"] or 0)
        h["opened"] = h["opened"] or bool(r["outbound"])
        h["first_ts"] = r["first_ts"] if h["first_ts"] is None else min(h["first_ts"], r["first_ts"])
        h["last_ts"] = r["last_ts"] if h["last_ts"] is None else max(h["last_ts"], r["last_ts"])
    hosts = sorted(per_host.values(), key=lambda h: (-h["flows"], netclass.ip_sort_key(h["host"])))
    internal = [h for h in hosts if classes.get(h["host"]) == netclass.INTERNAL]
    involved = internal or hosts
    outbound = any(h["opened"] for h in involved)
    answered = any(h["sent"] > 0 for h in involved)
    lists = sorted({e["list"] for e in entries})
    return {
        "listed": listed,
        "entries": entries,
        "lists": lists,
        "hosts": involved,
        "internal": bool(internal),
        "outbound": outbound,
        "flows": sum(h["flows"] for h in involved),
        "sent": sum(h["sent"] for h in involved),
        "received": sum(h["received"] for h in involved),
        "first_ts": min(h["first_ts"] for h in involved),
        "last_ts": max(h["last_ts"] for h in involved),
        "score": score(outbound, answered, len(lists)),
    }


def make_alert(ctx: Context, f: dict[str, Any], params: Params) -> Alert:
    main = f["entries"][0]
    more = (
        f" and {len(f['entries']) - 1} more entr{'y' if len(f['entries']) == 2 else 'ies'}"
        if len(f["entries"]) > 1
        else ""
    )
    hosts = [h["host"] for h in f["hosts"]]
    who = f"{len(hosts)} internal host(s)" if f["internal"] else f"{len(hosts)} host(s) (none internal)"
    how = "opened by the hosts" if f["outbound"] else "opened from the listed address"
    summary = (
        f"{describe_host(ctx, f['listed'])} is listed ({label(main)}{more}); {who} exchanged {f['flows']} flows "
        f"with it ({how}): {human_bytes(f['sent'])} sent to it, {human_bytes(f['received'])} received."
    )
    evidence = IntelEvidence(
        lists=[label(e) for e in f["entries"]],
        entries=[{k: e[k] for k in ("list", "entry", "comment")} for e in f["entries"]],
        flows=f["flows"],
        bytes_sent_to_listed=f["sent"],
        bytes_received_from_listed=f["received"],
        opened_by_hosts=f["outbound"],
        hosts_involved=[
            {k: h[k] for k in ("host", "flows", "sent", "received", "opened")} for h in f["hosts"][: params.top_hosts]
        ],
    )
    return Alert(
        type="threat_intel",
        severity=severity_for(f["score"]),
        score=f["score"],
        hosts=hosts,
        summary=summary,
        src_ip=hosts[0],
        dst_ip=f["listed"],
        first_seen=ctx.instant(f["first_ts"]),
        last_seen=ctx.instant(f["last_ts"]),
        evidence=evidence,
    )


# Inside the unit's body the class attribute Params shadows the dataclass; run's annotation uses this name.
_Params = Params


class ThreatIntel(Detector):
    key: ClassVar[str] = "threat_intel"
    title: ClassVar[str] = "Threat intelligence: listed addresses"
    Params: ClassVar[type] = Params
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(
            ("--intel",),
            "threat-intelligence list: addresses/CIDRs one per line (Spamhaus DROP, FireHOL), abuse.ch Feodo "
            "CSV, MISP/OpenCTI CSV exports; repeatable. Flows touching a listed address alert, and raise other "
            "findings on it",
            param="lists",
            metavar="FILE",
            parse=_intel_file,
            repeat=True,
        ),
    )

    def check(self, params: _Params, config: Config) -> None:
        """Read every list before any data (a missing or empty list fails at once, exit status 3)."""
        for path in params.lists:
            intel.load(path)
        if not 0.0 <= params.boost <= 1.0:
            raise ConfigError(f"threat_intel.boost: {params.boost} is outside 0-1")

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        lists = [intel.load(p) for p in params.lists]
        listed = matches(ctx, lists) if lists else {}
        rows = traffic(ctx, sorted(listed, key=netclass.ip_sort_key)) if listed else []
        by_listed: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_listed[r["listed"]].append(r)
        others = {r["host"] for r in rows}
        classes = {ip: info.get("class") for ip, info in ctx.ip_dim.lookup(sorted(others)).items()}
        findings = [finding(ip, listed[ip], by_listed[ip], classes) for ip in listed if by_listed.get(ip)]
        findings.sort(key=lambda f: (-f["score"], -f["flows"], netclass.ip_sort_key(f["listed"])))
        alerts = [make_alert(ctx, f, params) for f in findings]
        table_rows = [
            {
                "listed": f["listed"],
                "lists": [label(e) for e in f["entries"]],
                "hosts": [h["host"] for h in f["hosts"]][: params.top_hosts],
                "flows": f["flows"],
                "sent": f["sent"],
                "received": f["received"],
                "opened": "inside" if f["outbound"] else "outside",
            }
            for f in findings
        ]
        summary = (
            "; ".join(
                f"{lst.name}: {len(lst.entries):,} entries ({lst.shape}, {lst.skipped} lines skipped)" for lst in lists
            )
            if lists
            else "no list given (--intel FILE)"
        )
        table = Table(
            key="threat_intel",
            title="Listed addresses the capture's hosts exchanged flows with",
            columns=[
                Column("listed", "listed address", "ip"),
                Column("lists", "list: entry (comment)", "list"),
                Column("hosts", "hosts", "list"),
                Column("flows", "flows", "int"),
                Column("sent", "bytes sent to it", "bytes"),
                Column("received", "bytes received", "bytes"),
                Column("opened", "opened from"),
            ],
            rows=table_rows,
            json_key="rows",
            note=f"Lists: {summary}. Public addresses only are matched (internal, private and reserved ones never "
            "are); other findings on a listed address are raised (boost "
            f"{params.boost:g}).",
        )
        section = Section(
            key=self.key,
            title=self.title,
            description="Flows to or from addresses that the threat-intelligence lists given with --intel name.",
            tables=[table],
            params=describe_params(params) | {"lists": [os.path.basename(p) for p in params.lists]},
            payload={
                "lists": [
                    {"name": lst.name, "entries": len(lst.entries), "skipped_lines": lst.skipped, "shape": lst.shape}
                    for lst in lists
                ],
                "listed": {ip: [label(e) for e in entries] for ip, entries in sorted(listed.items())},
            },
        )
        return UnitResult(section, alerts)

    def amend(self, ctx: Context, params: _Params, report: Report) -> None:
        """Raise the other findings on listed addresses, and say why in their evidence."""
        section = report.section(self.key)
        listed: dict[str, list[str]] = section.payload.get("listed", {}) if section else {}
        if not listed:
            return
        for alert in report.alerts:
            if alert.type == self.key:
                continue
            named = [ip for ip in dict.fromkeys([alert.src_ip, alert.dst_ip, *alert.hosts]) if ip in listed]
            if not named:
                continue
            alert.evidence = dataclasses.replace(
                alert.evidence,
                threat_intel=[f"{ip} on {text}" for ip in named for text in listed[ip]],
                score_before_threat_intel=alert.score,
            )
            alert.score = boosted(alert.score, params.boost)
            alert.severity = max(alert.severity, severity_for(alert.score), key=SEVERITIES.index)
