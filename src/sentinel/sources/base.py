"""What a reader is: it recognises its format from a file's first bytes and maps files of that format to
the canonical flow schema (sentinel.schema) as one engine SELECT. Adding a format is one module with one
`Reader` plus its test, registered in sentinel.sources.registry.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from sentinel import schema


@dataclass(frozen=True)
class Sample:
    """The start of one input file, decompressed, for format detection and header parsing."""

    path: str
    compression: str | None  # "gzip", "zstd" or None, from the magic bytes
    head: bytes  # up to the first 64 KiB of the (decompressed) content

    @property
    def text(self) -> str:
        return self.head.decode("utf-8", errors="replace")

    def lines(self, limit: int = 200) -> list[str]:
        """Complete lines of the head (a last line cut by the 64 KiB window is left out)."""
        lines = self.text.splitlines()
        if len(self.head) >= HEAD_BYTES and lines:
            lines = lines[:-1]
        return lines[:limit]


HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class ReadOptions:
    """What the user said about the input beyond its files."""

    date: dt.date | None = None  # the capture day of course-schema files (their clock starts at its 00:00 UTC)
    mapping: dict[str, str] = field(default_factory=dict)  # canonical column -> the file's column (--map)
    time_unit: str | None = None  # for mapped timestamps: s, ms, us, ns, cs-midnight, iso (None: guess)
    since: dt.date | None = None  # --from: only flows on or after this day (UTC)
    until: dt.date | None = None  # --to: only flows on or before this day (UTC)


@dataclass(frozen=True)
class Scan:
    """One group of files of one format (same header), mapped to the canonical columns.

    `sql` is a SELECT giving every required canonical column, the optional ones named in `optional`
    (others are filled with NULL by the union of groups) and `_file`, the file each row came from. Values
    that do not convert become NULL (TRY_CAST) so that they are counted as malformed rows, never crash.
    """

    format: str
    files: tuple[str, ...]
    sql: str
    optional: frozenset[str] = frozenset()
    header_lines: int = 0  # lines before the first data row (file:line of malformed-row examples)
    relative_time: bool = False  # course timestamps without a known day: shown day-relative
    rows: int | None = None  # known without reading the data (Parquet metadata)
    proven_clean: bool = False  # metadata proves no row is malformed: the validating pass is skipped
    first_ts: int | None = None  # from metadata, when proven clean
    last_ts: int | None = None
    extra_columns: tuple[str, ...] = ()  # present in the files but not used (e.g. label)
    notes: tuple[str, ...] = ()  # what the report must say about how these files were read
    line_numbers: str = "line"  # "line" (text: header + data row) or "row" (Parquet row index, from 1)
    bytes_known: bool = True  # False: the files carry no byte counts; their flows read 0 bytes each way
    address_table: str | None = None  # the files' address ids (src_id, dst_id) are keys of this table
    summaries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name -> one per file (dataset.py)


class Reader(Protocol):
    name: ClassVar[str]  # what --format names it, and the report's input format
    description: ClassVar[str]  # one line for --help and the README

    def sniff(self, sample: Sample) -> bool:
        """Whether the file is in this format, from its content (its name is at most a hint)."""
        ...

    def group_key(self, sample: Sample) -> Hashable:
        """Files with equal keys are read by one scan (same header and layout)."""
        ...

    def scan(self, samples: Sequence[Sample], options: ReadOptions) -> Scan:
        """The SELECT that maps these files to the canonical schema; raises InputError naming a file."""
        ...


#: Why a row is set aside as malformed: reason -> SQL predicate over canonical columns. Rows matching
#: any are counted per reason and reported, never analysed (and never crash the run).
MALFORMED: dict[str, str] = {
    "missing or unreadable time": "ts IS NULL",
    "missing src_ip": "src_ip IS NULL OR src_ip = ''",
    "missing dst_ip": "dst_ip IS NULL OR dst_ip = ''",
    "missing or invalid proto": "proto IS NULL OR NOT regexp_full_match(proto, '[a-z0-9_-]{1,16}')",
    "port missing or outside 0-65535": "port IS NULL OR port < 0 OR port > 65535",
    "missing or negative bytes": "up_bytes IS NULL OR down_bytes IS NULL OR up_bytes < 0 OR down_bytes < 0",
}

#: Rows whose addresses are not IPv4/IPv6 text are found per distinct address (sentinel.enrich.ipdim).
BAD_ADDRESS = "unparseable src_ip or dst_ip"
#: The report's note where course times of an unknown day are read with times of known dates.
MIXED_CLOCKS = (
    "Course-schema files without --date are mixed with files of known dates: their times are shown from "
    "1970-01-01; give --date to place them."
)

WELL_FORMED_SQL = "NOT ((" + ") OR (".join(MALFORMED.values()) + "))"


def sql_string(value: str) -> str:
    """A quoted SQL string literal (paths are literals in table functions; never interpolated raw)."""
    return "'" + value.replace("'", "''") + "'"


def column_names(fields: Sequence[str]) -> list[str]:
    """A text header's column names, trimmed; an empty one is named by its position ("column_3"), since an
    empty name is no identifier the engine can use (a damaged or hostile header must not crash a run)."""
    return [name.strip() or f"column_{i}" for i, name in enumerate(fields, start=1)]


def engine_path(path: str) -> str:
    """A file path as the engine must see it to read exactly that file: absolute (a relative "day-12:00.csv"
    is not a URI) and with glob characters escaped (a file named "cap*.csv" is not a pattern)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", path):  # hdfs://, s3a://: the engine's to resolve
        return path
    absolute = os.path.abspath(path)
    return "".join(f"[{c}]" if c in "*?[" else c for c in absolute)


