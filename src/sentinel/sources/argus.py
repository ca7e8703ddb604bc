"""Argus flow text, as the CTU / Stratosphere `.binetflow` files have it (`ra -c ,` output with a header).

The header names the columns, comma- or tab-separated (the delimiter is taken from the header line), e.g.
`StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes[,SrcPkts],Label`.
Mapping to the canonical flow:

- `StartTime` (`2018/05/10 12:35:13.604286`, or with `-` between date parts) -> `ts`. Argus prints the
  capture machine's local time without a zone; it is read as UTC and the report says so. CTU captures
  whose clock started at 0 show 1970 dates: relative times, read as they are (the report says so too).
- `SrcAddr`, `DstAddr`; `Proto` in lower case; `Dport` -> `port`, `Sport` -> `src_port`. Argus writes some
  ports in hex (`0x0303`: ICMP type and code): read as integers. A protocol without ports (icmp, arp, igmp,
  ...) with an empty port gets port 0; an empty tcp/udp/sctp/dccp port, or text that is no number, stays
  NULL and the row is counted as malformed.
- `SrcBytes` -> `up_bytes`, `TotBytes - SrcBytes` -> `down_bytes`; `SrcPkts` and `TotPkts - SrcPkts` ->
  `up_packets`, `down_packets` where `SrcPkts` exists; `Dur` -> `duration` (seconds); `State` -> `conn_state`.
  Other columns (Dir, sTos, dTos, Label, ...) are listed as unused.

Files without `SrcBytes` (Argus' default field set; the 2013 CTU normal captures) carry only the total of
both directions, which cannot be split honestly: counting it as upload would invent exfiltration, halving
it would invent figures. Those flows are read with up_bytes = down_bytes = 0 and the report says that
their byte volumes are unknown: flow counts, hours, countries and botnet edges stay right, while byte
totals show 0 and the exfiltration detector, which needs upload volume, finds nothing in them.

Rows that are not IP flows stay rows: Argus management records (`Proto` man) and layer-2 flows between
MAC addresses (llc, some arp) have no IP addresses and are counted as malformed (unparseable address), so
that each malformed row's file:line stays exact. Lines are never filtered out of the scan.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import ClassVar

from sentinel import schema
from sentinel.errors import InputError
from sentinel.sources.base import ReadOptions, Sample, Scan, column_names, projection, proto_sql, sql_list

#: Protocols with ports: an empty port there is missing (malformed); elsewhere it is 0.
PORTED_PROTOCOLS = ("tcp", "udp", "sctp", "dccp", "udplite")

_REQUIRED = ("StartTime", "Proto", "SrcAddr", "DstAddr", "Dport", "TotBytes")


def ident(name: str) -> str:
    """A column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def header_of(sample: Sample) -> tuple[str, list[str]] | None:
    """(delimiter, column names) of a delimited text file's header line, or None for an empty file."""
    lines = sample.lines(1)
    if not lines:
        return None
    first = lines[0].lstrip("\ufeff")
    delimiter = "\t" if "\t" in first else ","
    return delimiter, column_names(first.split(delimiter))


def port_sql(port: str, proto: str) -> str:
    """A port column as an integer: decimal or hex (`0x0303`) text; empty -> 0 for a port-less protocol, NULL
    (missing) for tcp, udp, ... or an unknown protocol."""
    return (
        f"CASE WHEN {port} IS NULL OR trim({port}) = '' "
        f"THEN CASE WHEN {proto} IS NULL OR {proto} IN ({', '.join(repr(p) for p in PORTED_PROTOCOLS)}) "
        "THEN NULL ELSE 0 END "
        f"ELSE TRY_CAST(trim({port}) AS INTEGER) END"
    )


