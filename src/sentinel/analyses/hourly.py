"""-td: flows per hour of the day (the original's "traffic distribution"), and per day when there are several."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from sentinel.config import describe_params
from sentinel.context import Context
from sentinel.report.model import Chart, Column, Section, Table
from sentinel.schema import US_PER_HOUR
from sentinel.units import Flag, UnitResult

# Hours since 1970-01-01 00:00 UTC with floor division (integer `//` truncates towards zero, so negative
# times, which pandas.to_datetime puts in the previous day, take one hour off): the original's UTC hour of
# timestamp/100 seconds is this modulo 24, folded in Python over the few groups. Integer keys keep this the
# cheapest pass of a run.
_UTC_HOURS = f"ts // {US_PER_HOUR} - CAST(ts < 0 AND ts % {US_PER_HOUR} <> 0 AS INTEGER)"
# Local hours since the epoch of the zone's wall clock (a Sentinel function: sentinel.engines.functions).
_ZONE_HOURS = "sentinel_local_hours(ts, ?)"
# to_timestamp covers years 1-9999; anything else has no local hour (and cannot come from a real sensor).
_ZONE_RANGE = "ts BETWEEN -62135596800000000 AND 253402300799000000"


@dataclass(frozen=True)
class Params:
    pass


def hour_counts(ctx: Context) -> dict[int, int]:
    """Flows per hour since the epoch (local hours where a time zone is set; flows whose moment is beyond the
    calendar's years 1-9999 have no local hour and are left out: see `unplaced`)."""
    zone = ctx.config.timezone
    if zone == "UTC":
        table = ctx.engine.query(f"SELECT {_UTC_HOURS} AS h, count(*) AS flows FROM flows GROUP BY 1")
    else:
        table = ctx.engine.query(
            f"SELECT {_ZONE_HOURS} AS h, count(*) AS flows FROM flows WHERE {_ZONE_RANGE} GROUP BY 1", [zone]
        )
    return dict(zip(table["h"].to_pylist(), table["flows"].to_pylist(), strict=True))


def by_hour_of_day(counts: dict[int, int]) -> list[dict[str, int]]:
    flows = [0] * 24
    for h, n in counts.items():
        flows[h % 24] += n  # Python's % is a floor modulo: hour -1 is 23
    return [{"hour": h, "flows": flows[h]} for h in range(24)]


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
    charts: ClassVar[tuple[str, ...]] = ("hourly",)
    Params: ClassVar[type] = Params
    needs: ClassVar[tuple[str, ...]] = ()
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(("-td", "--trafficDistribution"), "flows per hour of day, table and PNG chart (UTC unless --tz)"),
    )

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        counts = hour_counts(ctx)
        rows = by_hour_of_day(counts)
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
                columns=[Column("hour", "hour"), Column("flows", "flows", "int")],
                rows=rows,
                note=note,
            )
        ]
        if len(days) > 1:
            tables.append(
                Table(
                    key="daily",
                    title=f"Connections per day ({zone})",
                    columns=[Column("day", "day"), Column("flows", "flows", "int")],
                    rows=days,
                    note="Every day from the first flow to the last is listed, empty ones with 0."
                    if len(days) == max(counts) // 24 - min(counts) // 24 + 1
                    else f"The flows span {MAX_LISTED_SPAN:,} days or more: only the days with flows are listed.",
                )
            )
        chart = Chart(
            key="hourly",
            title=f"Connections per hour of the day ({zone})",
            labels=[f"{r['hour']:02d}" for r in rows],
            values=[r["flows"] for r in rows],
            xlabel=f"hour ({zone})",
            ylabel="flows",
        )
        payload: dict[str, Any] = {"timezone": zone, "rows": rows}
        if unplaced:
            payload["unplaced_flows"] = unplaced
        if len(days) > 1:
            payload["days"] = days
        section = Section(
            key=self.key,
            title=self.title,
            description="When the network is busy: flows started in each hour of the day.",
            tables=tables,
            charts=[chart],
            params={"timezone": zone, **describe_params(params)},
            payload=payload,
        )
        return UnitResult(section)
