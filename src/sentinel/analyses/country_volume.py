"""-cv: flows and bytes per destination country (the original's "connection volume per country")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sentinel.config import describe_params, param
from sentinel.context import Context
from sentinel.errors import ConfigError
from sentinel.exact import pylist
from sentinel.report.model import Column, Section, Table
from sentinel.report.section_charts import volume_bars
from sentinel.units import Flag, UnitResult

# A destination without a country (or AS) is labelled by why it has none: private is not "unknown". Your own
# networks are "(internal)" even where a database knows their country: -cv shows where traffic leaves to.
NO_COUNTRY_LABELS = {
    "internal": "(internal)",
    "private": "(private)",
    "loopback": "(loopback)",
    "link-local": "(link-local)",
    "multicast": "(multicast)",
    "broadcast": "(broadcast)",
    "reserved": "(reserved)",
    "special": "(reserved)",
    "public": "(unknown)",
    None: "(invalid)",
}
NO_AS_LABELS = NO_COUNTRY_LABELS | {"public": "(no AS)"}
BY = ("country", "asn")


@dataclass(frozen=True)
class Params:
    chart_top: int = param(
        20, "countries shown in the bar chart, the rest as one bar (the table lists all, and destinations without one)"
    )
    by: str = param("country", "--by: group destinations by country or by asn (autonomous system)", choices=BY)

    def __post_init__(self) -> None:
        if self.by not in BY:
            raise ConfigError(f"--by: {self.by!r} is neither country nor asn")


def _by(text: str) -> str:
    if text not in BY:
        raise ConfigError(f"--by: {text!r} is neither country nor asn")
    return text


def query(ctx: Context) -> list[dict]:
    """Per-destination totals (one shared scan) joined to the IP dimension, then summed per country."""
    table = ctx.engine.query(
        """
        SELECT CASE WHEN d.class = 'internal' THEN NULL ELSE d.country END AS country,
               CASE WHEN d.class = 'internal' OR d.country IS NULL THEN d.class END AS scope,
               CASE WHEN d.class = 'internal' OR d.country IS NULL THEN d.address_class END AS address_class,
               sum(t.flows)::BIGINT AS flows, sum(t.up_bytes)::HUGEINT AS up_bytes,
               sum(t.down_bytes)::HUGEINT AS down_bytes
        FROM dst_totals t JOIN ip_dim d ON t.dst_ip = d.ip
        GROUP BY 1, 2, 3
        ORDER BY flows DESC, country NULLS LAST, scope NULLS LAST, address_class NULLS LAST
        """
    )
    rows = pylist(table)
    total = sum(r["flows"] for r in rows) or 1
    for r in rows:
        r["share"] = r["flows"] / total
        r["label"] = r["country"] or NO_COUNTRY_LABELS.get(r["address_class"], "(unknown)")
        if r["country"] is not None:
            r.pop("scope")
            r.pop("address_class")
    return rows


def query_by_as(ctx: Context) -> list[dict]:
    """The same totals per destination autonomous system (AS number and organisation)."""
    table = ctx.engine.query(
        """
        SELECT CASE WHEN d.class = 'internal' THEN NULL ELSE d.asn END AS asn,
               CASE WHEN d.class = 'internal' THEN NULL ELSE d.as_org END AS as_org,
               CASE WHEN d.class = 'internal' OR d.as_org IS NULL THEN d.address_class END AS address_class,
               sum(t.flows)::BIGINT AS flows, sum(t.up_bytes)::HUGEINT AS up_bytes,
               sum(t.down_bytes)::HUGEINT AS down_bytes
        FROM dst_totals t JOIN ip_dim d ON t.dst_ip = d.ip
        GROUP BY 1, 2, 3
        ORDER BY flows DESC, asn NULLS LAST, as_org NULLS LAST, address_class NULLS LAST
        """
    )
    rows = pylist(table)
    total = sum(r["flows"] for r in rows) or 1
    for r in rows:
        r["share"] = r["flows"] / total
        r["label"] = r["as_org"] or NO_AS_LABELS.get(r["address_class"], "(no AS)")
        if r["as_org"] is not None:
            r.pop("address_class")
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
        Flag(
            ("--by",),
            "what -cv groups destinations by: country (default) or asn (autonomous system); implies -cv",
            param="by",
            metavar="country|asn",
            parse=_by,
        ),
    )

    def run(self, ctx: Context, params: _Params) -> UnitResult:
        rows = query(ctx)
        by_as = query_by_as(ctx) if params.by == "asn" else None
        country_table = Table(
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
            json_key="rows",
            json_fields=("country", "scope", "address_class", "flows", "share", "up_bytes", "down_bytes"),
            note="Country of the destination address (GeoIP). Destinations without a country are split by why: "
            "(internal) your networks (even where a database knows their country), (private), (loopback), "
            "(link-local), (multicast), (broadcast), (reserved) non-routable, (unknown) public but absent from "
            "the database.",
        )
        if by_as is None:
            tables = [country_table]
            # The chart shows where traffic leaves to: countries only (the table keeps internal and the rest),
            # the top ones and the other countries together in one bar.
            chart = volume_bars([r for r in rows if r["country"]], params.chart_top, "country", "other countries")
        else:
            tables = [
                Table(
                    key="as_volume",
                    title="Connections per destination autonomous system",
                    columns=[
                        Column("label", "AS organisation"),
                        Column("flows", "flows", "int"),
                        Column("share", "share of flows", "percent"),
                        Column("up_bytes", "up_bytes", "bytes"),
                        Column("down_bytes", "down_bytes", "bytes"),
                    ],
                    rows=by_as,
                    json_key="as_rows",
                    json_fields=("asn", "as_org", "address_class", "flows", "share", "up_bytes", "down_bytes"),
                    note="Autonomous system of the destination address (AS databases: see the inputs). "
                    "Destinations without one are split by why, as in the country table; (no AS) is public "
                    "address space no database places in an announced network.",
                ),
                country_table,
            ]
            chart = volume_bars([r for r in by_as if r["as_org"]], params.chart_top, "autonomous system", "other AS")
        section = Section(
            key=self.key,
            title=self.title if by_as is None else "Connections per destination autonomous system and country",
            description="Which countries the network talks to, by number of flows, with the bytes each way."
            if by_as is None
            else "Which autonomous systems (networks) and countries the network talks to, by number of flows.",
            tables=tables,
            charts=[chart],
            params=describe_params(params),
            payload={"by": params.by},
        )
        return UnitResult(section)
