"""The canonical flow record: the one place its column names, types and units are spelled.

It is the course schema Sentinel inherited, so course Parquet files are read as they are;
every other input format is mapped to it at the edge (sentinel.sources).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = "timestamp"
SRC_IP = "src_ip"
DST_IP = "dst_ip"
PROTO = "proto"
PORT = "port"
UP_BYTES = "up_bytes"
DOWN_BYTES = "down_bytes"

#: Timestamps count hundredths of a second (centiseconds).
TICKS_PER_SECOND = 100
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Column:
    name: str
    arrow_type: pa.DataType
    kind: str  # "integer" or "string": what an input column must be to be read as this one
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column(TIMESTAMP, pa.int64(), "integer", "start of the flow in 1/100 s since 00:00 (UTC) of the capture day"),
    Column(SRC_IP, pa.string(), "string", "address that opened the flow (dotted IPv4 or IPv6 text)"),
    Column(DST_IP, pa.string(), "string", "address the flow went to"),
    Column(PROTO, pa.string(), "string", "transport protocol, lower case: tcp or udp"),
    Column(PORT, pa.int32(), "integer", "destination port"),
    Column(UP_BYTES, pa.int64(), "integer", "bytes sent by src_ip"),
    Column(DOWN_BYTES, pa.int64(), "integer", "bytes received by src_ip"),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

ARROW_SCHEMA = pa.schema([pa.field(c.name, c.arrow_type) for c in COLUMNS])
