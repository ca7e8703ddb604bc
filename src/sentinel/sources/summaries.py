"""Summaries `sentinel import` writes beside each file of a dataset, so that runs read a fraction of the rows.

Each summary sums one file's flows per key (flows, bytes each way, first and last start). A run uses one
only where it sums exactly the flows the run reads: every file has it, written for that file (its row count
and size are checked), no --from/--to row filter, and the flows keyed by the dataset's address ids
(sentinel.context.Context.summary). Anything else reads the flows, with the same results.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from sentinel.schema import DST_ID, SRC_ID, TS, hour_sql

#: Ports of DNS (plain and over TLS): the flows of the dns summary and of --dns.
DNS_PORTS = (53, 853)
DNS_FLOWS_SQL = f"port IN ({', '.join(str(p) for p in DNS_PORTS)}) AND proto IN ('udp', 'tcp')"

_EXACT = "DECIMAL(38, 0)"  # a day of one key can exceed BIGINT in hostile input
#: The figures of every summary: (column, SQL over the flows, SQL over another summary's rows, type).
FIGURES = (
    ("flows", "count(*)", "CAST(sum(flows) AS BIGINT)", pa.int64()),
    ("up_bytes", f"CAST(sum(up_bytes) AS {_EXACT})", f"CAST(sum(up_bytes) AS {_EXACT})", pa.decimal128(38, 0)),
    ("down_bytes", f"CAST(sum(down_bytes) AS {_EXACT})", f"CAST(sum(down_bytes) AS {_EXACT})", pa.decimal128(38, 0)),
    ("first_ts", f"min({TS})", "min(first_ts)", pa.int64()),
    ("last_ts", f"max({TS})", "max(last_ts)", pa.int64()),
)
#: Key-value metadata of a summary file: the row count and the size in bytes of the file it sums, which a
#: reader checks (a summary of a file since replaced is not used).
SUMMARISED_ROWS = b"sentinel.summarised_rows"
SUMMARISED_BYTES = b"sentinel.summarised_bytes"


@dataclass(frozen=True)
class Summary:
    name: str
    keys: tuple[tuple[str, str, pa.DataType], ...]  # (column, SQL over the flows, type)
    where: str = "TRUE"  # which flows it sums
    #: Computed from this other summary of the same file instead (its keys include these, it sums every flow):
    #: a re-aggregation of its rows, much fewer than the flows.
    of: str | None = None

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c, t) for c, _, t in self.keys] + [(c, t) for c, *_, t in FIGURES])

    def sql(self, source: str) -> str:
        """The summary of `source` (a table or a table function): the flows, or summary `of`'s rows."""
        keys = [f"{c if self.of else sql} AS {c}" for c, sql, _ in self.keys]
        figures = [f"{summed if self.of else flows} AS {c}" for c, flows, summed, _ in FIGURES]
        return (
            f"SELECT {', '.join(keys + figures)} FROM {source} WHERE {self.where} "
            f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
        )


_IDS = ((SRC_ID, SRC_ID, pa.int32()), (DST_ID, DST_ID, pa.int32()))
_HOUR = ("hour", hour_sql(TS), pa.int64())
SUMMARIES = {
    s.name: s
    for s in (
        # the per-internal-source pass of -dx/-bn (sentinel.context.Context.internal_sources): per edge, and
        # whether the flow sent more than it received
        Summary(
            "edges",
            (
                *_IDS,
                ("proto", "proto", pa.string()),
                ("port", "port", pa.int32()),
                ("up_dominant", "up_bytes > down_bytes", pa.bool_()),
            ),
        ),
        # beacon's pair counts (fewer rows than the edges)
        Summary("pairs", _IDS, of="edges"),
        # per-destination totals (-cv, the address dimension)
        Summary("destinations", ((DST_ID, DST_ID, pa.int32()),), of="pairs"),
        # -td: per source and UTC hour; the distinct sources
        Summary("hours", ((SRC_ID, SRC_ID, pa.int32()), _HOUR)),
        # --dns: the DNS flows per pair and hour
        Summary("dns", (*_IDS, _HOUR), DNS_FLOWS_SQL),
    )
}
