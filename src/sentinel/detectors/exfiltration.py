"""-dx: internal hosts sending data out (possible exfiltration).

The original ranked hosts by download/upload ratio, which puts a heavy uploader at the bottom and so
never finds exfiltration. Here the direction is upload, towards external destinations only:

* Ranking (the table, as the original's percentile): hosts by *unexplained upload*, the bytes they sent
  out beyond what their own downloads explain at the median upload/download ratio of their peers, or,
  where larger, the bytes they sent out net to destinations that sent little back (a heavy downloader
  hides a transfer in its totals, not per destination). It keeps the ratio's insight (hosts differ in
  volume) while a tiny host with a big ratio cannot outrank one that sent gigabytes.
* Alert (evidence of a transfer out): among the hosts listed, one that sent an external destination far
  more than it received from it: net bytes out above `peer_factor` times what the median host uploads to
  all external destinations (and above `min_transfer_bytes`), and `min_transfer_ratio` times what came
  back. Browsing, streaming and updates download more than they upload per destination; a bulk or
  low-and-slow exfiltration channel does the opposite, whatever the host's overall volume.
* Spread transfers: the same test over the destinations of one /24 (/48 for IPv6) or one AS organisation
  (where an AS database is given) together, when at least `min_spread_destinations` of them received
  upload-dominant flows: a transfer split over many addresses of one provider so that none crosses the
  threshold alone.
* Quiet hours: the share of the transferred bytes sent in hours when the host was otherwise quiet (its
  other flows under `quiet_fraction` of its busy hours', the upper quartile of its hours) raises the score:
  1 - (1 - score)(1 - quiet_weight x share), and is given in the evidence with the host's upload per hour
  (the chart of the alert shows the bytes sent per hour). Destinations are named with country and AS
  organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinel.config import describe_params, param
from sentinel.context import Context
from sentinel.detectors import _stats
from sentinel.detectors.base import describe_host, human_bytes, severity_for
from sentinel.enrich import netclass
from sentinel.exact import pylist
from sentinel.report.evidence import ExfiltrationEvidence, UploadTimeline
from sentinel.report.model import Alert, Column, Section, Table
from sentinel.schema import US_PER_HOUR, hour_sql
from sentinel.units import Detector, Flag, UnitResult
from sentinel.values import percentile

MIN_PEERS = 5
_PAIR_SCHEMA = pa.schema([("src_ip", pa.string()), ("dst_ip", pa.string())])
#: Most alerting hosts whose flows are also filtered by their addresses as literals (more: the join only).
LITERAL_HOSTS = 64


@dataclass(frozen=True)
class Params:
    percentile: float = param(90.0, "-dx P: list the internal hosts above the P-th percentile of unexplained upload")
    peer_factor: float = param(
        2.0,
        "alert when a listed host sent one external destination this many times the median host's "
        "whole external upload (net of what came back)",
    )
    min_transfer_bytes: int = param(1_000_000, "the least net upload to one destination that alerts (bytes)")
    min_transfer_ratio: float = param(5.0, "a transfer's upload is at least this many times what came back")
    min_peer_flows: int = param(10, "hosts with fewer external flows are ranked but do not set the peer ratio")
    top_destinations: int = param(3, "destinations quoted per alert, by bytes sent")
    min_spread_destinations: int = param(
        3, "addresses of one /24 (/48) or AS organisation that together make a spread transfer out"
    )
    quiet_fraction: float = param(
        0.1,
        "an hour is quiet for a host when its other flows are under this fraction of its busy hours' (upper quartile)",
    )
    quiet_weight: float = param(0.5, "how far a transfer sent in quiet hours raises the score (0: not at all)")


def external_traffic(ctx: Context) -> pa.Table:
    """Internal hosts' traffic to external destinations (from the context's one pass over internal sources).

    Rows with `dst_ip` NULL hold a host's flows that received at least what they sent; the others are its
    upload-dominant flows per destination, the only per-destination figures the transfer search needs.
    """
    sources = ctx.internal_sources
    return sources.filter(pc.equal(sources["scope"], "external")).select(
        ["src_ip", "dst_ip", "flows", "up_bytes", "down_bytes", "first_ts", "last_ts"]
    )


def host_totals(traffic: pa.Table) -> list[dict[str, Any]]:
    totals = traffic.group_by("src_ip").aggregate([("flows", "sum"), ("up_bytes", "sum"), ("down_bytes", "sum")])
    rows = pylist(totals.rename_columns(["src_ip", "flows", "up_bytes", "down_bytes"]))
    return sorted(rows, key=lambda r: netclass.ip_sort_key(r["src_ip"]))


def candidate_pairs(traffic: pa.Table, threshold: int) -> pa.Table:
    """(host, destination) pairs whose upload-dominant flows alone carry at least `threshold` bytes."""
    at_least = pa.scalar(threshold, traffic["up_bytes"].type)  # exact: a sum may be beyond int64
    return traffic.filter(pc.and_(pc.is_valid(traffic["dst_ip"]), pc.greater_equal(traffic["up_bytes"], at_least)))


@dataclass(frozen=True)
class Peers:
    """What the median internal host does towards external destinations: the baseline of the scores."""

    median_ratio: float  # up/down
    median_up: float  # bytes


def score_hosts(rows: list[dict[str, Any]], params: Params) -> tuple[list[dict[str, Any]], Peers]:
    """Add ratio, excess upload and robust z to each host row (ordered by excess); and the peer baseline."""
    if not rows:
        return [], Peers(median_ratio=0.0, median_up=0.0)
    up = np.array([r["up_bytes"] for r in rows], dtype=float)
    down = np.array([r["down_bytes"] for r in rows], dtype=float)
    log_ratio = np.log10((up + 1) / (down + 1))
    peers = np.array([r["flows"] >= params.min_peer_flows for r in rows])
    if peers.sum() < MIN_PEERS:  # too few busy hosts to stand for "the peers": everyone counts
        peers[:] = True
    centre = float(np.median(log_ratio[peers]))
    z = _stats.robust_z(log_ratio, reference=log_ratio[peers])
    expected_up = down * 10**centre
    for i, r in enumerate(rows):
        r["ratio"] = r["up_bytes"] / r["down_bytes"] if r["down_bytes"] else None
        r["excess_bytes"] = round(float(up[i] - expected_up[i]))
        r["z"] = float(z[i])
    ranked = sorted(rows, key=lambda r: (-r["excess_bytes"], netclass.ip_sort_key(r["src_ip"])))
    return ranked, Peers(median_ratio=10**centre, median_up=float(np.median(up[peers])))


def transfer_threshold(peers: Peers, params: Params) -> int:
    """Net bytes to one destination that make an alert: relative to what peers upload, with a floor."""
    return max(params.min_transfer_bytes, int(params.peer_factor * peers.median_up))


def is_transfer(pair: dict[str, Any], threshold: int, params: Params) -> bool:
    """A destination that received far more than it sent back: the shape of data leaving."""
    net = pair["up_bytes"] - pair["down_bytes"]
    return net >= threshold and pair["up_bytes"] >= params.min_transfer_ratio * pair["down_bytes"]


def score(net_bytes: int, threshold: int) -> float:
    """net/(net+threshold): 0.5 at the alert threshold (medium), 0.75 at three times it (high), 0.9 at ten
    times (critical); at least 0.75 from 1 GB and 0.9 from 10 GB out, whatever the peers upload."""
    value = _stats.saturating(net_bytes / threshold, 1.0) if threshold > 0 else 1.0
    if net_bytes >= 10_000_000_000:
        value = max(value, 0.9)
    elif net_bytes >= 1_000_000_000:
        value = max(value, 0.75)
    return round(value, 4)


def transfers(ctx: Context, candidates: pa.Table, threshold: int, params: Params) -> dict[str, list[dict[str, Any]]]:
    """Per internal host, the external destinations it sent data out to (most first): each candidate pair's
    totals over all its flows, kept where it received far more than it sent back.

    A candidate whose destination saw no other flow than these (from the shared per-destination totals:
    the usual shape of a dedicated exfiltration server) already has its exact totals; only the others
    need a pass over the flows.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(pair_totals(ctx, candidates), key=_transfer_order):
        if is_transfer(r, threshold, params):
            out.setdefault(r["src_ip"], []).append(r)
    return out


