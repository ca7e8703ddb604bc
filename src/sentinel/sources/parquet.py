"""Parquet flow files: the course schema (Sentinel's original input) and canonical files (`sentinel import`).

Course timestamps count 1/100 s since 00:00 of a day the file does not name. With --date they are anchored
to that day's midnight UTC; without it, to 1970-01-01 and shown day-relative, as the original showed them.
Where the values are plainly epoch hundredths (the whole capture lies after 2000-01-01 read as epoch
time, which no time of day reaches) they are read so, and the report says it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from sentinel import schema
from sentinel.errors import InputError, first_line
from sentinel.sources.base import ReadOptions, Sample, Scan, projection, proto_sql, sql_list
from sentinel.sources.dataset import shared_address_table, summaries_of

PARQUET_MAGIC = b"PAR1"
#: Parquet key-value metadata that `sentinel import` writes: "true" where times are of an unknown day.
RELATIVE_KEY = b"sentinel.relative_time"
#: `sentinel import` marks files of inputs that carried no byte counts (their flows read 0 bytes each way).
BYTES_UNKNOWN_KEY = b"sentinel.bytes_unknown"
#: 2000-01-01 00:00 UTC in hundredths of a second: no time of day is that large.
EPOCH_CS_FLOOR = 946_684_800 * schema.COURSE_TICKS_PER_SECOND
_US_PER_CS = schema.US_PER_SECOND // schema.COURSE_TICKS_PER_SECOND
# Course values beyond this would overflow microseconds as int64: they become unreadable times.
_MAX_CS = (2**63 - 1) // _US_PER_CS // 2


def read_schema(path: str) -> pa.Schema:
    try:
        return pq.read_schema(os.path.abspath(path))  # absolute: "day-12:00.parquet" is not a URI
    except Exception as exc:  # pyarrow raises several types for a damaged footer (ArrowInvalid, OSError, ...)
        raise InputError(path, f"not a readable Parquet file ({first_line(exc)})") from exc


def _kind_of(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_dictionary(arrow_type):
        return _kind_of(arrow_type.value_type)
    if pa.types.is_floating(arrow_type):
        return "float"
    return str(arrow_type)


_EXPECTED_KIND = {"BIGINT": "integer", "INTEGER": "integer", "VARCHAR": "string", "DOUBLE": "float"}


def check_types(path: str, file_schema: pa.Schema, wanted: dict[str, str]) -> None:
    """Each wanted column (name -> engine type) has a usable type; floats pass for integer counters."""
    names = file_schema.names
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(path, f"column(s) {', '.join(duplicated)} appear more than once")
    for name, sql_type in wanted.items():
        kind = _kind_of(file_schema.field(name).type)
        expected = _EXPECTED_KIND[sql_type]
        # Byte counters and ports written as floats by pandas (NaN-able) are accepted; anything else is not.
        ok = kind == expected or (expected == "integer" and kind == "float" and name != schema.COURSE_TIMESTAMP)
        ok = ok or (expected == "float" and kind == "integer")
        if not ok:
            raise InputError(path, f"column {name} is {file_schema.field(name).type}, expected {expected}")


_NON_NEGATIVE = (schema.PORT, schema.UP_BYTES, schema.DOWN_BYTES)
_NON_EMPTY = (schema.SRC_IP, schema.DST_IP)


@dataclass(frozen=True)
class ChunkStats:
    """One column chunk's statistics as DuckDB's parquet_metadata() gives them (min/max as text)."""

    physical_type: str
    null_count: int | None
    min: str | None
    max: str | None
    unsigned: bool


def chunk_statistics(path: str) -> list[dict[str, ChunkStats]]:
    """Per row group, each column's statistics.

    Read by DuckDB, not pyarrow: pyarrow's metadata reader aborts the whole process (a C++ exception it cannot
    raise) on some damaged footers (found by the fuzzer: "Definition level histogram size mismatch"); DuckDB
    raises an error, which the callers read as "nothing proven".
    """
    import duckdb

    target = os.path.abspath(path)
    with duckdb.connect() as con:
        unsigned = {
            name
            for name, converted, logical in con.execute(
                "SELECT name, converted_type, logical_type FROM parquet_schema(?)", [target]
            ).fetchall()
            if (converted or "").upper().startswith("UINT") or "issigned=0" in (logical or "").replace(" ", "").lower()
        }
        rows = con.execute(
            "SELECT row_group_id, path_in_schema, type, stats_null_count, stats_min_value, stats_max_value "
            "FROM parquet_metadata(?) ORDER BY row_group_id, column_id",
            [target],
        ).fetchall()
    groups: dict[int, dict[str, ChunkStats]] = {}
    for group, name, physical, nulls, low, high in rows:
        groups.setdefault(group, {})[name] = ChunkStats(physical, nulls, low, high, name in unsigned)
    return [groups[g] for g in sorted(groups)]


def statistics_prove_clean(
    path: str, columns: Sequence[str], max_time: int | None = None
) -> tuple[bool, int | None, int | None]:
    """Whether row-group statistics rule out every malformed-row reason, and the time column's range.

    Cheap (metadata only) and conservative: a missing statistic, a float or unsigned column or a value that
    could be out of range means "not proven", and the run validates rows instead. `columns[0]` is the time;
    `max_time` the largest magnitude of it that converts to a time (beyond, the row's time is unreadable).
    Damaged statistics prove nothing: the rows are then checked.
    """
    return _proof(_statistics(path), columns, max_time)


def _statistics(path: str) -> list[dict[str, ChunkStats]] | None:
    """chunk_statistics of a file, or None where they cannot be read (damaged statistics prove nothing)."""
    try:
        return chunk_statistics(path)
    except Exception:
        return None


def _proof(
    groups: list[dict[str, ChunkStats]] | None, columns: Sequence[str], max_time: int | None = None
) -> tuple[bool, int | None, int | None]:
    """statistics_prove_clean of statistics already read."""
    if groups is None:
        return False, None, None
    try:
        return _statistics_prove_clean(groups, columns, max_time)
    except Exception:  # any failure to parse statistics only means "not proven"
        return False, None, None


def _statistics_prove_clean(
    groups: list[dict[str, ChunkStats]], columns: Sequence[str], max_time: int | None
) -> tuple[bool, int | None, int | None]:
    first: int | None = None
    last: int | None = None
    for group in groups:
        for name in columns:
            chunk = group.get(name)
            if chunk is None or chunk.null_count is None or chunk.null_count or chunk.min is None or chunk.max is None:
                return False, None, None
            string = name in _NON_EMPTY or name == schema.PROTO  # proto text is checked by the context
            if string:
                if chunk.min == "":
                    return False, None, None
                continue
            if chunk.physical_type not in ("INT32", "INT64") or chunk.unsigned:
                return False, None, None  # uint64 above 2^63 would not fit: let the engine check
            low, high = int(chunk.min), int(chunk.max)
            if name in _NON_NEGATIVE and low < 0:
                return False, None, None
            if name == schema.PORT and high > 65535:
                return False, None, None
            if name == columns[0] and max_time is not None and max(-low, high) > max_time:
                return False, None, None  # a time the clock cannot convert becomes NULL: let the engine count it
            if name == columns[0]:
                first = low if first is None else min(first, low)
                last = high if last is None else max(last, high)
    return True, first, last


def proven_together(
    proofs: Sequence[tuple[bool, int | None, int | None]], rows: int
) -> tuple[bool, int | None, int | None]:
    """Files' statistics_prove_clean results taken together: whether they prove every one of their `rows`
    (some) well formed, and then the time range of them all."""
    if rows <= 0 or not all(ok for ok, _, _ in proofs):
        return False, None, None
    firsts = [f for _, f, _ in proofs if f is not None]
    lasts = [la for _, _, la in proofs if la is not None]
    return True, min(firsts, default=None), max(lasts, default=None)


def _largest(statistics: Iterable[list[dict[str, ChunkStats]] | None], columns: Sequence[str]) -> int | None:
    """The largest value of integer `columns` over files' row-group statistics; None where one is missing."""
    top = -1
    for groups in statistics:
        if groups is None:  # unreadable statistics
            return None
        for group in groups:
            for name in columns:
                chunk = group.get(name)
                if chunk is None or chunk.max is None or not chunk.max.lstrip("-").isdigit():
                    return None
                top = max(top, int(chunk.max))
    return top


def address_table_problem(path: str, largest_id: int | None) -> str | None:
    """Why the address table at `path` cannot serve files whose ids go up to `largest_id` (None: unknown), or
    None when it can: as the importer writes it (ids 0..n-1, int32, beside the texts), told from its metadata,
    read by DuckDB as chunk_statistics says why."""
    import duckdb

    try:
        groups = chunk_statistics(path)
        with duckdb.connect() as con:
            rows = con.execute("SELECT num_rows FROM parquet_file_metadata(?)", [os.path.abspath(path)]).fetchall()
        count = int(rows[0][0])
    except Exception as exc:  # a damaged or foreign file
        return f"is not a readable address table ({first_line(exc)})"
    ids = [g.get("id") for g in groups]
    if any(c is None or c.physical_type != "INT32" for c in ids) or any("ip" not in g for g in groups):
        return "has no id (int32) and ip columns"
    ranges = [(c.min, c.max) for c in ids if c is not None]
    if any(a is None or b is None for a, b in ranges):
        return "has no id statistics"
    low = min((int(a) for a, _ in ranges if a is not None), default=0)
    high = max((int(b) for _, b in ranges if b is not None), default=-1)
    if low != 0 or high != count - 1:
        return f"numbers its {count} addresses {low}..{high}, not 0..{count - 1}"
    if largest_id is None or largest_id >= count:
        return "does not name every address id of the files"
    return None


def _is_parquet(sample: Sample) -> bool:
    return sample.compression is None and sample.head.startswith(PARQUET_MAGIC)


def _metadata(path: str) -> pq.FileMetaData:
    try:
        return pq.ParquetFile(os.path.abspath(path)).metadata
    except Exception as exc:
        raise InputError(path, f"not a readable Parquet file ({first_line(exc)})") from exc


def _integer_columns(schemas: Sequence[pa.Schema]) -> frozenset[str]:
    """Columns of an integer type in every file: they need no whole-number check."""
    names = set.intersection(*(set(s.names) for s in schemas)) if schemas else set()
    return frozenset(n for n in names if all(pa.types.is_integer(s.field(n).type) for s in schemas))


def _scan_sql(paths: Sequence[str], columns: dict[str, str]) -> str:
    integers = _integer_columns([read_schema(p) for p in paths])
    return (
        f"SELECT {projection(columns, integers)} "
        f"FROM read_parquet({sql_list(paths)}, union_by_name = true, filename = '{schema.FILE}')"
    )


class CourseParquet:
    name: ClassVar[str] = "course"
    description: ClassVar[str] = "Parquet in the course schema (timestamp in 1/100 s since 00:00, src_ip, ...)"

    def sniff(self, sample: Sample) -> bool:
        if not _is_parquet(sample):
            return False
        names = set(read_schema(sample.path).names)
        return set(schema.COURSE_NAMES) <= names and schema.TS not in names

    def group_key(self, sample: Sample) -> Hashable:
        return "course"

    def scan(self, samples: Sequence[Sample], options: ReadOptions) -> Scan:
        paths = [s.path for s in samples]
        rows = 0
        clean = True
        first: int | None = None
        last: int | None = None
        every_range = True  # every file's statistics gave its time range
        extra: set[str] = set()
        wanted = {n: schema.BY_NAME[n].sql_type if n in schema.BY_NAME else "BIGINT" for n in schema.COURSE_NAMES}
        for path in paths:
            file_schema = read_schema(path)
            check_types(path, file_schema, wanted)
            extra |= set(file_schema.names) - set(schema.COURSE_NAMES)
            file_rows = _metadata(path).num_rows
            rows += file_rows
            ok, f, la = statistics_prove_clean(path, schema.COURSE_NAMES, max_time=_MAX_CS)
            clean = clean and ok
            if f is not None and la is not None:
                first = f if first is None else min(first, f)
                last = la if last is None else max(last, la)
            else:
                every_range = every_range and file_rows == 0
        if not every_range:
            # Statistics do not tell for some file: ask the files (one column, cheap). The smallest time of
            # the others alone would decide the clock of every file (epoch hundredths or a time of day), so
            # how the rows were split into files would change how their times are read.
            first = _min_timestamp(paths)
        clock = course_clock(schema.COURSE_TIMESTAMP, schema.COURSE_TIMESTAMP, first, options.date, paths)
        columns = course_columns(clock)
        proven = clean and rows > 0
        return Scan(
            format="parquet",
            files=tuple(paths),
            sql=_scan_sql(paths, columns),
            relative_time=clock.relative,
            rows=rows,
            proven_clean=proven,
            first_ts=clock.us(first) if proven and first is not None else None,
            last_ts=clock.us(last) if proven and last is not None else None,
            extra_columns=tuple(sorted(extra)),
            notes=clock.notes,
            line_numbers="row",
        )


@dataclass(frozen=True)
class CourseClock:
    """How course hundredths since midnight become `ts`: the SQL, and what the report must say."""

    sql: str  # the `ts` expression (microseconds since the epoch; NULL where the value cannot be one)
    offset_us: int  # the anchor: the --date's midnight UTC, or 0 (1970-01-01, or epoch hundredths)
    relative: bool  # no day known: times are shown relative to 00:00
    notes: tuple[str, ...]

    def us(self, hundredths: int) -> int:
        return hundredths * _US_PER_CS + self.offset_us


def course_clock(
    column: str, value_sql: str, first: int | None, date: dt.date | None, paths: Sequence[str]
) -> CourseClock:
    """The course time convention, for any reader of course hundredths (`value_sql`: an integer expression
    of the time column named `column`; `first`: its smallest value).

    Anchored to --date's midnight UTC; without a date, to 1970-01-01 and shown day-relative. Where the
    smallest value (`first`) is after 2000-01-01 read as epoch hundredths, which no time of day reaches,
    the values are epoch hundredths and read as absolute times. Files without any time (`first` None: no
    rows, or none with a readable time) have nothing to show day-relative: they are not called relative, so
    that an empty file beside others does not make the report say their times are of an unknown day.
    """
    notes: list[str] = []
    epoch = first is not None and first >= EPOCH_CS_FLOOR
    offset_us = 0
    if epoch:
        notes.append(
            f"{column} values of {', '.join(paths[:3])} are epoch hundredths of a second "
            "(all after 2000-01-01 read so, which no time of day reaches): read as absolute times"
            + (" and --date ignored." if date else ".")
        )
    elif date is not None:
        midnight = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)
        offset_us = int(midnight.timestamp()) * schema.US_PER_SECOND
    elif first is not None and len(paths) > 1:
        notes.append(f"{len(paths)} course-schema files without --date: their times are all read as one unknown day.")
    sql = f"CASE WHEN abs({value_sql}) <= {_MAX_CS} THEN ({value_sql})::BIGINT * {_US_PER_CS} + {offset_us} END"
    relative = not epoch and date is None and first is not None
    return CourseClock(sql, offset_us, relative=relative, notes=tuple(notes))


