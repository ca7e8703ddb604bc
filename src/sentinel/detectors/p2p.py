"""-bn: internal hosts talking to each other like a botnet (peer-to-peer), told apart from servers.

The original grouped every internal flow by destination, so every internal server (DNS, file, web)
came out as a "botnet". Clients using a server all open connections to it and it opens none back on
that service; peers in a P2P botnet (or lateral movement between workstations) both open and accept
connections among themselves, on ports that are not a service. Servers are reported as context, P2P
groups as alerts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from sentinel.config import Config, describe_params, param
from sentinel.context import Context
from sentinel.detectors import _stats
from sentinel.detectors.base import severity_for
from sentinel.enrich import netclass
from sentinel.errors import ConfigError
from sentinel.exact import pylist
from sentinel.report.evidence import BotnetEvidence
from sentinel.report.model import Alert, Column, Section, Table
from sentinel.units import Detector, Flag, UnitResult
from sentinel.values import given

EVERY_SUBNET = "0.0.0.0/0"


@dataclass(frozen=True)
class Params:
    cidr: str = param(EVERY_SUBNET, "-bn CIDR: the subnet whose hosts are examined; 0.0.0.0/0: every internal network")
    server_min_clients: int = param(5, "a destination port used by this many internal clients is a service")
    service_port_max: int = param(1023, "ports up to this are well-known services, never counted as P2P")
    min_group: int = param(3, "hosts in a P2P group before it alerts")


Edge = dict[str, Any]


def internal_edges(ctx: Context, network: netclass.IPNetwork | None) -> list[Edge]:
    """Flows between two internal hosts (of `network`, when given), per (src, dst, proto, port).

    Taken from the context's one pass over internal sources; the subnet test is an integer range test
    on the parsed addresses of the IP dimension, never per flow.
    """
    sources = ctx.internal_sources
    edges = sources.filter(
        pc.and_(pc.equal(sources["scope"], "internal"), pc.not_equal(sources["src_ip"], sources["dst_ip"]))
    )
    if network is not None:
        inside = ctx.ip_dim.table.filter(in_network(ctx.ip_dim.table, network))["ip"]
        edges = edges.filter(pc.and_(pc.is_in(edges["src_ip"], inside), pc.is_in(edges["dst_ip"], inside)))
    return pylist(edges.drop_columns(["scope"]))


def in_network(dim: pa.Table, network: netclass.IPNetwork) -> pa.Array:
    """Which rows of the IP dimension lie in `network`: integer tests on its numeric columns."""
    if network.version == 4:
        first, last = int(network.network_address), int(network.broadcast_address)
        return pc.and_(pc.greater_equal(dim["ip_num"], first), pc.less_equal(dim["ip_num"], last))
    (net_hi, net_lo, mask_hi, mask_lo), *_ = netclass.v6_prefixes([network]).tolist()
    hi_ok = pc.equal(pc.bit_wise_and(dim["hi"], pa.scalar(mask_hi, pa.uint64())), pa.scalar(net_hi, pa.uint64()))
    lo_ok = pc.equal(pc.bit_wise_and(dim["lo"], pa.scalar(mask_lo, pa.uint64())), pa.scalar(net_lo, pa.uint64()))
    return pc.and_(hi_ok, lo_ok)


def find_services(edges: list[Edge], params: Params) -> dict[tuple[str, str, int], set[str]]:
    """(server, proto, port) -> clients, for services: many clients, and the server never calls back on it."""
    clients: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    initiates: set[tuple[str, str, int]] = set()
    for e in edges:
        clients[(e["dst_ip"], e["proto"], e["port"])].add(e["src_ip"])
        initiates.add((e["src_ip"], e["proto"], e["port"]))
    return {key: who for key, who in clients.items() if len(who) >= params.server_min_clients and key not in initiates}


def is_service_edge(e: Edge, services: dict, params: Params) -> bool:
    return e["port"] <= params.service_port_max or (e["dst_ip"], e["proto"], e["port"]) in services


def p2p_groups(edges: list[Edge], services: dict, params: Params) -> list[list[Edge]]:
    """Connected groups of hosts that both open and accept non-service connections with each other."""
    peer_edges = [e for e in edges if not is_service_edge(e, services, params)]
    opens = {e["src_ip"] for e in peer_edges}
    accepts = {e["dst_ip"] for e in peer_edges}
    nodes = opens & accepts
    mesh = [e for e in peer_edges if e["src_ip"] in nodes and e["dst_ip"] in nodes]
    parent = {n: n for n in nodes}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for e in mesh:
        a, b = root(e["src_ip"]), root(e["dst_ip"])
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[str, list[Edge]] = defaultdict(list)
    for e in mesh:
        groups[root(e["src_ip"])].append(e)
    found = [g for g in groups.values() if len(_members(g)) >= params.min_group]
    return sorted(found, key=lambda g: (-len(_members(g)), netclass.ip_sort_key(_members(g)[0])))


def _members(group: list[Edge]) -> list[str]:
    return sorted({e["src_ip"] for e in group} | {e["dst_ip"] for e in group}, key=netclass.ip_sort_key)


#: What the JSON report's rows and an alert's evidence say of a group: group_evidence but the raw times.
GROUP_FIELDS = (
    "members",
    "ports",
    "flows",
    "up_bytes",
    "down_bytes",
    "connected_pairs",
    "density",
    "reciprocity",
    "rate_per_second",
)


def group_evidence(group: list[Edge]) -> dict[str, Any]:
    members = _members(group)
    pairs = {(e["src_ip"], e["dst_ip"]) for e in group}
    possible = len(members) * (len(members) - 1)
    reciprocal = sum(1 for a, b in pairs if (b, a) in pairs)
    flows = sum(e["flows"] for e in group)
    first = min(e["first_ts"] for e in group)
    last = max(e["last_ts"] for e in group)
    ports = sorted({f"{e['proto']}/{e['port']}" for e in group})
    return {
        "members": members,
        "ports": ports,
        "flows": flows,
        "up_bytes": sum(e["up_bytes"] for e in group),
        "down_bytes": sum(e["down_bytes"] for e in group),
        "connected_pairs": len(pairs),
        "density": len(pairs) / possible if possible else 0.0,
        "reciprocity": reciprocal / len(pairs) if pairs else 0.0,
        "rate_per_second": _stats.rate_per_second(flows, first, last),
        "first_ts": first,
        "last_ts": last,
    }


def score(density: float, reciprocity: float, members: int, min_group: int) -> float:
    """How much the group looks like a P2P mesh (density and reciprocity, half each), scaled by its size:
    a smallest mesh of `min_group` full peers scores 0.78 (high), ten or more 1.0 (critical)."""
    structure = 0.5 * density + 0.5 * reciprocity
    size = min(1.0, (members - min_group + 1) / max(1, 10 - min_group + 1))
    return round(min(1.0, structure * (0.75 + 0.25 * size)), 4)


def make_alert(ctx: Context, ev: dict[str, Any], group: list[Edge], min_group: int) -> Alert:
    members = ev["members"]
    rate = ev["rate_per_second"]
    rate_text = f"{rate:.4f} flows/s" if rate is not None else "a single instant"
    summary = (
        f"{len(members)} internal hosts ({', '.join(members)}) talk to each other peer-to-peer on "
        f"{', '.join(ev['ports'])}: {ev['flows']} flows at {rate_text}; each both opens and accepts connections."
    )
    evidence = BotnetEvidence(
        **{k: ev[k] for k in GROUP_FIELDS},
        edges=[(e["src_ip"], e["dst_ip"], e["flows"]) for e in group],  # who talks to whom: the chart's graph
    )
    value = score(ev["density"], ev["reciprocity"], len(members), min_group)
    return Alert(
        type="botnet",
        severity=severity_for(value),
        score=value,
        hosts=members,
        summary=summary,
        first_seen=ctx.instant(ev["first_ts"]),
        last_seen=ctx.instant(ev["last_ts"]),
        evidence=evidence,
    )


def server_rows(edges: list[Edge], services: dict) -> list[dict[str, Any]]:
    by_server: dict[str, dict[str, Any]] = {}
    for (server, proto, port), clients in services.items():
        row = by_server.setdefault(server, {"server": server, "services": [], "clients": set()})
        row["services"].append(f"{proto}/{port}")
        row["clients"] |= clients
    for e in edges:
        if (e["dst_ip"], e["proto"], e["port"]) in services:
            row = by_server[e["dst_ip"]]
            row["flows"] = row.get("flows", 0) + e["flows"]
            row["first_ts"] = min(row.get("first_ts", e["first_ts"]), e["first_ts"])
            row["last_ts"] = max(row.get("last_ts", e["last_ts"]), e["last_ts"])
    rows = []
    for row in by_server.values():
        rows.append(
            {
                "server": row["server"],
                "services": ", ".join(sorted(row["services"])),
                "clients": len(row["clients"]),
                "flows": row["flows"],
                "rate_per_second": _stats.rate_per_second(row["flows"], row["first_ts"], row["last_ts"]),
            }
        )
    return sorted(rows, key=lambda r: (-r["flows"], netclass.ip_sort_key(r["server"])))


# Inside the unit's body the class attribute Params shadows the dataclass; run's annotation uses this name.
_Params = Params


class Botnet(Detector):
    key: ClassVar[str] = "botnet"
    title: ClassVar[str] = "Possible internal botnet (peer-to-peer)"
    Params: ClassVar[type] = Params
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(
            ("-bn", "--botnet"),
            "possible internal botnet: hosts of CIDR talking peer-to-peer (servers reported as context); "
            "0.0.0.0/0 = every internal network. CIDR must lie inside --internal: -bn chooses the hosts "
            "examined, never what is internal",
            param="cidr",
            metavar="CIDR",
            parse=given("-bn"),
        ),
    )

    def check(self, params: _Params, config: Config) -> None:
        """Fail on a bad CIDR before reading any data. -bn chooses which internal hosts are examined, never
        what is internal: declaring a public subnet internal would hide exfiltration to it from -dx."""
        network = netclass.parse_cidr(params.cidr, "-bn")
        if network.prefixlen and not netclass.covered(network, config.internal):
            raise ConfigError(f"-bn: {network} is outside the internal networks; add it to --internal if it is yours")

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        network = netclass.parse_cidr(params.cidr, "-bn")
        every = network.prefixlen == 0
        if not every and not netclass.covered(network, ctx.config.internal):
            # The one pass over internal sources only sees internal hosts.
            raise ConfigError(f"-bn: {network} is outside the internal networks; add it to --internal")
        edges = internal_edges(ctx, None if every else network)
        services = find_services(edges, params)
        found = p2p_groups(edges, services, params)
        groups = [group_evidence(g) for g in found]
        alerts = [make_alert(ctx, ev, g, params.min_group) for ev, g in zip(groups, found, strict=True)]
        scope = "every internal network" if every else str(network)
        group_table = Table(
            key="botnet_groups",
            title=f"Peer-to-peer groups in {scope}",
            columns=[
                Column("members", "hosts", "list"),
                Column("subnets", "subnets", "list"),
                Column("ports", "ports", "list"),
                Column("flows", "flows", "int"),
                Column("rate_per_second", "flows/s", "rate"),
                Column("density", "pairs connected", "percent"),
            ],
            rows=[ev | {"subnets": sorted({netclass.subnet_of(m) for m in ev["members"]})} for ev in groups],
            json_key="rows",
            json_fields=GROUP_FIELDS,
            note=f"Hosts that both open and accept connections among themselves on non-service ports "
            f"(above {params.service_port_max}, not used as a service by at least {params.server_min_clients} "
            f"clients); groups of at least {params.min_group} hosts alert.",
        )
        servers = server_rows(edges, services)
        server_table = Table(
            key="botnet_servers",
            title=f"Internal servers in {scope} (context, not alerts)",
            columns=[
                Column("server", "server", "ip"),
                Column("services", "services"),
                Column("clients", "clients", "int"),
                Column("flows", "flows", "int"),
                Column("rate_per_second", "flows/s", "rate"),
            ],
            rows=servers,
            json_key="servers",
            note="Destinations that many internal clients use on a service port and that never call back on it.",
        )
        payload = {
            "scope": scope,
            "internal_flows_examined": sum(e["flows"] for e in edges),
        }
        section = Section(
            key=self.key,
            title=self.title,
            description="Internal hosts that talk to each other as peers, separated from clients using servers.",
            tables=[group_table, server_table],
            params=describe_params(params),
            payload=payload,
        )
        return UnitResult(section, alerts)