def pair_totals(ctx: Context, candidates: pa.Table) -> list[dict[str, Any]]:
    """Totals over all flows of candidate (src_ip, dst_ip) pairs (flows, bytes each way, first and last)."""
    if candidates.num_rows == 0:
        return []
    ctx.engine.register("exfil_candidates", candidates)
    checked = pylist(
        ctx.engine.query(
            """
            SELECT c.*, c.flows = t.flows AS complete
            FROM exfil_candidates c JOIN dst_totals t ON c.dst_ip = t.dst_ip
            """
        )
    )
    rows: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for r in checked:
        (rows if r.pop("complete") else pending).append(r)
    if pending:
        pairs = pa.table({k: [r[k] for r in pending] for k in ("src_ip", "dst_ip")}, schema=_PAIR_SCHEMA)
        ctx.register_keyed("exfil_pairs", pairs, {"src_ip": "src", "dst_ip": "dst"})
        rows += pylist(
            ctx.engine.query(
                f"""
            SELECT p.src_ip, p.dst_ip, count(*) AS flows, sum(f.up_bytes)::HUGEINT AS up_bytes,
                   sum(f.down_bytes)::HUGEINT AS down_bytes, min(f.ts) AS first_ts, max(f.ts) AS last_ts
            FROM flows f JOIN exfil_pairs p ON f.{ctx.keys.src} = p.src AND f.{ctx.keys.dst} = p.dst
            GROUP BY p.src_ip, p.dst_ip
            """
            )
        )
    return rows