def course_columns(clock: CourseClock) -> dict[str, str]:
    """The canonical columns of a course file, by name (`_file` included), its time through `clock`."""
    return {
        schema.TS: clock.sql,
        schema.SRC_IP: schema.SRC_IP,
        schema.DST_IP: schema.DST_IP,
        schema.PROTO: proto_sql(schema.PROTO),
        schema.PORT: schema.PORT,
        schema.UP_BYTES: schema.UP_BYTES,
        schema.DOWN_BYTES: schema.DOWN_BYTES,
        schema.FILE: schema.FILE,
    }


def _min_timestamp(paths: Sequence[str]) -> int | None:
    import duckdb

    try:
        # Values beyond _MAX_CS are no time (those rows are malformed): they must not decide the clock.
        value = f"TRY_CAST({schema.COURSE_TIMESTAMP} AS BIGINT)"
        relation = duckdb.sql(
            f"SELECT min({value}) FILTER (WHERE abs({value}) <= {_MAX_CS}) FROM read_parquet({sql_list(paths)}, "
            "union_by_name = true)"
        )
        assert relation is not None  # a SELECT gives a relation
        rows = relation.fetchall()
    except duckdb.Error as exc:
        raise InputError(paths[0], f"cannot be read ({first_line(exc)})") from exc
    return rows[0][0] if rows else None