def read_csv_sql(paths: Sequence[str], names: Sequence[str], delimiter: str, compression: str | None) -> str:
    """Every column as text, header line skipped, short rows padded with NULL, long rows cut (never a crash)."""
    columns = "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in names) + "}"
    return (
        f"read_csv({sql_list(paths)}, header = true, auto_detect = false, columns = {columns}, "
        f"delim = {_literal(delimiter)}, quote = '', escape = '', null_padding = true, strict_mode = false, "
        f"compression = '{compression or 'none'}', filename = '{schema.FILE}')"
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def check_columns(path: str, names: Sequence[str], required: Sequence[str], kind: str) -> None:
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(path, f"column(s) {', '.join(duplicated)} appear more than once in the header")
    missing = [n for n in required if n not in names]
    if missing:
        raise InputError(path, f"{kind} header lacks column(s) {', '.join(missing)} (needs {', '.join(required)})")


class Argus:
    name: ClassVar[str] = "argus"
    description: ClassVar[str] = "Argus / CTU .binetflow text (StartTime,Dur,Proto,SrcAddr,...; comma or tab)"

    def sniff(self, sample: Sample) -> bool:
        header = header_of(sample)
        return header is not None and {"StartTime", "SrcAddr", "DstAddr"} <= set(header[1])

    def group_key(self, sample: Sample) -> Hashable:
        header = header_of(sample)
        return (header[0], tuple(header[1]), sample.compression) if header else None

    def scan(self, samples: Sequence[Sample], options: ReadOptions) -> Scan:
        paths = [s.path for s in samples]
        header = header_of(samples[0])
        if header is None:
            raise InputError(paths[0], "is empty (an Argus file starts with its header line)")
        delimiter, names = header
        check_columns(paths[0], names, _REQUIRED, "Argus")
        present = set(names)
        col = {n: ident(n) for n in names}
        proto = proto_sql(col["Proto"])
        notes = [
            f"Argus times of {_shown(paths)} carry no time zone (Argus prints the capture machine's local time): "
            "read as UTC."
        ]
        relative = [s.path for s in samples if _is_relative(s, delimiter, names)]
        if relative:
            notes.append(
                f"{_shown(relative)} show 1970 dates: the capture's clock started at 0, so times are relative to "
                "its start, not real dates."
            )
        columns = {
            schema.TS: f"epoch_us(TRY_CAST(replace(trim({col['StartTime']}), '/', '-') AS TIMESTAMP))",
            schema.SRC_IP: f"trim({col['SrcAddr']})",
            schema.DST_IP: f"trim({col['DstAddr']})",
            schema.PROTO: proto,
            schema.PORT: port_sql(col["Dport"], proto),
        }
        used = {"StartTime", "SrcAddr", "DstAddr", "Proto", "Dport"}
        total = f"TRY_CAST({col['TotBytes']} AS BIGINT)"
        if "SrcBytes" in present:
            up = f"TRY_CAST({col['SrcBytes']} AS BIGINT)"
            columns[schema.UP_BYTES] = up
            columns[schema.DOWN_BYTES] = f"{total} - {up}"
            used |= {"SrcBytes", "TotBytes"}
        else:
            columns[schema.UP_BYTES] = "0"
            columns[schema.DOWN_BYTES] = "0"
            notes.append(
                f"{_shown(paths)} have no SrcBytes column, only TotBytes (both directions together): byte "
                "volumes are unknown and counted as 0, so byte totals show 0 and exfiltration cannot be seen there."
            )
        optional: set[str] = set()
        if "Sport" in present:
            columns[schema.SRC_PORT] = port_sql(col["Sport"], proto)
            optional.add(schema.SRC_PORT)
            used.add("Sport")
        if "Dur" in present:
            columns[schema.DURATION] = f"TRY_CAST({col['Dur']} AS DOUBLE)"
            optional.add(schema.DURATION)
            used.add("Dur")
        if {"SrcPkts", "TotPkts"} <= present:
            up_packets = f"TRY_CAST({col['SrcPkts']} AS BIGINT)"
            columns[schema.UP_PACKETS] = up_packets
            columns[schema.DOWN_PACKETS] = f"TRY_CAST({col['TotPkts']} AS BIGINT) - {up_packets}"
            optional |= {schema.UP_PACKETS, schema.DOWN_PACKETS}
            used |= {"SrcPkts", "TotPkts"}
        if "State" in present:
            columns[schema.CONN_STATE] = f"nullif(trim({col['State']}), '')"
            optional.add(schema.CONN_STATE)
            used.add("State")
        columns[schema.FILE] = schema.FILE
        compression = samples[0].compression
        return Scan(
            format=self.name,
            files=tuple(paths),
            sql=f"SELECT {projection(columns)} FROM {read_csv_sql(paths, names, delimiter, compression)}",
            optional=frozenset(optional),
            header_lines=1,
            extra_columns=tuple(n for n in names if n not in used),
            notes=tuple(notes),
            bytes_known="SrcBytes" in present,
        )


def _shown(paths: Sequence[str]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _is_relative(sample: Sample, delimiter: str, names: Sequence[str]) -> bool:
    """Whether the first data rows show 1970 dates (a capture clock started at 0)."""
    at = names.index("StartTime")
    for line in sample.lines(50)[1:]:
        fields = line.split(delimiter)
        if len(fields) > at and fields[at].strip().startswith("1970"):
            return True
    return False