def sql_list(paths: Sequence[str]) -> str:
    """File paths as an SQL list literal for the engine's table functions (see engine_path)."""
    return "[" + ", ".join(sql_string(engine_path(p)) for p in paths) + "]"


def proto_sql(expr: str) -> str:
    """Protocol text as the canonical lower-case name, trimmed."""
    return f"lower(trim(CAST({expr} AS VARCHAR)))"


def projection(columns: dict[str, str], integer_sources: frozenset[str] = frozenset()) -> str:
    """`expr AS name` for each canonical column given, cast to its canonical type (TRY_CAST: bad -> NULL).

    A port or counter must be a whole number: text or floats such as "1.5" become NULL (a malformed row)
    where a plain cast would round them. `integer_sources` names the columns whose input is already of an
    integer type, which skip that check (the hot path of Parquet files).
    """
    parts = []
    for name, expr in columns.items():
        if name == schema.FILE or name in schema.ADDRESS_IDS:  # ids: as the importer wrote them (int32)
            parts.append(f"{expr} AS {name}")
            continue
        col = schema.BY_NAME[name]
        if col.sql_type in ("INTEGER", "BIGINT") and name != schema.TS and name not in integer_sources:
            whole = f"TRY_CAST({expr} AS DOUBLE) = TRY_CAST({expr} AS BIGINT)"
            parts.append(f"CASE WHEN {whole} THEN TRY_CAST({expr} AS {col.sql_type}) END AS {name}")
        else:
            parts.append(f"TRY_CAST({expr} AS {col.sql_type}) AS {name}")
    return ", ".join(parts)


@dataclass(frozen=True)
class SourceInfo:
    """Every file a run reads, how, and what the report must say about it."""

    sources: tuple[str, ...]
    formats: tuple[str, ...]
    rows: int | None  # known up front (Parquet metadata) or None: counted by the first pass
    optional: frozenset[str]  # optional canonical columns every file provides
    relative_time: bool = False
    extra_columns: tuple[str, ...] = ()
    proven_clean: bool = False
    first_ts: int | None = None
    last_ts: int | None = None
    notes: tuple[str, ...] = ()
    scans: tuple[Scan, ...] = ()
    #: Some inputs carry no byte counts (Argus files without SrcBytes): their flows read 0 bytes each way,
    #: which detectors must not take for empty flows (a real flow carries at least its headers).
    bytes_unknown: bool = False
    #: Every input is one imported dataset whose files carry address ids: `raw_flows` has src_id and dst_id,
    #: keys of this table (sentinel.sources.dataset).
    address_table: str | None = None
    #: Summaries every file read has (sentinel.sources.summaries), name -> files, keyed by the address table's
    #: ids: empty unless they sum the same flows as `raw_flows` (no --from/--to row filter).
    summaries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def format(self) -> str:
        return "+".join(self.formats)

    @property
    def columns(self) -> list[str]:
        return view_columns(self.optional, self.address_table is not None)


def view_columns(optional: frozenset[str], address_ids: bool = False) -> list[str]:
    """The columns of the `raw_flows` view, in order: required, the optional ones given, the address ids
    (where the input has them), `_file`."""
    ids = list(schema.ADDRESS_IDS) if address_ids else []
    return [*schema.REQUIRED_NAMES, *sorted(optional, key=schema.OPTIONAL_NAMES.index), *ids, schema.FILE]
