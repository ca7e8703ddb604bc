"""-td: flows per hour of the day (the original's "traffic distribution")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sentinel.config import describe_params
from sentinel.context import Context
from sentinel.report.model import Chart, Column, Section, Table
from sentinel.units import UnitResult

# Hour of the day the way the original computed it: UTC hour of timestamp/100 seconds. The engine groups
# by hours since 00:00 with floor division (integer `//` truncates towards zero, so negative timestamps,
# which pandas.to_datetime puts in the previous day, take one hour off); hour-of-day is that modulo 24,
# folded in Python over the few groups. Integer keys keep this the cheapest pass of a run.
_UTC_HOUR_INDEX = "timestamp // 360000 - CAST(timestamp < 0 AND timestamp % 360000 <> 0 AS INTEGER)"
# NULL (not an error) where the moment is beyond the calendar's years 1-9999: such flows are in no hour.
_ZONE_HOUR = "try(hour(timezone(?, to_timestamp((timestamp + ?) / 100.0))))"


@dataclass(frozen=True)
class Params:
    pass


def query(ctx: Context) -> tuple[list[dict], int]:
    """Flows per hour, and the flows placed in no hour (their moment is beyond the calendar's range)."""
    zone = ctx.config.timezone
    if zone == "UTC":
        expr, params = _UTC_HOUR_INDEX, []
    else:
        expr, params = _ZONE_HOUR, [zone, ctx.config.epoch_offset_cs]
    table = ctx.engine.query(f"SELECT {expr} AS h, count(*) AS flows FROM flows GROUP BY 1", params)
    flows = [0] * 24
    unplaced = 0
    for h, n in zip(table["h"].to_pylist(), table["flows"].to_pylist(), strict=True):
        if h is None:
            unplaced += n
        else:
            flows[h % 24] += n  # Python's % is a floor modulo: hour -1 is 23
    return [{"hour": h, "flows": flows[h]} for h in range(24)], unplaced


class Hourly:
    key: ClassVar[str] = "hourly"
    title: ClassVar[str] = "Connections per hour of the day"
    kind: ClassVar[str] = "analysis"
    charts: ClassVar[tuple[str, ...]] = ("hourly",)
    Params: ClassVar[type] = Params

    def run(self, ctx: Context, params: Params) -> UnitResult:
        rows, unplaced = query(ctx)
        zone = ctx.config.timezone
        note = f"Hour in {zone} of each flow's start; every hour is listed, empty ones with 0."
        if unplaced:
            note += f" {unplaced:,} flows are in no hour: their time is outside the years 1-9999."
        table = Table(
            key="hourly",
            title=f"{self.title} ({zone})",
            columns=[
                Column("hour", "hour"),
                Column("flows", "flows", "int"),
            ],
            rows=rows,
            note=note,
        )
        chart = Chart(
            key="hourly",
            title=f"Connections per hour of the day ({zone})",
            labels=[f"{r['hour']:02d}" for r in rows],
            values=[r["flows"] for r in rows],
            xlabel=f"hour ({zone})",
            ylabel="flows",
        )
        section = Section(
            key=self.key,
            title=self.title,
            description="When the network is busy: flows started in each hour of the day.",
            tables=[table],
            charts=[chart],
            params={"timezone": zone, **describe_params(params)},
            payload={"timezone": zone, "rows": rows, **({"unplaced_flows": unplaced} if unplaced else {})},
        )
        return UnitResult(section)
