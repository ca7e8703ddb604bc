"""The run's shared state: engine, configuration, and facts several analyses need, computed once.

A fact (per-destination totals, the IP dimension, ...) is one engine pass; analyses ask the context
for it instead of scanning again, which keeps a run near the cost of a bare scan.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from sentinel.config import Config
from sentinel.engines.base import Engine
from sentinel.enrich import ipdim
from sentinel.enrich.geodb import GeoStack
from sentinel.errors import InputError
from sentinel.sources.base import BAD_ADDRESS, MALFORMED, WELL_FORMED_SQL, SourceInfo, sql_list, sql_string
from sentinel.sources.dataset import read_addresses
from sentinel.sources.remote import is_uri
from sentinel.timefmt import Instant

#: An IPv4 address in dotted decimal (the only texts a prefix test is used for).
_DOTTED = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
#: The most prefixes a non-public test compares a flow's destination with (more: a look-up per flow).
_MOST_PREFIXES = 4

#: Malformed-row examples quoted in reports (file:line and reason).
EXAMPLES = 5


@dataclass(frozen=True)
class InputQuality:
    rows: int
    flows: int
    rejected_by_reason: dict[str, int]
    rejected_rows: int
    first_ts: int | None
    last_ts: int | None
    examples: tuple[str, ...] = ()


_REASON_COLUMNS = {reason: f"bad_{i}" for i, reason in enumerate(MALFORMED)}


@dataclass(frozen=True)
class AddressKeys:
    """The columns queries group and join flows on: the integer ids of an imported dataset (flows' src_id and
    dst_id, ip_dim's id), else the address texts (src_ip, dst_ip, ip). Results carry texts either way: a query
    keyed by ids turns them back into texts through ip_dim, on its few result rows."""

    src: str
    dst: str
    dim: str  # ip_dim's column holding the same key

    @property
    def ids(self) -> bool:
        return self.dim == "id"


TEXT_KEYS = AddressKeys("src_ip", "dst_ip", "ip")
#: Figures summed over the flows, and over a summary's rows (sentinel.sources.summaries), typed alike (HUGEINT
#: byte sums, BIGINT counts): see `summed`.
_SUMMED = {
    "flows": ("count(*)", "CAST(sum(flows) AS BIGINT)"),
    "up_bytes": ("sentinel_exact_sum(up_bytes)", "CAST(sum(up_bytes) AS HUGEINT)"),
    "down_bytes": ("sentinel_exact_sum(down_bytes)", "CAST(sum(down_bytes) AS HUGEINT)"),
    "first_ts": ("min(ts)", "min(first_ts)"),
    "last_ts": ("max(ts)", "max(last_ts)"),
}
ALL_FIGURES = tuple(_SUMMED)
ID_KEYS = AddressKeys("src_id", "dst_id", "id")


def non_public_prefixes(addresses: pa.ChunkedArray, classes: pa.ChunkedArray) -> tuple[str, ...] | None:
    """At most _MOST_PREFIXES texts ending in a dot (an IPv4 address's first three octets, else its first two)
    with which exactly the non-public `addresses` begin (class NULL or other than 'public'); None where no such
    set is found (an IPv6 non-public address, too many networks, a public address under a prefix)."""
    non_public = pc.fill_null(pc.not_equal(classes, "public"), True)
    texts = [a for a in pc.filter(addresses, non_public).to_pylist() if a is not None]
    if not texts or not all(_DOTTED.fullmatch(a) for a in texts):
        return None
    for octets in (3, 2):
        prefixes = sorted({".".join(a.split(".")[:octets]) + "." for a in texts})
        if len(prefixes) > _MOST_PREFIXES:
            continue
        begins = functools.reduce(pc.or_, [pc.starts_with(addresses, p) for p in prefixes])
        if pc.all(pc.equal(pc.fill_null(begins, False), non_public)).as_py():
            return tuple(prefixes)
    return None


def summed(figures: Sequence[str], summary: str | None) -> str:
    """SELECT items computing `figures` (of ALL_FIGURES) in a GROUP BY over the flows, or over the rows of
    `summary` (a summary's view, or None for the flows)."""
    return ", ".join(f"{_SUMMED[f][summary is not None]} AS {f}" for f in figures)


class Context:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        source: SourceInfo,
        geoip: Callable[[], GeoStack],
    ) -> None:
        """`geoip` gives the GeoIP/AS databases; it is called after the first pass over the flows, so that
        opening the databases can overlap with that pass."""
        self.engine = engine
        self.config = config
        self.source = source
        self._bad_address_rows = 0
        self._predicate = WELL_FORMED_SQL
        self.notes: list[str] = []  # what the preparation found that a reader of the report must know
        self.keys = TEXT_KEYS
        self._summaries: dict[str, str] = {}  # summary name -> its view, summing exactly the flows of `flows`
        if source.address_table is not None:
            # The dataset's address table, for the first pass to name its destinations (ip_dim later).
            self._addresses = (
                engine.query(f"SELECT id, ip FROM read_parquet({sql_list([source.address_table])})")
                if is_uri(source.address_table)  # a dataset the engine reads (Spark: hdfs://, s3a://)
                else read_addresses(source.address_table)
            )
            self.engine.register("addresses", self._addresses)
            self.keys = ID_KEYS
        self._prepare(geoip)

    # -- preparation: validate rows, build the IP dimension, define the `flows` view ----------------
    def _prepare(self, geoip: Callable[[], GeoStack]) -> None:
        self._sources_known = False  # whether `protocol_sources` holds the distinct sources (text keys)
        validate = not self.source.proven_clean or not self._protocols_valid()
        if self.keys.ids and not validate:
            # An imported dataset's summaries: a fraction of the flows' rows, and the same sums.
            for name, files in self.source.summaries.items():
                self.engine.create_view(f"summary_{name}", f"SELECT * FROM read_parquet({sql_list(files)})")
                self._summaries[name] = f"summary_{name}"
        by_dst = self._destination_pass(validate=validate)
        self.geo = geoip()
        sources = (
            f"SELECT a.ip FROM (SELECT DISTINCT src_id FROM {self.summary('hours') or 'raw_flows'}) s "
            "JOIN addresses a ON a.id = s.src_id"
            if self.keys.ids
            else f"SELECT DISTINCT src_ip FROM {'protocol_sources' if self._sources_known else 'raw_flows'} "
            "WHERE src_ip IS NOT NULL AND src_ip <> ''"
        )
        self.ip_dim = ipdim.build(
            self.engine,
            f"SELECT dst_ip AS ip FROM dst_totals WHERE dst_ip IS NOT NULL AND dst_ip <> '' UNION {sources}",
            self.config.internal,
            self.geo,
            address_ids=self._addresses if self.keys.ids else None,
        )
        if self.keys.ids and (self.ip_dim.bad or self.ip_dim.aliases):
            self.keys = TEXT_KEYS  # files not as the importer wrote them: the texts decide, the rare path
            self._summaries = {}
        if self.ip_dim.bad:
            # Rare path: rows naming a non-address are set aside too, and the totals redone without them.
            self.engine.register("bad_ips", pa.table({"ip": pa.array(self.ip_dim.bad, pa.string())}))
            self._bad_address_rows = self.engine.query(
                f"SELECT count(*) AS n FROM raw_flows WHERE ({self._predicate}) AND "
                "(src_ip IN (SELECT ip FROM bad_ips) OR dst_ip IN (SELECT ip FROM bad_ips))"
            )["n"][0].as_py()
            self._predicate += " AND src_ip NOT IN (SELECT ip FROM bad_ips) AND dst_ip NOT IN (SELECT ip FROM bad_ips)"
            by_dst = self._destination_pass(validate=True)
        if self.ip_dim.aliases:
            by_dst = self._canonicalise(self.ip_dim.aliases)
        self._quality = self._summarise(by_dst)
        if self._quality.rejected_rows and self.config.strict:
            first = self._quality.examples[0] if self._quality.examples else "?"
            raise InputError(
                first.split(" (")[0],
                f"{self._quality.rejected_rows} malformed row(s), the first here ({first.split(' (', 1)[-1]}; "
                "--strict makes them fatal",
            )
        clean = self._quality.rejected_rows == 0
        # Without rejected rows the view is a bare projection, so each analysis reads only its columns.
        where = "" if clean else f" WHERE {self._predicate}"
        self.engine.create_view("flows", f"SELECT * FROM raw_flows{where}")

    def _canonicalise(self, aliases: Mapping[str, str]) -> pa.Table:
        """Rare path: one host spelled several ways (FC00::1, fc00::1, 192.168.001.010) counts once, under its
        canonical text: the flows are read through the few aliases, and the totals redone."""
        table = pa.table({"ip": list(aliases), "canonical": list(aliases.values())})
        self.engine.register("ip_aliases", table)
        columns = [
            f"coalesce(a.canonical, r.{c}) AS {c}"
            if c == "src_ip"
            else f"coalesce(b.canonical, r.{c}) AS {c}"
            if c == "dst_ip"
            else f"r.{c}"
            for c in self.source.columns
        ]
        self.engine.create_view(
            "raw_flows",
            f"SELECT {', '.join(columns)} FROM raw_input r "
            "LEFT JOIN ip_aliases a ON r.src_ip = a.ip LEFT JOIN ip_aliases b ON r.dst_ip = b.ip",
        )
        shown = ", ".join(f"{k} as {v}" for k, v in sorted(aliases.items())[:5])
        self.notes.append(f"{len(aliases)} address(es) written in a non-canonical form were read as one host: {shown}.")
        return self._destination_pass(validate=True)

    def _destination_pass(self, validate: bool) -> pa.Table:
        """One scan: per-destination totals of well-formed rows, plus malformed-row counts by reason.

        Without `validate` (file statistics proved every row well formed), the scan reads just the three
        columns the totals need.
        """
        if not validate:
            totals = self.pair_totals(["flows", "up_bytes", "down_bytes"], by=["dst"], flows="raw_flows")
            table = self.engine.query(
                self.with_texts(
                    totals,
                    {"dst": "dst_ip"},
                    ["flows", "up_bytes", "down_bytes"],
                    lookup="addresses",
                )
            )
            self.engine.register("dst_totals", table)
            return table
        reasons = {_REASON_COLUMNS[r]: f"count(*) FILTER (WHERE {sql})" for r, sql in MALFORMED.items()}
        ok = f"FILTER (WHERE {self._predicate})"
        figures = {
            "all_rows": "count(*)",
            "flows": f"count(*) {ok}",
            "up_bytes": f"sum(up_bytes) {ok}",
            "down_bytes": f"sum(down_bytes) {ok}",
            "first_ts": f"min(ts) {ok}",
            "last_ts": f"max(ts) {ok}",
        } | reasons
        sums = ", ".join(f"{sql} AS {name}" for name, sql in figures.items())
        table = self.engine.query(
            self.with_texts(
                f"SELECT {self.keys.dst} AS dst, {sums} FROM raw_flows GROUP BY {self.keys.dst}",
                {"dst": "dst_ip"},
                list(figures),
                lookup="addresses",
            )
        )
        ok_rows = table.filter(pc.greater(table["flows"], 0))
        self.engine.register("dst_totals", ok_rows.select(["dst_ip", "flows", "up_bytes", "down_bytes"]))
        return table

    def _summarise(self, by_dst: pa.Table) -> InputQuality:
        def total(column: str) -> int:
            return int(pc.sum(by_dst[column]).as_py() or 0)

        if "first_ts" not in by_dst.column_names:  # proven clean: nothing rejected, span from statistics
            return InputQuality(
                rows=total("flows"),
                flows=total("flows"),
                rejected_by_reason={},
                rejected_rows=0,
                first_ts=self.source.first_ts,
                last_ts=self.source.last_ts,
            )

        rejected = {r: total(c) for r, c in _REASON_COLUMNS.items() if total(c)}
        if self._bad_address_rows:
            rejected[BAD_ADDRESS] = self._bad_address_rows
        flows = total("flows")
        rows = total("all_rows")
        first = pc.min(by_dst["first_ts"]).as_py()
        last = pc.max(by_dst["last_ts"]).as_py()
        return InputQuality(
            rows=rows,
            flows=flows,
            rejected_by_reason=rejected,
            rejected_rows=rows - flows,
            first_ts=first,
            last_ts=last,
            examples=self._examples() if rows > flows else (),
        )

    def _protocols_valid(self) -> bool:
        """Whether every proto value is a protocol name: statistics cannot prove it, its few values can."""
        bad = MALFORMED["missing or invalid proto"]
        if self.keys.ids:  # an imported dataset: its sources come from a summary (or ids), cheaper than here
            self.engine.register("distinct_protos", self.engine.query("SELECT DISTINCT proto FROM raw_flows"))
        else:
            # The distinct sources (for the IP dimension) ride on the same scan: a handful of protocols per
            # source keeps the pairs few, and Spark saves a job that read the whole input for them (2.8 s
            # of 33 s on the 10M-flow day).
            pairs = self.engine.query("SELECT DISTINCT proto, src_ip FROM raw_flows")
            self.engine.register("protocol_sources", pairs)
            self.engine.register("distinct_protos", self.engine.query("SELECT DISTINCT proto FROM protocol_sources"))
            self._sources_known = True
        return self.engine.query(f"SELECT count(*) AS n FROM distinct_protos WHERE {bad}")["n"][0].as_py() == 0

    def _examples(self) -> tuple[str, ...]:
        """The first few malformed rows as file:line (reason): where to look in the input (the rare path).

        Row numbers follow each file's order where the engine can keep it (DuckDB, for this one query): they
        are counted over the whole scan in order and made relative to each file's first row (numbering within
        PARTITION BY _file would follow the order of parallel partitioning, not the file's). Elsewhere the
        examples name the file only.
        """
        out: list[str] = []
        reason_sql = " ".join(f"WHEN {sql} THEN '{r}'" for r, sql in MALFORMED.items())
        reason = f"CASE {reason_sql} ELSE '{BAD_ADDRESS}' END AS reason"
        numbered = self.engine.ordered_rows
        for scan in self.source.scans:
            if len(out) >= EXAMPLES:
                break
            limit = EXAMPLES - len(out)
            if numbered:
                sql = f"""
                    SELECT _file, n, {reason} FROM (
                        SELECT *, g - min(g) OVER (PARTITION BY _file) + 1 AS n FROM (
                            SELECT *, row_number() OVER () AS g FROM ({scan.sql})
                        )
                    ) WHERE NOT ({self._predicate}) ORDER BY _file, n LIMIT {limit}
                    """
            else:
                sql = f"SELECT _file, {reason} FROM ({scan.sql}) WHERE NOT ({self._predicate}) LIMIT {limit}"
            with self.engine.in_input_order():
                rows = self.engine.query(sql).to_pylist()
            unit = "row " if scan.line_numbers == "row" else ""
            out += [
                f"{r['_file']}:{unit}{r['n'] + scan.header_lines} ({r['reason']})"
                if numbered
                else f"{r['_file']} ({r['reason']})"
                for r in rows
            ]
        return tuple(out)

    # -- facts ------------------------------------------------------------------------------------
    def non_public_destination(self) -> str:
        """The SQL condition on a row of `flows` that its destination is not a public address: a test of the
        address text's first octets where a few prefixes tell, for every address of the input, exactly what
        the address dimension says (an office's /24 or two: a string comparison per flow instead of a look-up
        in a hash table), else a test against the non-public addresses of ip_dim."""
        prefixes = self._non_public_prefixes
        if prefixes is not None:
            return "(" + " OR ".join(f"{self.keys.dst} LIKE '{p}%'" for p in prefixes) + ")"
        return f"{self.keys.dst} IN (SELECT {self.keys.dim} FROM ip_dim WHERE class IS DISTINCT FROM 'public')"

    @cached_property
    def _non_public_prefixes(self) -> tuple[str, ...] | None:
        if self.keys.ids or self.ip_dim.aliases or self.ip_dim.bad:
            return None
        return non_public_prefixes(self.ip_dim.table["ip"], self.ip_dim.table["class"])

    @cached_property
    def _only_internal_sources(self) -> bool:
        if not self._sources_known or self.ip_dim.bad or self.ip_dim.aliases:
            return False
        outside = self.engine.query(
            "SELECT count(*) AS n FROM protocol_sources WHERE src_ip IS NULL OR src_ip NOT IN "
            "(SELECT ip FROM ip_dim WHERE class = 'internal')"
        )
        return outside["n"][0].as_py() == 0

    def internal_source(self) -> str:
        """The SQL condition on a row of `flows` (or of a summary) that its source is internal: TRUE where every
        source of the input is (the course files' office days), which spares a membership test per flow, else a
        test against the internal addresses of ip_dim."""
        if self._only_internal_sources:
            return "TRUE"
        return f"{self.keys.src} IN (SELECT {self.keys.dim} FROM ip_dim WHERE class = 'internal')"

    @property
    def quality(self) -> InputQuality:
        return self._quality

    @cached_property
    def internal_sources(self) -> pa.Table:
        """Traffic opened by internal hosts, summarised in one pass for every detector that needs it.

        One row per group: `scope` says where the flows went (internal, external, other). Internal and
        other (reserved) destinations keep (dst_ip, proto, port): the edges between internal hosts.
        External ones keep dst_ip only for upload-dominant flows (up > down; few flows are), the raw
        material of transfers out; the rest collapses to one row per host. So the table stays small while host totals,
        internal edges and transfer candidates all come from it, and the flows are read once for them.
        """
        k = self.keys
        # Keyed by ids, the texts come from ip_dim after aggregation (s: the source's row).
        src_text, src_join = ("s.ip", f"JOIN ip_dim s ON g.src = s.{k.dim} ") if k.ids else ("g.src", "")
        # One membership test per flow (the small set of non-public addresses); which of internal or other
        # a kept destination is, the join below tells after aggregation, on a few thousand rows.
        # From an imported dataset's edges summary where it sums the same flows (one row per edge and day).
        summary = self.summary("edges")
        columns = (
            "flows, up_bytes, down_bytes, first_ts, last_ts, up_dominant"
            if summary
            else "ts, up_bytes, down_bytes, up_bytes > down_bytes AS up_dominant"
        )
        return self.engine.query(
            f"""
            WITH f AS (
                SELECT {k.src} AS src, {k.dst} AS dst, proto, port, {columns},
                       {self.non_public_destination()} AS non_public
                FROM {summary or "flows"} WHERE {self.internal_source()}
            ), g AS (
                SELECT src, non_public,
                       CASE WHEN non_public OR up_dominant THEN dst END AS dst,
                       CASE WHEN non_public THEN proto END AS proto,
                       CASE WHEN non_public THEN port END AS port,
                       {summed(ALL_FIGURES, summary)}
                FROM f GROUP BY ALL
            )
            SELECT {src_text} AS src_ip,
                   CASE WHEN NOT g.non_public THEN 'external' WHEN d.class = 'internal' THEN 'internal'
                        ELSE 'other' END AS scope,
                   {"d.ip" if k.ids else "g.dst"} AS dst_ip, g.proto, g.port, g.flows, g.up_bytes, g.down_bytes,
                   g.first_ts, g.last_ts
            FROM g LEFT JOIN ip_dim d ON g.dst = d.{k.dim} {src_join}
            ORDER BY src_ip, scope, dst_ip NULLS FIRST, g.proto NULLS FIRST, g.port NULLS FIRST
            """
        )

    def pair_totals(self, figures: Sequence[str], by: Sequence[str] = ("src", "dst"), flows: str = "flows") -> str:
        """A query of the flows' totals per (src, dst) key pair, or per one of them (`by`), with `figures` of
        ALL_FIGURES: from an imported dataset's pair summaries where they sum the same flows, else from the
        flows (`flows`: the view, raw_flows before `flows` is defined). Keys are `self.keys` (ids or texts)."""
        keys = {"src": self.keys.src, "dst": self.keys.dst}
        # the smallest summary with the keys asked for
        summary = (self.summary("destinations") if list(by) == ["dst"] else None) or self.summary("pairs")
        columns = [keys[k] for k in by]
        named = ", ".join(f"{c} AS {k}" for c, k in zip(columns, by, strict=True))
        return f"SELECT {named}, {summed(figures, summary)} FROM {summary or flows} GROUP BY {', '.join(columns)}"

    def summary(self, name: str) -> str | None:
        """The view of summary `name` (sentinel.sources.summaries), where it sums exactly the flows of `flows`
        (keyed by ids: `self.keys.ids`), else None: read the flows."""
        return self._summaries.get(name)

    def with_texts(self, sql: str, keys: Mapping[str, str], columns: Sequence[str], lookup: str = "ip_dim") -> str:
        """A SELECT of `sql`'s rows, which carry address keys (`keys`: key column -> name of its text), giving
        the texts and then `columns`: keyed by ids, the texts are looked up in `lookup` (ip_dim, or before it
        exists the dataset's address table), on the result rows only."""
        picks = [f"t.{c}" for c in columns]
        if not self.keys.ids:
            return f"SELECT {', '.join([f't.{k} AS {name}' for k, name in keys.items()] + picks)} FROM ({sql}) t"
        texts = [f"k{i}.ip AS {name}" for i, name in enumerate(keys.values())]
        joins = " ".join(f"LEFT JOIN {lookup} k{i} ON k{i}.id = t.{k}" for i, k in enumerate(keys))
        return f"SELECT {', '.join(texts + picks)} FROM ({sql}) t {joins}"

    def key_literals(self, ips: Sequence[str]) -> list[str]:
        """The keys of a few addresses as SQL literals, to compare with the flows' `self.keys` columns."""
        if not self.keys.ids:
            return [sql_string(ip) for ip in ips]
        found = self._ids_of(pa.array(list(ips), pa.string()))
        return ["NULL" if i is None else str(i) for i in found.to_pylist()]

    def register_keyed(self, name: str, table: pa.Table, columns: Mapping[str, str]) -> None:
        """Register `table` (addresses as text) as `name`, with, for each of its address `columns` (text column
        -> new name), the key flows are joined on (`self.keys`): a detector registers the few hosts or pairs it
        wants, and joins them to the flows by key. The keys are looked up here, so that the engine joins the
        flows to a small table of known size."""
        for column, key in columns.items():
            table = table.append_column(key, self._ids_of(table[column]) if self.keys.ids else table[column])
        self.engine.register(name, table)

    def _ids_of(self, texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        """The ids of addresses given as text (null for one the run did not see)."""
        dim = self.ip_dim.table
        wanted = pc.drop_null(pc.unique(texts))
        if len(wanted) * 8 < dim.num_rows:
            # The dimension's rows for these texts first: hashing a few texts and scanning the dimension's
            # millions of rows is many times faster than hashing the dimension, as index_in against it does.
            dim = dim.filter(pc.is_in(dim["ip"], value_set=wanted))
        return pc.take(dim["id"], pc.index_in(texts, dim["ip"]))

    def instant(self, us: int | None) -> Instant | None:
        """A raw time of this input, as results carry it (renderers format it)."""
        return None if us is None else Instant(us, self.source.relative_time)
