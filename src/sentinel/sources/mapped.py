"""Generic CSV (a header line; comma, tab or semicolon) and Parquet with other column names, mapped to the
canonical flow through --map (canonical column -> the file's column).

Without --map, CSV whose header already uses canonical names (`ts,src_ip,...`) or the course names
(`timestamp,src_ip,...`) is read as it is; Parquet stays with the Parquet readers. With --map, a file that
has any of the mapped columns is read here, before any other reader is asked (`claims`).

The time column's unit is --time-unit or guessed from its smallest and largest values (GUESS_RANGES), and
the report says which. Everything is one DuckDB scan: read_csv with every column as text, TRY_CAST to the
canonical types, so a bad value becomes NULL and its row is counted as malformed, never a crash.
"""

from __future__ import annotations

import csv
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa

from sentinel import schema
from sentinel.errors import InputError, first_line
from sentinel.sources.base import ReadOptions, Sample, Scan, column_names, projection, proto_sql, sql_list, sql_string
from sentinel.sources.parquet import PARQUET_MAGIC, _metadata, course_clock, read_schema

DELIMITERS = (",", "\t", ";")
TIME_UNITS = ("s", "ms", "us", "ns", "cs-midnight", "iso")

_Y1990 = 631_152_000  # 1990-01-01 00:00 UTC, epoch seconds
_Y2100 = 4_102_444_800  # 2100-01-01 00:00 UTC
#: What a time column's values must lie in (smallest and largest alike, low <= v < high) for its unit to be
#: guessed: epoch times of 1990-2100 in each unit, and course hundredths (since midnight: within 27.7 hours
#: of it, negative for flows begun the day before; or epoch hundredths of 2000-2100, as course files
#: are sometimes written, see sentinel.sources.parquet).
GUESS_RANGES: tuple[tuple[str, int, int], ...] = (
    ("cs-midnight", -(10**7), 10**7),
    ("s", _Y1990, _Y2100),
    ("cs-midnight", 946_684_800 * 100, _Y2100 * 100),
    ("ms", _Y1990 * 10**3, _Y2100 * 10**3),
    ("us", _Y1990 * 10**6, _Y2100 * 10**6),
    ("ns", _Y1990 * 10**9, _Y2100 * 10**9),
)

#: IANA protocol numbers some exporters write instead of names.
_PROTO_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp"}
#: An ISO 8601 time that ends in a zone (Z or an offset), after a time of day.
_ZONED = r"[T ]\d{1,2}:\d\d(:\d\d([.,]\d+)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?)\s*$"


def quote(name: str) -> str:
    """A column name as an SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Layout:
    """A file's columns, as this reader sees them: a CSV header (with its delimiter) or a Parquet schema."""

    kind: str  # "csv" or "parquet"
    names: tuple[str, ...]
    delimiter: str = ","
    compression: str | None = None


def csv_layout(sample: Sample) -> Layout | None:
    """The CSV header of a text file: delimiter, the most frequent of DELIMITERS in its first line."""
    if sample.compression is None and sample.head.startswith(PARQUET_MAGIC):
        return None
    if b"\x00" in sample.head:
        return None
    lines = sample.lines(1)
    if not lines:
        return None
    first = lines[0].lstrip("\ufeff")
    if first.startswith("#"):  # Zeek logs and other commented formats have readers of their own
        return None
    delimiter = max(DELIMITERS, key=first.count)
    if first.count(delimiter) == 0:
        return None
    names = tuple(column_names(next(csv.reader([first], delimiter=delimiter))))
    if not all(names) or len(set(names)) != len(names):
        return None
    return Layout("csv", names, delimiter, sample.compression)


def layout_of(sample: Sample) -> Layout | None:
    if sample.compression is None and sample.head.startswith(PARQUET_MAGIC):
        return Layout("parquet", tuple(read_schema(sample.path).names))
    return csv_layout(sample)


def _time_source(names: Sequence[str], mapping: dict[str, str]) -> str | None:
    if schema.TS in mapping:
        return mapping[schema.TS]
    for name in (schema.TS, schema.COURSE_TIMESTAMP):
        if name in names:
            return name
    return None


