"""Summaries `sentinel import` writes beside each file of a dataset, so that runs read a fraction of the rows.

Each summary sums one file's flows per key (flows, bytes each way, first and last start). A run uses one
only where it sums exactly the flows the run reads: every file has it, written for that file (its row count
is checked), no --from/--to row filter, and the flows keyed by the dataset's address ids
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
#: The figures of every summary: (column, SQL over the flows, type).
FIGURES = (
    ("flows", "count(*)", pa.int64()),
    ("up_bytes", f"CAST(sum(up_bytes) AS {_EXACT})", pa.decimal128(38, 0)),
    ("down_bytes", f"CAST(sum(down_bytes) AS {_EXACT})", pa.decimal128(38, 0)),
    ("first_ts", f"min({TS})", pa.int64()),
    ("last_ts", f"max({TS})", pa.int64()),
)
#: Key-value metadata of a summary file: the row count of the file it sums, which a reader checks.
SUMMARISED_ROWS = b"sentinel.summarised_rows"


@dataclass(frozen=True)
class Summary:
    name: str
    keys: tuple[tuple[str, str, pa.DataType], ...]  # (column, SQL over the flows, type)
    where: str = "TRUE"  # which flows it sums

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c, t) for c, _, t in self.keys] + [(c, t) for c, _, t in FIGURES])

    def sql(self, flows: str) -> str:
        """The summary of the flows of `flows` (a table or a table function)."""
        keys = [f"{sql} AS {c}" for c, sql, _ in self.keys]
        figures = [f"{sql} AS {c}" for c, sql, _ in FIGURES]
        return (
            f"SELECT {', '.join(keys + figures)} FROM {flows} WHERE {self.where} "
            f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
        )


_IDS = ((SRC_ID, SRC_ID, pa.int32()), (DST_ID, DST_ID, pa.int32()))
_HOUR = ("hour", hour_sql(TS), pa.int64())
SUMMARIES = {
    s.name: s
    for s in (
        # per-destination totals, the distinct sources, beacon's pair counts
        Summary("pairs", _IDS),
        # -td: per source and UTC hour
        Summary("hours", ((SRC_ID, SRC_ID, pa.int32()), _HOUR)),
        # --dns: the DNS flows per pair and hour
        Summary("dns", (*_IDS, _HOUR), DNS_FLOWS_SQL),
    )
}
