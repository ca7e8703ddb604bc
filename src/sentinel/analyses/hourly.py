"""-td: flows per hour of the day (the original's "traffic distribution"), and per day when there are several."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from sentinel.config import describe_params, param
from sentinel.context import Context, summed
from sentinel.enrich import netclass
from sentinel.exact import pylist
from sentinel.report.model import Column, Section, Table
from sentinel.report.section_charts import host_hours_heatmap, hourly_bars
from sentinel.schema import hour_sql
from sentinel.units import Flag, UnitResult

# Hours since 1970-01-01 00:00 UTC with floor division (integer `//` truncates towards zero, so negative
# times, which pandas.to_datetime puts in the previous day, take one hour off): the original's UTC hour of
# timestamp/100 seconds is this modulo 24, folded in Python over the few groups. Integer keys keep this the
# cheapest pass of a run.
UTC_HOURS = hour_sql("ts")  # the same hours as the hours summary of imported datasets
# Local hours since the epoch of the zone's wall clock (a Sentinel function: sentinel.engines.functions).
_ZONE_HOURS = "sentinel_local_hours(ts, ?)"
# to_timestamp covers years 1-9999; anything else has no local hour (and cannot come from a real sensor).
_ZONE_RANGE = "ts BETWEEN -62135596800000000 AND 253402300799000000"


@dataclass(frozen=True)
class Params:
    heatmap_hosts: int = param(
        20, "internal hosts (most flows first) in the per-host x hour heat map and its table; 0 leaves them out"
    )


def _hours_sql(zone: str) -> tuple[str, str, list[object]]:
    """The hour expression, the WHERE condition it needs and their parameters, for time zone `zone`."""
    if zone == "UTC":
        return UTC_HOURS, "TRUE", []
    return _ZONE_HOURS, _ZONE_RANGE, [zone]


def hour_groups(ctx: Context, per_host: bool) -> list[dict[str, Any]]:
    """Flows, up_bytes and down_bytes per hour since the epoch (local hours where a time zone is set; flows
    whose moment is beyond the calendar's years 1-9999 have no local hour and are left out: see `unplaced`),
    and with `per_host` per internal source too (`src_ip`; NULL on the rows of all other sources): one pass
    gives both the hours' totals and the busiest hosts' hours."""
    hours, where, args = _hours_sql(ctx.config.timezone)
    k = ctx.keys
    source = f"CASE WHEN {ctx.internal_source()} THEN {k.src} END" if per_host else "CAST(NULL AS VARCHAR)"
    summary = ctx.summary("hours") if ctx.config.timezone == "UTC" else None  # it sums UTC hours
    if summary is not None:
        hours, where, args = "hour", "TRUE", []
    figures = summed(("flows", "up_bytes", "down_bytes"), summary)
    sql = (
        f"SELECT {source} AS {'src' if per_host else 'src_ip'}, {hours} AS h, {figures} "
        f"FROM {summary or 'flows'} WHERE {where} GROUP BY 1, 2"
    )
    if per_host:  # the hosts' texts (looked up after aggregation where the flows are keyed by ids)
        sql = ctx.with_texts(sql, {"src": "src_ip"}, ["h", "flows", "up_bytes", "down_bytes"])
    table = ctx.engine.query(sql, args)
    return pylist(table)


def hour_totals(groups: list[dict[str, Any]]) -> dict[int, tuple[int, int, int]]:
    """Flows, up_bytes and down_bytes per hour since the epoch, from `hour_groups`."""
    totals: dict[int, tuple[int, int, int]] = {}
    for r in groups:
        flows, up, down = totals.get(r["h"], (0, 0, 0))
        totals[r["h"]] = (flows + r["flows"], up + (r["up_bytes"] or 0), down + (r["down_bytes"] or 0))
    return totals


def by_hour_of_day(
    counts: dict[int, int] | dict[int, tuple[int, int, int]], with_bytes: bool = False
) -> list[dict[str, int]]:
    """Every hour of the day with its flows (and bytes each way, where `counts` has them or `with_bytes`)."""
    totals = [[0, 0, 0] for _ in range(24)]
    for h, value in counts.items():
        row = totals[h % 24]  # Python's % is a floor modulo: hour -1 is 23
        if isinstance(value, tuple):
            with_bytes = True
            for i, v in enumerate(value):
                row[i] += v
        else:
            row[0] += value
    if not with_bytes:
        return [{"hour": h, "flows": totals[h][0]} for h in range(24)]
    return [{"hour": h, "flows": totals[h][0], "up_bytes": totals[h][1], "down_bytes": totals[h][2]} for h in range(24)]


def host_hours(groups: list[dict[str, Any]], hosts: int) -> list[dict[str, Any]]:
    """The `hosts` internal sources with most flows, each with its flows per hour of the day (`hours`, 24
    counts) and in all, from `hour_groups(per_host=True)`."""
    if hosts <= 0:
        return []
    totals: dict[str, int] = {}
    for r in groups:
        if r["src_ip"] is not None:
            totals[r["src_ip"]] = totals.get(r["src_ip"], 0) + r["flows"]
    top = dict(sorted(totals.items(), key=lambda t: (-t[1], t[0].encode()))[: int(hosts)])  # SQL's text order
    table = [{**r, "total": top[r["src_ip"]]} for r in groups if r["src_ip"] in top]
    rows: dict[str, dict[str, Any]] = {}
    for r in table:
        row = rows.setdefault(r["src_ip"], {"host": r["src_ip"], "flows": r["total"], "hours": [0] * 24})
        row["hours"][r["h"] % 24] += r["flows"]
    for row in rows.values():
        counts = row["hours"]
        row["busiest_hour"] = max(range(24), key=lambda h: (counts[h], -h))
        row["active_hours"] = sum(1 for n in counts if n)
    return sorted(rows.values(), key=lambda r: (-r["flows"], netclass.ip_sort_key(r["host"])))


#: Days from the first flow to the last beyond which only the days with flows are listed: a stray time
#: centuries away (a damaged counter) must not make a table of millions of empty days.
MAX_LISTED_SPAN = 3_660


def by_day(counts: dict[int, int], relative: bool) -> list[dict[str, Any]]:
    """Flows per day, with every day between the first and last listed (0 where none) when they are at most
    MAX_LISTED_SPAN days apart; else the days with flows."""
    days: dict[int, int] = {}
    for h, n in counts.items():
        days[h // 24] = days.get(h // 24, 0) + n
    if not days:
        return []
    span = range(min(days), max(days) + 1) if max(days) - min(days) < MAX_LISTED_SPAN else sorted(days)
    return [{"day": _day_label(d, relative), "flows": days.get(d, 0)} for d in span]


def _day_label(day: int, relative: bool) -> str:
    if relative:
        return f"day +{day}" if day >= 0 else f"day {day}"
    try:
        date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
    except OverflowError:  # beyond the calendar's years 1-9999: say what the number is
        return f"day {day:+d} from 1970-01-01"
    return date.isoformat()


# Inside the unit's body the class attribute Params shadows the dataclass; run's annotation uses this name.
_Params = Params


class Hourly:
    key: ClassVar[str] = "hourly"
    title: ClassVar[str] = "Connections per hour of the day"
    kind: ClassVar[str] = "analysis"
    charts: ClassVar[tuple[str, ...]] = ("hourly", "host_hours")
    Params: ClassVar[type] = Params
    needs: ClassVar[tuple[str, ...]] = ()
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(("-td", "--trafficDistribution"), "flows per hour of day, table and PNG chart (UTC unless --tz)"),
    )

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        groups = hour_groups(ctx, per_host=params.heatmap_hosts > 0)
        totals = hour_totals(groups)
        counts = {h: t[0] for h, t in totals.items()}
        rows = by_hour_of_day(totals, with_bytes=True)
        days = by_day(counts, ctx.source.relative_time)
        unplaced = ctx.quality.flows - sum(counts.values())
        zone = ctx.config.timezone
        note = f"Hour in {zone} of each flow's start; every hour is listed, empty ones with 0."
        if unplaced:
            note += f" {unplaced:,} flows are in no hour: their time is outside the years 1-9999."
        if len(days) > 1:
            note += f" The data span {len(days)} days: flows per day below."
        tables = [
            Table(
                key="hourly",
                title=f"{self.title} ({zone})",
                columns=[
                    Column("hour", "hour"),
                    Column("flows", "flows", "int"),
                    Column("up_bytes", "up_bytes", "bytes"),
                    Column("down_bytes", "down_bytes", "bytes"),
                ],
                rows=rows,
                note=note,
                json_key="rows",
            )
        ]
        if len(days) > 1:
            tables.append(
                Table(
                    key="daily",
                    title=f"Connections per day ({zone})",
                    columns=[Column("day", "day"), Column("flows", "flows", "int")],
                    rows=days,
                    json_key="days",
                    note="Every day from the first flow to the last is listed, empty ones with 0."
                    if len(days) == max(counts) // 24 - min(counts) // 24 + 1
                    else f"The flows span {MAX_LISTED_SPAN:,} days or more: only the days with flows are listed.",
                )
            )
        charts = [hourly_bars(rows, zone)]
        busiest = host_hours(groups, params.heatmap_hosts)
        if busiest:
            tables.append(
                Table(
                    key="host_hours",
                    title=f"Busiest internal hosts by hour ({zone})",
                    columns=[
                        Column("host", "host", "ip"),
                        Column("flows", "flows", "int"),
                        Column("busiest_hour", "busiest hour"),
                        Column("active_hours", "hours with flows", "int"),
                    ],
                    rows=busiest,  # with each host's flows per hour (`hours`): the heat map's, in the JSON
                    json_key="host_hours",
                    note=f"The {len(busiest)} internal hosts that opened most flows; their flows in each hour of "
                    "the day are in the heat map (and the JSON report's host_hours).",
                )
            )
            charts.append(host_hours_heatmap(busiest, zone))
        payload: dict[str, Any] = {"timezone": zone}
        if unplaced:
            payload["unplaced_flows"] = unplaced
        section = Section(
            key=self.key,
            title=self.title,
            description="When the network is busy: flows started in each hour of the day.",
            tables=tables,
            charts=charts,
            params={"timezone": zone, **describe_params(params)},
            payload=payload,
        )
        return UnitResult(section)