class MappedReader:
    name: ClassVar[str] = "csv"
    description: ClassVar[str] = (
        "CSV with a header (comma, tab or semicolon), and with --map Parquet, of other column names"
    )

    def claims(self, sample: Sample, options: ReadOptions) -> bool:
        """With --map, a file that has any mapped column is this reader's, before others are asked."""
        if not options.mapping:
            return False
        layout = layout_of(sample)
        return layout is not None and bool(set(options.mapping.values()) & set(layout.names))

    def sniff(self, sample: Sample) -> bool:
        """Without --map: CSV whose header has the canonical or course column names."""
        layout = csv_layout(sample)
        if layout is None:
            return False
        names = set(layout.names)
        required = set(schema.REQUIRED_NAMES) - {schema.TS}
        return required <= names and bool({schema.TS, schema.COURSE_TIMESTAMP} & names)

    def group_key(self, sample: Sample) -> Hashable:
        layout = layout_of(sample)
        if layout is None:
            raise InputError(sample.path, "has no CSV header line (column names, separated by , tab or ;)")
        return layout

    def scan(self, samples: Sequence[Sample], options: ReadOptions) -> Scan:
        layout = layout_of(samples[0])
        assert layout is not None  # group_key said so
        paths = [s.path for s in samples]
        sources = _resolve(paths[0], layout.names, options.mapping)
        if layout.kind == "parquet":
            for path in paths:
                names = read_schema(path).names
                duplicated = sorted({n for n in names if names.count(n) > 1})
                if duplicated:
                    raise InputError(path, f"column(s) {', '.join(duplicated)} appear more than once")
        source_sql = _source_sql(layout, paths)
        time_column = sources[schema.TS]
        ts_sql, relative, notes = _time_sql(layout, paths, source_sql, time_column, options)
        columns: dict[str, str] = {}
        for name, column in sources.items():
            ident = quote(column)
            if name == schema.TS:
                columns[name] = ts_sql
            elif name == schema.PROTO:
                numbers = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _PROTO_NUMBERS.items())
                columns[name] = f"CASE {proto_sql(ident)} {numbers} ELSE {proto_sql(ident)} END"
            else:
                columns[name] = ident
        columns[schema.FILE] = schema.FILE
        used = set(sources.values())
        csv_file = layout.kind == "csv"
        return Scan(
            format="csv" if csv_file else "parquet-mapped",
            files=tuple(paths),
            sql=f"SELECT {projection(columns)} FROM {source_sql}",
            optional=frozenset(n for n in sources if n in schema.OPTIONAL_NAMES),
            header_lines=1 if csv_file else 0,
            relative_time=relative,
            rows=None if csv_file else sum(_metadata(p).num_rows for p in paths),
            extra_columns=tuple(sorted(n for n in layout.names if n not in used)),
            notes=tuple(notes),
            line_numbers="line" if csv_file else "row",
        )


def _resolve(path: str, names: Sequence[str], mapping: dict[str, str]) -> dict[str, str]:
    """canonical column -> the file's column, for every required one and the optional ones present."""
    present = set(names)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    for canonical, given in mapping.items():
        if given not in present:
            raise InputError(path, f"no column {given!r} (--map {canonical}={given}); its columns: {shown}")
    sources: dict[str, str] = {}
    for col in schema.COLUMNS:
        column = _time_source(names, mapping) if col.name == schema.TS else mapping.get(col.name)
        if column is None and col.name in present:
            column = col.name
        if column is not None:
            sources[col.name] = column
        elif col.name in schema.REQUIRED_NAMES:
            raise InputError(path, f"no {col.name} column: give --map {col.name}=NAME; its columns: {shown}")
    return sources


def _source_sql(layout: Layout, paths: Sequence[str]) -> str:
    if layout.kind == "parquet":
        return f"read_parquet({sql_list(paths)}, union_by_name = true, filename = '{schema.FILE}')"
    columns = "{" + ", ".join(f"{sql_string(n)}: 'VARCHAR'" for n in layout.names) + "}"
    # Explicit text columns (no type sniffing: every value is converted by TRY_CAST, so a bad one is a
    # malformed row); short lines padded with NULL, so they too are malformed rows rather than a failed run.
    return (
        f"read_csv({sql_list(paths)}, header = true, auto_detect = false, all_varchar = true, "
        f"delim = {sql_string(layout.delimiter)}, quote = '\"', escape = '\"', columns = {columns}, "
        f"compression = '{layout.compression or 'none'}', null_padding = true, strict_mode = false, "
        f"filename = '{schema.FILE}')"
    )


@dataclass(frozen=True)
class _Values:
    """What one pass over the time column tells: numeric range, text values and their zones."""

    low: float | None
    high: float | None
    numbers: int
    texts: int
    naive: int  # texts without a zone
    example: str | None


def _time_values(paths: Sequence[str], source_sql: str, column: str) -> _Values:
    import duckdb

    x = quote(column)
    sql = f"""
        SELECT min(v), max(v), count(v), count(t), count(t) FILTER (NOT regexp_matches(t, '{_ZONED}')), any_value(t)
        FROM (SELECT TRY_CAST({x} AS DOUBLE) AS v,
                     CASE WHEN {x} IS NOT NULL AND TRY_CAST({x} AS DOUBLE) IS NULL THEN trim(CAST({x} AS VARCHAR)) END
                         AS t
              FROM {source_sql})
    """
    try:
        relation = duckdb.sql(sql)
        assert relation is not None  # a SELECT gives a relation
        row = relation.fetchall()[0]
    except duckdb.Error as exc:
        raise InputError(paths[0], f"cannot be read ({first_line(exc)})") from exc
    return _Values(*row)


