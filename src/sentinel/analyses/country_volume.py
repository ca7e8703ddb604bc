"""-cv: flows and bytes per destination country (the original's "connection volume per country")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sentinel.config import describe_params, param
from sentinel.context import Context
from sentinel.exact import pylist
from sentinel.report.charts import top_with_other
from sentinel.report.model import Chart, Column, Section, Series, Table
from sentinel.units import Flag, UnitResult

# A destination without a country is labelled by why it has none: private is not "unknown".
NO_COUNTRY_LABELS = {
    "internal": "(internal)",
    "special": "(reserved)",
    "public": "(unknown)",
    None: "(invalid)",
}


@dataclass(frozen=True)
class Params:
    chart_top: int = param(
        20, "countries shown in the bar chart, the rest as one bar (the table lists all, and destinations without one)"
    )


def query(ctx: Context) -> list[dict]:
    """Per-destination totals (one shared scan) joined to the IP dimension, then summed per country."""
    table = ctx.engine.query(
        """
        SELECT d.country,
               CASE WHEN d.country IS NULL THEN d.class END AS scope,
               sum(t.flows)::BIGINT AS flows, sum(t.up_bytes)::HUGEINT AS up_bytes,
               sum(t.down_bytes)::HUGEINT AS down_bytes
        FROM dst_totals t JOIN ip_dim d ON t.dst_ip = d.ip
        GROUP BY 1, 2
        ORDER BY flows DESC, country NULLS LAST, scope NULLS LAST
        """
    )
    rows = pylist(table)
    total = sum(r["flows"] for r in rows) or 1
    for r in rows:
        r["share"] = r["flows"] / total
        r["label"] = r["country"] or NO_COUNTRY_LABELS.get(r["scope"], "(unknown)")
        if r["country"] is not None:
            r.pop("scope")
    return rows


# Inside the unit's body the class attribute Params shadows the dataclass; run's annotation uses this name.
_Params = Params


class CountryVolume:
    key: ClassVar[str] = "country_volume"
    title: ClassVar[str] = "Connections per destination country"
    kind: ClassVar[str] = "analysis"
    charts: ClassVar[tuple[str, ...]] = ("country_volume",)
    Params: ClassVar[type] = Params
    needs: ClassVar[tuple[str, ...]] = ()
    flags: ClassVar[tuple[Flag, ...]] = (
        Flag(("-cv", "--countryVolume"), "flows and bytes per destination country, table and PNG chart"),
    )

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        rows = query(ctx)
        table = Table(
            key="country_volume",
            title=self.title,
            columns=[
                Column("label", "country"),
                Column("flows", "flows", "int"),
                Column("share", "share of flows", "percent"),
                Column("up_bytes", "up_bytes", "bytes"),
                Column("down_bytes", "down_bytes", "bytes"),
            ],
            rows=rows,
            note="Country of the destination address (GeoIP). Destinations without a country are split by why: "
            "(internal) your networks, (reserved) multicast/broadcast/non-routable, (unknown) public but "
            "absent from the database.",
        )
        # The chart shows where traffic leaves to: countries only (the table keeps internal and the rest), the
        # top ones and the other countries together in one bar.
        countries = [r for r in rows if r["country"]]
        labels = [r["label"] for r in countries]

        def top(key: str) -> list[float]:
            return top_with_other(labels, [r[key] for r in countries], params.chart_top, "other countries")[1]

        chart = Chart(
            key="country_volume",
            title="Connections per destination country",
            labels=top_with_other(labels, [0] * len(labels), params.chart_top, "other countries")[0],
            values=top("flows"),
            xlabel="destination country",
            ylabel="flows",
            series=[
                Series("up_bytes (sent to the country)", top("up_bytes"), "bytes"),
                Series("down_bytes (received from it)", top("down_bytes"), "bytes"),
            ],
        )
        section = Section(
            key=self.key,
            title=self.title,
            description="Which countries the network talks to, by number of flows, with the bytes each way.",
            tables=[table],
            charts=[chart],
            params=describe_params(params),
            payload={"rows": [_json_row(r) for r in rows]},
        )
        return UnitResult(section)


def _json_row(row: dict) -> dict:
    keys = ("country", "scope", "flows", "share", "up_bytes", "down_bytes")
    return {k: row[k] for k in keys if k in row}