def group_keys(ctx: Context, traffic: pa.Table) -> pa.Table:
    """Upload-dominant (host, destination) rows with the destination's /24 (/48 for IPv6) and AS organisation."""
    rows = traffic.filter(pc.is_valid(traffic["dst_ip"])).select(["src_ip", "dst_ip", "flows", "up_bytes"])
    dst = rows["dst_ip"]
    v6 = pc.match_substring(dst, ":")
    v6_nets = {
        ip: netclass.subnet_of(ip, prefix_v6=48) for ip in pc.unique(pc.filter(dst, v6)).to_pylist() if ip is not None
    }
    net = pc.replace_substring_regex(dst, r"\.[0-9]+$", ".0/24")
    if v6_nets:  # the rare IPv6 destinations: their /48, from Python
        net = pa.array([v6_nets.get(d, n) for d, n in zip(dst.to_pylist(), net.to_pylist(), strict=True)], pa.string())
    orgs = ctx.ip_dim.table.select(["ip", "as_org"])
    keyed = rows.append_column("net", net).join(orgs, keys="dst_ip", right_keys="ip", join_type="left outer")
    return keyed.sort_by([("src_ip", "ascending"), ("dst_ip", "ascending")])


def _pair_key(table: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(table["src_ip"], table["dst_ip"], "|")


def spread_groups(keyed: pa.Table, threshold: int, taken: set[tuple[str, str]], params: Params) -> list[dict[str, Any]]:
    """(host, /24 or AS) groups whose upload-dominant flows to at least `min_spread_destinations` addresses
    (not already a transfer on their own) carry at least `threshold` bytes: candidates for a spread transfer.
    Grouped by Arrow; only the groups that pass come to Python."""
    if taken:
        keyed = keyed.filter(pc.invert(pc.is_in(_pair_key(keyed), pa.array([f"{s}|{d}" for s, d in taken]))))
    at_least = pa.scalar(threshold, keyed["up_bytes"].type)
    groups: list[dict[str, Any]] = []
    for column, label in (("net", "{}"), ("as_org", "AS organisation {}")):
        valid = keyed.filter(pc.is_valid(keyed[column]))
        sums = valid.group_by(["src_ip", column]).aggregate([("up_bytes", "sum"), ("dst_ip", "count")])
        sums = sums.filter(
            pc.and_(
                pc.greater_equal(sums["dst_ip_count"], params.min_spread_destinations),
                pc.greater_equal(sums["up_bytes_sum"], at_least),
            )
        )
        if sums.num_rows == 0:
            continue
        members = valid.join(sums.select(["src_ip", column]), keys=["src_ip", column], join_type="inner")
        found: dict[tuple[str, str], list[str]] = {}
        for r in pylist(members.select(["src_ip", column, "dst_ip"])):
            found.setdefault((r["src_ip"], r[column]), []).append(r["dst_ip"])
        groups += [
            {"src_ip": src, "group": label.format(name), "dsts": sorted(dsts, key=netclass.ip_sort_key)}
            for (src, name), dsts in found.items()
        ]
    return sorted(groups, key=lambda g: (netclass.ip_sort_key(g["src_ip"]), g["group"]))


def spread_transfers(
    ctx: Context, traffic: pa.Table, threshold: int, sent: dict[str, list[dict[str, Any]]], params: Params
) -> dict[str, list[dict[str, Any]]]:
    """Transfers out spread over many addresses of one /24 or AS organisation: the group's pairs' totals
    together pass the one-destination test (net at least the threshold, `min_transfer_ratio` x what came
    back). Where groups overlap (a /24 inside an AS), the larger wins."""
    taken = {(src, d["dst_ip"]) for src, moved in sent.items() for d in moved}
    groups = spread_groups(group_keys(ctx, traffic), threshold, taken, params)
    if not groups:
        return {}
    wanted = pa.array(sorted({f"{g['src_ip']}|{d}" for g in groups for d in g["dsts"]}))
    rows = traffic.filter(pc.is_valid(traffic["dst_ip"]))
    candidates = rows.filter(pc.is_in(_pair_key(rows), wanted))
    totals = {(r["src_ip"], r["dst_ip"]): r for r in pair_totals(ctx, candidates)}
    found = []
    for g in groups:
        members = sorted(
            (totals[(g["src_ip"], d)] for d in g["dsts"]),
            key=lambda r: (r["down_bytes"] - r["up_bytes"], netclass.ip_sort_key(r["dst_ip"])),
        )
        entry = {
            "src_ip": g["src_ip"],
            "dst_ip": members[0]["dst_ip"],
            "group": g["group"],
            "destinations": [m["dst_ip"] for m in members],
            "flows": sum(m["flows"] for m in members),
            "up_bytes": sum(m["up_bytes"] for m in members),
            "down_bytes": sum(m["down_bytes"] for m in members),
            "first_ts": min(m["first_ts"] for m in members),
            "last_ts": max(m["last_ts"] for m in members),
            "lead_net": members[0]["up_bytes"] - members[0]["down_bytes"],  # the destination quoted first
        }
        if is_transfer(entry, threshold, params):
            found.append(entry)
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in sorted(found, key=_transfer_order):
        kept = out.setdefault(entry["src_ip"], [])
        if not any(set(entry["destinations"]) & set(k["destinations"]) for k in kept):
            kept.append(entry)
    return out


def fold_into_groups(
    ctx: Context, sent: dict[str, list[dict[str, Any]]], spread: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """A host's one-destination transfers to an address of one of its spread groups (same /24 or AS
    organisation) join that group, so the alert quotes one transfer to N addresses of it. Returns the
    one-destination transfers left."""
    out: dict[str, list[dict[str, Any]]] = {}
    for host, singles in sent.items():
        groups = spread.get(host, [])
        info = ctx.ip_dim.lookup([d["dst_ip"] for d in singles]) if groups else {}
        kept = []
        for d in singles:
            row = info.get(d["dst_ip"])
            org = f"AS organisation {row['as_org']}" if row and row["as_org"] else None
            net = netclass.subnet_of(d["dst_ip"], prefix_v6=48)
            group = next((g for g in groups if g["group"] in (net, org)), None)
            if group is None:
                kept.append(d)
                continue
            group["destinations"].append(d["dst_ip"])
            for k in ("flows", "up_bytes", "down_bytes"):
                group[k] += d[k]
            group["first_ts"] = min(group["first_ts"], d["first_ts"])
            group["last_ts"] = max(group["last_ts"], d["last_ts"])
            if d["up_bytes"] - d["down_bytes"] > group["lead_net"]:
                group["dst_ip"], group["lead_net"] = d["dst_ip"], d["up_bytes"] - d["down_bytes"]
        out[host] = kept
    return out


def merge_transfers(*found: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for each in found:
        for src, moved in each.items():
            out.setdefault(src, []).extend(moved)
    return {src: sorted(moved, key=_transfer_order) for src, moved in out.items() if moved}


def quiet_share(series: list[dict[str, Any]], quiet_fraction: float) -> float | None:
    """Share of the transferred bytes sent in hours when the host was otherwise quiet: its other flows under
    `quiet_fraction` of its busy hours' (the upper quartile of its hours with other flows). None when it
    had no other activity."""
    active = [r["other_flows"] for r in series if r["other_flows"] > 0]
    sent = sum(r["out_bytes"] for r in series)
    if not active or sent <= 0:
        return None
    floor = quiet_fraction * float(np.percentile(active, 75))
    quiet = sum(r["out_bytes"] for r in series if r["other_flows"] <= floor)
    return quiet / sent


def with_quiet(value: float, share: float | None, weight: float) -> float:
    """The score raised by the share of the transfer sent in quiet hours: 1 - (1 - value)(1 - weight x share)."""
    if not share:
        return value
    share = min(max(share, 0.0), 1.0)
    weight = min(max(weight, 0.0), 1.0)
    return round(1.0 - (1.0 - value) * (1.0 - weight * share), 4)


def hourly_activity(
    ctx: Context, sent: dict[str, list[dict[str, Any]]], top_destinations: int
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Per alerting host and hour: its flows to anything but its transfer destinations, and the bytes it sent
    to those (candidates only: the hosts that alert); and, for the charts of `upload_timelines`, per host and
    hour the bytes each way to the destinations of its first `top_destinations` transfers (those its alert
    quotes; only the hours with such flows). One pass over the alerting hosts' flows gives both."""
    if not sent:
        return {}, []
    quoted = {(src, dst) for src, moved in sent.items() for d in moved[:top_destinations] for dst in _addresses(d)}
    pairs = sorted({(src, dst) for src, moved in sent.items() for d in moved for dst in _addresses(d)})
    table = pa.table(
        {
            "src_ip": [p[0] for p in pairs],
            "dst_ip": [p[1] for p in pairs],
            "quoted": pa.array([p in quoted for p in pairs], pa.bool_()),
        },
        schema=_PAIR_SCHEMA.append(pa.field("quoted", pa.bool_())),
    )
    ctx.register_keyed("exfil_out_pairs", table, {"src_ip": "src", "dst_ip": "dst"})
    hosts = pa.table({"ip": pa.array(sorted(sent), pa.string())})
    ctx.register_keyed("exfil_hosts", hosts, {"ip": "src"})
    # The hosts as literals too, where they are few: Spark then filters the flows as it reads them instead of
    # probing the joined table with every flow (this pass 1.26-1.52 s -> 1.05-1.08 s for -dx's three hosts at
    # 10M flows, bench/bench_passes.py --engine spark); DuckDB already pushes the join's keys into its scan.
    prune = ""
    if len(sent) <= LITERAL_HOSTS:
        prune = f"WHERE f.{ctx.keys.src} IN ({', '.join(ctx.key_literals(sorted(sent)))})"
    rows = pylist(
        ctx.engine.query(
            f"""
            SELECT h.ip AS src_ip, {hour_sql("f.ts")} AS hour,
                   count(*) FILTER (WHERE p.dst_ip IS NULL) AS other_flows,
                   coalesce(sum(f.up_bytes) FILTER (WHERE p.dst_ip IS NOT NULL), 0) AS out_bytes,
                   count(*) FILTER (WHERE p.quoted) AS quoted_flows,
                   (sum(f.up_bytes) FILTER (WHERE p.quoted))::HUGEINT AS quoted_up_bytes,
                   (sum(f.down_bytes) FILTER (WHERE p.quoted))::HUGEINT AS quoted_down_bytes
            FROM flows f JOIN exfil_hosts h ON f.{ctx.keys.src} = h.src
            LEFT JOIN exfil_out_pairs p ON f.{ctx.keys.src} = p.src AND f.{ctx.keys.dst} = p.dst
            {prune}
            GROUP BY 1, 2
            """
        )
    )
    out: dict[str, list[dict[str, Any]]] = {}
    timelines: list[dict[str, Any]] = []
    for r in sorted(rows, key=lambda r: (r["src_ip"], r["hour"])):
        out.setdefault(r["src_ip"], []).append({k: r[k] for k in ("src_ip", "hour", "other_flows", "out_bytes")})
        if r["quoted_flows"]:
            timelines.append(
                {
                    "src_ip": r["src_ip"],
                    "h": r["hour"],
                    "up_bytes": r["quoted_up_bytes"],
                    "down_bytes": r["quoted_down_bytes"],
                }
            )
    return out, timelines


def _transfer_order(r: dict[str, Any]) -> tuple[Any, ...]:
    """By host, then the largest net upload first, then by destination: the same order in every run."""
    return (netclass.ip_sort_key(r["src_ip"]), r["down_bytes"] - r["up_bytes"], netclass.ip_sort_key(r["dst_ip"]))


def make_alert(
    ctx: Context,
    row: dict[str, Any],
    sent: list[dict[str, Any]],
    peers: Peers,
    params: Params,
    series: list[dict[str, Any]] | None = None,
    timeline: UploadTimeline | None = None,
) -> Alert:
    threshold = transfer_threshold(peers, params)
    main = sent[0]
    net = sum(d["up_bytes"] - d["down_bytes"] for d in sent)
    where = describe_host(ctx, main["dst_ip"])
    if "group" in main:
        where = f"{len(main['destinations'])} addresses of {main['group']} (the most to {where})"
    more = f" and {len(sent) - 1} more destination(s)" if len(sent) > 1 else ""
    quiet = quiet_share(series or [], params.quiet_fraction)
    at_quiet = f"; {quiet:.0%} of it in hours the host was otherwise quiet" if quiet else ""
    summary = (
        f"{row['src_ip']} sent {human_bytes(main['up_bytes'])} to {where} in {main['flows']} flows and "
        f"received {human_bytes(main['down_bytes'])} back{more}{at_quiet}; its upload to external addresses is "
        f"{human_bytes(row['up_bytes'])} against {human_bytes(row['down_bytes'])} downloaded."
    )
    info = ctx.ip_dim.lookup([d["dst_ip"] for d in sent[: params.top_destinations]])
    evidence = ExfiltrationEvidence(
        transfer_out_bytes=net,
        alert_threshold_bytes=threshold,
        transfers=[_transfer_evidence(ctx, d, info.get(d["dst_ip"]) or {}) for d in sent[: params.top_destinations]],
        host_up_bytes=row["up_bytes"],
        host_down_bytes=row["down_bytes"],
        host_ratio_up_down=row["ratio"],
        peer_median_ratio=peers.median_ratio,
        excess_up_bytes=row["excess_bytes"],
        ratio_robust_z=round(row["z"], 3),
        external_flows=row["flows"],
        percentile=params.percentile,
        quiet_hours_share=None if quiet is None else round(quiet, 4),
        timeline=timeline,
    )
    value = with_quiet(score(net, threshold), quiet, params.quiet_weight)
    return Alert(
        type="exfiltration",
        severity=severity_for(value),
        score=value,
        hosts=[row["src_ip"]],
        summary=summary,
        src_ip=row["src_ip"],
        dst_ip=main["dst_ip"],
        first_seen=ctx.instant(min(d["first_ts"] for d in sent)),
        last_seen=ctx.instant(max(d["last_ts"] for d in sent)),
        evidence=evidence,
    )


def _transfer_evidence(ctx: Context, d: dict[str, Any], info: Any) -> dict[str, Any]:
    out = {k: d[k] for k in ("dst_ip", "flows", "up_bytes", "down_bytes")}
    out |= {"country": info.get("country"), "as_org": info.get("as_org")}
    if "group" in d:
        out |= {"spread_over": d["group"], "destinations": len(d["destinations"])}
    return out | {"first_seen": ctx.instant(d["first_ts"]), "last_seen": ctx.instant(d["last_ts"])}


def rank(scored: list[dict[str, Any]], sent: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Order hosts by unexplained upload: host-level excess, or net transfers out where larger."""
    for r in scored:
        moved = sent.get(r["src_ip"], [])
        r["transfer_bytes"] = sum(d["up_bytes"] - d["down_bytes"] for d in moved) if moved else None
        r["unexplained_bytes"] = max(r["excess_bytes"], r["transfer_bytes"] or 0)
        r["alert"] = bool(moved)
    return sorted(scored, key=lambda r: (-r["unexplained_bytes"], netclass.ip_sort_key(r["src_ip"])))


#: Hourly buckets of an upload timeline beyond which it shows days instead (a long capture stays legible).
MAX_TIMELINE_HOURS = 7 * 24
#: Days of a timeline beyond which only the days with traffic are shown (a stray time centuries away).
MAX_TIMELINE_DAYS = 366


def timeline_buckets(own: list[int], capture: list[int]) -> tuple[list[int], int]:
    """The buckets of a timeline (their first hours) and their width in hours: hourly over the capture's span
    when it is short, else over the alert's own hours; daily past a week; only the days with traffic past
    a year."""
    around = own + capture
    if max(around) - min(around) < MAX_TIMELINE_HOURS:
        return list(range(min(around), max(around) + 1)), 1
    if max(own) - min(own) < MAX_TIMELINE_HOURS:
        return list(range(min(own), max(own) + 1)), 1
    days = sorted({h // 24 for h in own})
    if days[-1] - days[0] <= MAX_TIMELINE_DAYS:
        days = list(range(days[0], days[-1] + 1))
    return [d * 24 for d in days], 24


def _addresses(transfer: dict[str, Any]) -> list[str]:
    """The destinations of a transfer: one, or the addresses of a spread one."""
    return list(transfer.get("destinations", [transfer["dst_ip"]]))


def upload_timelines(
    ctx: Context, hosts: list[str], sent: dict[str, list[dict[str, Any]]], params: Params, rows: list[dict[str, Any]]
) -> dict[str, UploadTimeline]:
    """The upload timeline of each alerting host (the data of its alert's chart): bytes it sent to (and
    received from) the destinations its alert quotes, per hour (per day past a week) over the capture's span,
    from `rows` (of `hourly_activity`, which reads the flows once for these and the quiet hours)."""
    if not hosts:
        return {}
    quoted = {host: sent[host][: params.top_destinations] for host in hosts}
    q = ctx.quality
    capture = [int(t) // US_PER_HOUR for t in (q.first_ts, q.last_ts) if t is not None]
    out: dict[str, UploadTimeline] = {}
    for host in hosts:
        mine = [r for r in rows if r["src_ip"] == host]
        buckets, width = timeline_buckets([r["h"] for r in mine] or capture, capture)
        index = {b // width: i for i, b in enumerate(buckets)}
        up = [0] * len(buckets)
        down = [0] * len(buckets)
        for r in mine:
            up[index[r["h"] // width]] += r["up_bytes"]
            down[index[r["h"] // width]] += r["down_bytes"]
        out[host] = UploadTimeline(
            hours=buckets,
            width=width,
            up_bytes=up,
            down_bytes=down,
            destinations=[dst for d in quoted[host] for dst in _addresses(d)],
            relative=ctx.source.relative_time,
        )
    return out


# Inside the unit's body the class attribute Params shadows the dataclass; run's annotation uses this name.
_Params = Params


class Exfiltration(Detector):
    key: ClassVar[str] = "exfiltration"
    title: ClassVar[str] = "Possible data exfiltration"
    Params: ClassVar[type] = Params
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(
            ("-dx", "--dataExfiltration"),
            "possible exfiltration: internal hosts above the P-th percentile (0-100, e.g. 90) of unexplained "
            "upload to external destinations; those with a transfer out alert",
            param="percentile",
            metavar="P",
            parse=percentile("-dx"),
        ),
    )

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        traffic = external_traffic(ctx)
        scored, peers = score_hosts(host_totals(traffic), params)
        threshold = transfer_threshold(peers, params)
        sent = transfers(ctx, candidate_pairs(traffic, threshold), threshold, params)
        spread = spread_transfers(ctx, traffic, threshold, sent, params)
        sent = merge_transfers(fold_into_groups(ctx, sent, spread), spread)
        ranked = rank(scored, sent)
        listed = ranked[: _stats.top_share_count(len(ranked), params.percentile)]
        alerting = [r for r in listed if r["alert"]]
        series, timelines_rows = hourly_activity(
            ctx, {r["src_ip"]: sent[r["src_ip"]] for r in alerting}, params.top_destinations
        )
        timelines = upload_timelines(ctx, [r["src_ip"] for r in alerting], sent, params, timelines_rows)
        alerts = [
            make_alert(ctx, r, sent[r["src_ip"]], peers, params, series.get(r["src_ip"]), timelines.get(r["src_ip"]))
            for r in alerting
        ]
        table = Table(
            key="exfiltration",
            title=f"Internal hosts above the {params.percentile:g}th percentile of unexplained upload",
            columns=[
                Column("src_ip", "host", "ip"),
                Column("up_bytes", "up_bytes (to external)", "bytes"),
                Column("down_bytes", "down_bytes (from external)", "bytes"),
                Column("ratio", "up/down", "float"),
                Column("excess_bytes", "excess upload", "bytes"),
                Column("transfer_bytes", "transfers out (net)", "bytes"),
                Column("flows", "flows", "int"),
                Column("alert", "alert"),
            ],
            rows=listed,
            json_key="rows",
            json_fields=(
                "src_ip",
                "flows",
                "up_bytes",
                "down_bytes",
                "ratio",
                "excess_bytes",
                "transfer_bytes",
                "unexplained_bytes",
                "alert",
            ),
            note=(
                f"{len(ranked)} internal hosts sent traffic to external addresses; listed: the top "
                f"{100 - params.percentile:g}% by unexplained upload: excess upload (beyond down_bytes x the "
                f"peers' median up/down ratio, {peers.median_ratio:.3f}) or transfers out, whichever "
                "is larger."
                if ranked
                else "No internal host sent traffic to external addresses."
            )
            + f" Alert: a destination that received at least {human_bytes(threshold)} more than it sent back "
            f"({params.peer_factor:g}x the median host's external upload) and at least {params.min_transfer_ratio:g}x "
            "as much.",
        )
        section = Section(
            key=self.key,
            title=self.title,
            description="Internal hosts whose upload to external destinations is out of line with their peers, "
            "and the transfers out that make an alert.",
            tables=[table],
            params=describe_params(params),
            payload={
                "hosts_ranked": len(ranked),
                "alert_threshold_bytes": threshold,
            },
        )
        return UnitResult(section, alerts)
