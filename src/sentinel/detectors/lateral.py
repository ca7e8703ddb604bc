"""--lateral: one internal host fanning out to many internal hosts on admin ports (lateral movement).

Many clients talking to one server on SMB or RDP is an office working; one host opening admin sessions
(SMB 445, RDP 3389, SSH 22, WinRM 5985/5986, RPC 135) on many other internal hosts is how an intruder
spreads (PsExec, WMI, RDP hopping, SSH with stolen keys), unless it is a declared admin or jump host.

* From the context's one pass over internal sources: per (host, target, port), flows and bytes, first
  and last seen. A target's port that at least `server_min_clients` internal hosts use is a service (its
  clients are normal) and is not counted.
* A target counts when it answered (`min_answer_bytes` back over the host's admin flows to it): probes
  nobody answered are the scan detector's finding, not a session.
* A host with at least `min_targets` such targets alerts, unless it lies in `admin_hosts` (an
  allow-list of admin/jump/backup hosts, reported as context).

Kept apart from the P2P botnet finding (`-bn`): that one is many hosts both opening and accepting
connections among themselves on non-service ports; this one is one host opening admin sessions to
many hosts that do not call back.

Score (severity from the one table): fan-out n/(n + min_targets) — 0.5 at `min_targets` targets, 0.67
at twice, 0.86 at six times — combined with the share of targets first reached within one
`burst_minutes` window (a fan-out done in minutes is tooling, one over a day may be a person):
1 - (1 - fan)(1 - 0.5 * burst share). Five targets in one burst score 0.75 (high).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow.compute as pc

from sentinel.config import Config, describe_params, param
from sentinel.context import Context
from sentinel.detectors import _stats
from sentinel.detectors.base import human_bytes, severity_for
from sentinel.enrich import netclass
from sentinel.errors import ConfigError
from sentinel.exact import pylist
from sentinel.report.evidence import LateralEvidence
from sentinel.report.model import Alert, Column, Section, Table
from sentinel.schema import US_PER_HOUR
from sentinel.timefmt import Instant
from sentinel.units import Detector, Flag, UnitResult

US_PER_MINUTE = US_PER_HOUR // 60


@dataclass(frozen=True)
class Params:
    ports: tuple[int, ...] = param((22, 135, 445, 3389, 5985, 5986), "admin ports (SSH, RPC, SMB, RDP, WinRM)")
    min_targets: int = param(5, "internal hosts reached on admin ports before a host alerts")
    min_answer_bytes: int = param(1000, "bytes a target sent back over the admin flows for it to count as a session")
    server_min_clients: int = param(5, "a target port this many internal hosts use is a service, not counted")
    burst_minutes: int = param(30, "window in which a fan-out counts as one burst (score up)")
    admin_hosts: tuple[str, ...] = param(
        (), "declared admin/jump/backup hosts (addresses or CIDRs): context, not alerts"
    )
    top_targets: int = param(20, "targets quoted per alert, first reached first")


Edge = dict[str, Any]


def admin_edges(ctx: Context, params: Params) -> list[Edge]:
    """Internal host -> other internal host on an admin port, per (src, dst, proto, port)."""
    sources = ctx.internal_sources
    edges = sources.filter(
        pc.and_(
            pc.and_(pc.equal(sources["scope"], "internal"), pc.not_equal(sources["src_ip"], sources["dst_ip"])),
            pc.is_in(sources["port"], pc.cast(list(params.ports), sources["port"].type)),
        )
    )
    return pylist(edges.drop_columns(["scope"]))


def services(edges: list[Edge], params: Params) -> set[tuple[str, str, int]]:
    """(target, proto, port) that at least server_min_clients internal hosts use."""
    clients: dict[tuple[str, str, int], set[str]] = {}
    for e in edges:
        clients.setdefault((e["dst_ip"], e["proto"], e["port"]), set()).add(e["src_ip"])
    return {k for k, who in clients.items() if len(who) >= params.server_min_clients}


def fan_outs(edges: list[Edge], served: set[tuple[str, str, int]], params: Params) -> dict[str, dict[str, Any]]:
    """Per source host, its answered admin sessions to targets that are not services: per target, the
    totals over its admin ports."""
    out: dict[str, dict[str, Any]] = {}
    for e in edges:
        if (e["dst_ip"], e["proto"], e["port"]) in served:
            continue
        host = out.setdefault(e["src_ip"], {"targets": {}})
        t = host["targets"].setdefault(
            e["dst_ip"],
            {"target": e["dst_ip"], "ports": set(), "flows": 0, "up_bytes": 0, "down_bytes": 0, "first_ts": None},
        )
        t["ports"].add(f"{e['proto']}/{e['port']}")
        t["flows"] += e["flows"]
        t["up_bytes"] += e["up_bytes"]
        t["down_bytes"] += e["down_bytes"]
        t["first_ts"] = e["first_ts"] if t["first_ts"] is None else min(t["first_ts"], e["first_ts"])
        t["last_ts"] = max(t.get("last_ts", e["last_ts"]), e["last_ts"])
    for src, host in out.items():
        answered = [t for t in host["targets"].values() if t["down_bytes"] >= params.min_answer_bytes]
        host["src_ip"] = src
        host["probed"] = len(host["targets"]) - len(answered)
        host["sessions"] = sorted(answered, key=lambda t: (t["first_ts"], netclass.ip_sort_key(t["target"])))
    return out


def burst(first_contacts: list[int], window_us: int) -> tuple[int, int | None]:
    """Most first contacts within any window of `window_us` (sliding), and where that window starts."""
    times = sorted(first_contacts)
    best, start, j = 0, None, 0
    for i, t in enumerate(times):
        while t - times[j] > window_us:
            j += 1
        if i - j + 1 > best:
            best, start = i - j + 1, times[j]
    return best, start


def score(targets: int, burst_targets: int, min_targets: int) -> float:
    """Fan-out (0.5 at min_targets) combined with the share of targets reached in one burst."""
    if targets <= 0:
        return 0.0
    fan = _stats.saturating(targets / max(min_targets, 1), 1.0)
    share = min(max(burst_targets, 0), targets) / targets
    return round(1.0 - (1.0 - fan) * (1.0 - 0.5 * share), 4)


def is_admin(ip: str, allowed: tuple[netclass.IPNetwork, ...]) -> bool:
    address = ipaddress.ip_address(ip)
    return any(address in net for net in allowed)


def make_alert(ctx: Context, host: dict[str, Any], params: Params) -> Alert:
    sessions = host["sessions"]
    n = len(sessions)
    best, start = burst([t["first_ts"] for t in sessions], params.burst_minutes * US_PER_MINUTE)
    ports = sorted({p for t in sessions for p in t["ports"]})
    value = score(n, best, params.min_targets)
    up = sum(t["up_bytes"] for t in sessions)
    down = sum(t["down_bytes"] for t in sessions)
    summary = (
        f"{host['src_ip']} opened admin sessions ({', '.join(ports)}) on {n} internal hosts, {best} of them "
        f"within {params.burst_minutes} minutes: {sum(t['flows'] for t in sessions)} flows, "
        f"{human_bytes(up)} sent, {human_bytes(down)} back."
    )
    evidence = LateralEvidence(
        targets=n,
        burst_targets=best,
        burst_start=ctx.instant(start),
        burst_minutes=params.burst_minutes,
        ports=ports,
        flows=sum(t["flows"] for t in sessions),
        up_bytes=up,
        down_bytes=down,
        unanswered_targets=host["probed"],
        sessions=[
            {
                "target": t["target"],
                "ports": sorted(t["ports"]),
                "flows": t["flows"],
                "up_bytes": t["up_bytes"],
                "down_bytes": t["down_bytes"],
                "first_seen": ctx.instant(t["first_ts"]),
            }
            for t in sessions[: params.top_targets]
        ],
        first_contacts=[Instant(t["first_ts"], ctx.source.relative_time) for t in sessions],
    )
    single = ports[0].split("/") if len(ports) == 1 else None
    return Alert(
        type="lateral",
        severity=severity_for(value),
        score=value,
        hosts=[host["src_ip"]],
        summary=summary,
        src_ip=host["src_ip"],
        first_seen=ctx.instant(min(t["first_ts"] for t in sessions)),
        last_seen=ctx.instant(max(t["last_ts"] for t in sessions)),
        evidence=evidence,
        proto=single[0] if single else None,
        port=int(single[1]) if single else None,
    )


# Inside the unit's body the class attribute Params shadows the dataclass; run's annotation uses this name.
_Params = Params


class Lateral(Detector):
    key: ClassVar[str] = "lateral"
    title: ClassVar[str] = "Lateral movement (fan-out on admin ports)"
    Params: ClassVar[type] = Params
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(
            ("--lateral",),
            "lateral movement: one internal host opening admin sessions (SMB, RDP, SSH, WinRM, RPC) on many "
            "internal hosts; declared admin hosts (lateral.admin_hosts) are context",
        ),
    )

    def check(self, params: _Params, config: Config) -> None:
        """Bad allow-list entries or ports fail before any data is read."""
        if params.admin_hosts:
            netclass.parse_cidrs(params.admin_hosts, "lateral.admin_hosts")
        for port in params.ports:
            if not 0 <= port <= 65535:
                raise ConfigError(f"lateral.ports: {port} is outside 0-65535")

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        allowed = netclass.parse_cidrs(params.admin_hosts, "lateral.admin_hosts") if params.admin_hosts else ()
        edges = admin_edges(ctx, params)
        served = services(edges, params)
        hosts = fan_outs(edges, served, params)
        wide = sorted(
            (h for h in hosts.values() if len(h["sessions"]) >= params.min_targets),
            key=lambda h: (-len(h["sessions"]), netclass.ip_sort_key(h["src_ip"])),
        )
        suspects = [h for h in wide if not is_admin(h["src_ip"], allowed)]
        alerts = [make_alert(ctx, h, params) for h in suspects]

        def row(h: dict[str, Any]) -> dict[str, Any]:
            s = h["sessions"]
            return {
                "host": h["src_ip"],
                "targets": len(s),
                "ports": sorted({p for t in s for p in t["ports"]}),
                "flows": sum(t["flows"] for t in s),
                "unanswered": h["probed"],
                "declared_admin": is_admin(h["src_ip"], allowed),
            }

        table = Table(
            key="lateral_hosts",
            title="Internal hosts opening admin sessions on many internal hosts",
            columns=[
                Column("host", "host", "ip"),
                Column("targets", "targets", "int"),
                Column("ports", "ports", "list"),
                Column("flows", "flows", "int"),
                Column("unanswered", "unanswered targets", "int"),
                Column("declared_admin", "declared admin"),
            ],
            rows=[row(h) for h in wide],
            json_key="rows",
            note=f"Admin ports {', '.join(str(p) for p in params.ports)}; a target counts when it sent at least "
            f"{params.min_answer_bytes} bytes back, and not when its port is a service of at least "
            f"{params.server_min_clients} internal hosts. {params.min_targets} targets or more alert, unless the "
            "host is declared in lateral.admin_hosts (then listed here as context).",
        )
        section = Section(
            key=self.key,
            title=self.title,
            description="One internal host opening admin sessions on many internal hosts, told apart from "
            "servers' clients and declared admin hosts.",
            tables=[table],
            params=describe_params(params) | {"admin_hosts": list(params.admin_hosts), "ports": list(params.ports)},
            payload={
                "admin_edges": len(edges),
                "services": len(served),
            },
        )
        return UnitResult(section, alerts)