def explain_unrecognised(sample: Sample) -> InputError | None:
    """Why a file that looks like Parquet (by content or name) is not one Sentinel reads without --map."""
    if not _is_parquet(sample):
        if sample.path.lower().endswith(".parquet"):
            return InputError(sample.path, "not a readable Parquet file (it does not start with PAR1)")
        return None
    names = read_schema(sample.path).names
    missing = [n for n in schema.COURSE_NAMES if n not in names]
    return InputError(
        sample.path,
        f"missing column(s) {', '.join(missing)}; a course flow file needs {', '.join(schema.COURSE_NAMES)} "
        "(other column names: give --map)",
    )


class CanonicalParquet:
    """Files written by `sentinel import`: already canonical, read as they are."""

    name: ClassVar[str] = "canonical"
    description: ClassVar[str] = "Parquet in Sentinel's canonical schema (what sentinel import writes)"

    def sniff(self, sample: Sample) -> bool:
        if not _is_parquet(sample):
            return False
        return set(schema.REQUIRED_NAMES) <= set(read_schema(sample.path).names)

    def group_key(self, sample: Sample) -> Hashable:
        file_schema = read_schema(sample.path)
        optional = tuple(n for n in schema.OPTIONAL_NAMES if n in file_schema.names)
        metadata = file_schema.metadata or {}
        ids = set(schema.ADDRESS_IDS) <= set(file_schema.names)
        return optional, metadata.get(RELATIVE_KEY), metadata.get(BYTES_UNKNOWN_KEY), ids

    def scan(self, samples: Sequence[Sample], options: ReadOptions) -> Scan:
        paths = [s.path for s in samples]
        file_schema = read_schema(paths[0])
        present = [c.name for c in schema.COLUMNS if c.name in file_schema.names]
        for path in paths:
            check_types(path, read_schema(path), {n: schema.BY_NAME[n].sql_type for n in present})
        rows = sum(_metadata(p).num_rows for p in paths)
        columns = {n: n for n in present}
        # Address ids count only with the one address table of the files' dataset (group_key keeps files with
        # and without ids apart).
        statistics = {p: _statistics(p) for p in paths}  # read once: for the proof and for the ids
        has_ids = set(schema.ADDRESS_IDS) <= set(file_schema.names)
        address_table = shared_address_table(paths) if has_ids else None
        notes: tuple[str, ...] = ()
        if address_table is not None:
            why = address_table_problem(address_table, _largest(statistics.values(), schema.ADDRESS_IDS))
            if why:  # a damaged or foreign table: the texts in the files are right whatever it says
                notes = (f"{address_table} {why}: the dataset was read by its address texts.",)
                address_table = None
        if address_table is not None:
            columns |= {n: n for n in schema.ADDRESS_IDS}
        columns |= {schema.FILE: schema.FILE}
        # `sentinel import` marks course times of an unknown day, so that they read back day-relative.
        relative = (file_schema.metadata or {}).get(RELATIVE_KEY) == b"true"
        bytes_unknown = (file_schema.metadata or {}).get(BYTES_UNKNOWN_KEY) == b"true"
        # A dataset holds only rows that were well formed when imported: its statistics prove it, and the run
        # skips the validating pass as it does for a clean course file.
        proven, first, last = proven_together([_proof(statistics[p], schema.REQUIRED_NAMES) for p in paths], rows)
        return Scan(
            format="canonical",
            files=tuple(paths),
            sql=_scan_sql(paths, columns),
            optional=frozenset(n for n in present if n in schema.OPTIONAL_NAMES),
            rows=rows,
            relative_time=relative,
            proven_clean=proven,
            first_ts=first,
            last_ts=last,
            line_numbers="row",
            bytes_known=not bytes_unknown,
            address_table=address_table,
            summaries=summaries_of(paths) if address_table is not None else {},
            notes=notes,
        )
