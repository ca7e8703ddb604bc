"""The canonical flow record: the one place its column names, types and units are spelled.

Every input format (course Parquet, Zeek, nfdump, Argus, CSV, an imported dataset) is mapped to it at the
edge (sentinel.sources), so analyses and detectors see one shape whatever was read. Time is absolute: `ts`
counts microseconds since the Unix epoch, UTC. Course files, whose clock starts at 00:00 of an unknown
day, are anchored to that day's midnight (--date), or to 1970-01-01 and shown day-relative.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TS = "ts"
SRC_IP = "src_ip"
DST_IP = "dst_ip"
PROTO = "proto"
PORT = "port"
UP_BYTES = "up_bytes"
DOWN_BYTES = "down_bytes"

SRC_PORT = "src_port"
DURATION = "duration"
UP_PACKETS = "up_packets"
DOWN_PACKETS = "down_packets"
CONN_STATE = "conn_state"
SERVICE = "service"

#: `ts` counts microseconds.
US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 86_400 * US_PER_SECOND


def hour_sql(ts: str) -> str:
    """Hours since 1970-01-01 00:00 UTC of the column `ts`, floor division (integer `//` truncates towards zero)."""
    return f"({ts} // {US_PER_HOUR} - CAST({ts} < 0 AND {ts} % {US_PER_HOUR} <> 0 AS INTEGER))"


@dataclass(frozen=True)
class Column:
    name: str
    arrow_type: pa.DataType
    sql_type: str  # the engine type a reader casts to
    doc: str


REQUIRED: tuple[Column, ...] = (
    Column(TS, pa.int64(), "BIGINT", "start of the flow, microseconds since 1970-01-01 00:00 UTC"),
    Column(SRC_IP, pa.string(), "VARCHAR", "address that opened the flow (IPv4 or IPv6 text)"),
    Column(DST_IP, pa.string(), "VARCHAR", "address the flow went to"),
    Column(PROTO, pa.string(), "VARCHAR", "transport protocol, lower case: tcp, udp, icmp, ..."),
    Column(PORT, pa.int32(), "INTEGER", "destination port (0 where the protocol has none)"),
    Column(UP_BYTES, pa.int64(), "BIGINT", "bytes sent by src_ip"),
    Column(DOWN_BYTES, pa.int64(), "BIGINT", "bytes received by src_ip"),
)

#: Columns richer formats carry. A unit that needs one declares it (`Unit.needs`) and is skipped, with the
#: reason stated in the report, where the input lacks it.
OPTIONAL: tuple[Column, ...] = (
    Column(SRC_PORT, pa.int32(), "INTEGER", "source port"),
    Column(DURATION, pa.float64(), "DOUBLE", "flow duration in seconds"),
    Column(UP_PACKETS, pa.int64(), "BIGINT", "packets sent by src_ip"),
    Column(DOWN_PACKETS, pa.int64(), "BIGINT", "packets received by src_ip"),
    Column(CONN_STATE, pa.string(), "VARCHAR", "connection state as the sensor reports it (Zeek conn_state, ...)"),
    Column(SERVICE, pa.string(), "VARCHAR", "application protocol the sensor recognised (dns, http, ssl, ...)"),
)

COLUMNS: tuple[Column, ...] = REQUIRED + OPTIONAL
REQUIRED_NAMES: tuple[str, ...] = tuple(c.name for c in REQUIRED)
OPTIONAL_NAMES: tuple[str, ...] = tuple(c.name for c in OPTIONAL)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}

#: The column a reader adds to name the file each row came from (malformed-row examples cite it).
FILE = "_file"

#: Integer address ids that `sentinel import` writes beside the address texts, keys of the dataset's address
#: table (sentinel.sources.dataset). Queries group and join on them where a run has them: a hash on a 32-bit
#: integer instead of on text (bench/bench_address_encoding.py measures the difference).
SRC_ID = "src_id"
DST_ID = "dst_id"
ADDRESS_IDS: tuple[str, ...] = (SRC_ID, DST_ID)


def arrow_schema(optional: tuple[str, ...] = ()) -> pa.Schema:
    """The canonical columns as Arrow, with the given optional ones (an imported dataset's schema)."""
    return pa.schema([pa.field(c.name, c.arrow_type) for c in REQUIRED + tuple(BY_NAME[n] for n in optional)])


# -- the course schema (Univ. Aveiro), Sentinel's original input and its simulator's output ----------------
COURSE_TIMESTAMP = "timestamp"
#: Course timestamps count hundredths of a second since 00:00 of the capture day.
COURSE_TICKS_PER_SECOND = 100
COURSE_COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    (COURSE_TIMESTAMP, pa.int64(), "start of the flow in 1/100 s since 00:00 (UTC) of the capture day"),
    (SRC_IP, pa.string(), "address that opened the flow"),
    (DST_IP, pa.string(), "address the flow went to"),
    (PROTO, pa.string(), "tcp or udp"),
    (PORT, pa.int32(), "destination port"),
    (UP_BYTES, pa.int64(), "bytes sent by src_ip"),
    (DOWN_BYTES, pa.int64(), "bytes received by src_ip"),
)
COURSE_NAMES: tuple[str, ...] = tuple(name for name, _, _ in COURSE_COLUMNS)
COURSE_ARROW_SCHEMA = pa.schema([pa.field(name, t) for name, t, _ in COURSE_COLUMNS])