def guess_unit(low: float, high: float) -> str | None:
    """The unit whose GUESS_RANGES range holds both the smallest and the largest value, or None."""
    for unit, lo, hi in GUESS_RANGES:
        if lo <= low < hi and lo <= high < hi:
            return unit
    return None


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _time_sql(
    layout: Layout, paths: Sequence[str], source_sql: str, column: str, options: ReadOptions
) -> tuple[str, bool, list[str]]:
    """The `ts` expression for the time column, whether times are day-relative, and notes for the report."""
    x = quote(column)
    where = f"time column {column} of {', '.join(paths[:3])}"
    if layout.kind == "parquet":
        arrow_type = read_schema(paths[0]).field(column).type
        if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
            if options.time_unit:
                return f"epoch_us({x})", False, [f"The {where} is a Parquet {arrow_type}: --time-unit ignored."]
            return f"epoch_us({x})", False, []
    unit = options.time_unit
    notes: list[str] = []
    values = None
    if unit is None or unit in ("iso", "cs-midnight"):
        values = _time_values(paths, source_sql, column)
    if unit is None:
        assert values is not None
        if values.texts == values.numbers == 0:
            unit = "us"  # no time at all (a header-only file): nothing to convert, any unit reads it
        elif values.texts > values.numbers and values.example and ("-" in values.example or "T" in values.example):
            unit = "iso"
        elif values.numbers == 0:
            raise InputError(paths[0], f"the {where} has no numeric or ISO 8601 values; give --time-unit")
        else:
            assert values.low is not None and values.high is not None  # numbers > 0: min and max exist
            unit = guess_unit(values.low, values.high)
            span = f"values {_fmt(values.low)} to {_fmt(values.high)}"
            if unit is None:
                raise InputError(
                    paths[0],
                    f"cannot guess the unit of the {where} ({span}): neither s, ms, us nor ns since the epoch "
                    "of a date in 1990-2100, nor cs-midnight (within +-10^7 hundredths); give --time-unit",
                )
            notes.append(
                f"The {where} was read as {unit}, {_UNIT_WORDS[unit]} (guessed from its {span}; see --time-unit)."
            )
        if unit == "iso":
            notes.append(f"The {where} was read as ISO 8601 text (guessed from its values; see --time-unit).")
    if unit == "s":
        return f"TRY_CAST({x} AS DECIMAL(20,6)) * {schema.US_PER_SECOND}", False, notes
    if unit == "ms":
        return f"TRY_CAST({x} AS DECIMAL(20,3)) * 1000", False, notes
    if unit == "us":
        return f"TRY_CAST({x} AS BIGINT)", False, notes
    if unit == "ns":
        return f"TRY_CAST({x} AS BIGINT) // 1000", False, notes
    if unit == "cs-midnight":
        assert values is not None
        first = int(values.low) if values.low is not None else None
        clock = course_clock(column, f"TRY_CAST({x} AS BIGINT)", first, options.date, paths)
        return clock.sql, clock.relative, notes + list(clock.notes)
    assert unit == "iso", unit
    assert values is not None
    text = f"CAST({x} AS VARCHAR)"
    zoned = f"epoch_us(TRY_CAST({text} AS TIMESTAMPTZ))"
    naive = f"epoch_us(TRY_CAST({text} AS TIMESTAMP))"  # a time without a zone is UTC, whatever the session's
    if values.naive:
        notes.append(f"{values.naive} ISO times without a zone in the {where} were read as UTC.")
    if values.naive == values.texts:
        return naive, False, notes
    if values.naive == 0:
        return zoned, False, notes
    return f"CASE WHEN regexp_matches({text}, '{_ZONED}') THEN {zoned} ELSE {naive} END", False, notes


_UNIT_WORDS = {
    "s": "seconds since the epoch",
    "ms": "milliseconds since the epoch",
    "us": "microseconds since the epoch",
    "ns": "nanoseconds since the epoch",
    "cs-midnight": "course hundredths of a second",
}


def explain_unmapped(sample: Sample, options: ReadOptions) -> InputError | None:
    """Why a file was not read with the --map given: it has none of the mapped columns."""
    if not options.mapping:
        return None
    layout = layout_of(sample)
    if layout is None:
        return None
    canonical, column = next(iter(options.mapping.items()))
    shown = ", ".join(layout.names[:12]) + (", ..." if len(layout.names) > 12 else "")
    return InputError(sample.path, f"no column {column!r} (--map {canonical}={column}); its columns: {shown}")
