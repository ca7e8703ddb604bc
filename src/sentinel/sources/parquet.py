"""Course-schema Parquet files: the canonical schema as it is, so the view is a plain projection."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sentinel import schema
from sentinel.engines.base import Engine
from sentinel.errors import InputError
from sentinel.files import unusable_reason
from sentinel.sources.base import SourceInfo


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


def check_readable(path: Path) -> None:
    """One clear error for the ways a path given by a user can fail before we parse it."""
    reason = unusable_reason(path, "a Parquet file")
    if reason:
        raise InputError(str(path), reason)


def read_schema(path: Path) -> pa.Schema:
    check_readable(path)
    try:
        return pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(str(path), f"not a readable Parquet file ({first_line})") from exc


def validate_columns(path: Path, file_schema: pa.Schema) -> tuple[str, ...]:
    """Check the canonical columns are present with usable types; return the unused extra columns."""
    names = set(file_schema.names)
    missing = [c.name for c in schema.COLUMNS if c.name not in names]
    if missing:
        raise InputError(
            str(path),
            f"missing column(s) {', '.join(missing)}; a flow file needs {', '.join(schema.COLUMN_NAMES)}",
        )
    for col in schema.COLUMNS:
        kind = _kind_of(file_schema.field(col.name).type)
        # Byte counters and ports written as floats by pandas (NaN-able) are accepted; anything else is not.
        ok = kind == col.kind or (col.kind == "integer" and kind == "float" and col.name != schema.TIMESTAMP)
        if not ok:
            raise InputError(str(path), f"column {col.name} is {file_schema.field(col.name).type}, expected {col.kind}")
    return tuple(n for n in file_schema.names if n not in schema.COLUMN_NAMES)


_NON_NEGATIVE = (schema.PORT, schema.UP_BYTES, schema.DOWN_BYTES)
_NON_EMPTY = (schema.SRC_IP, schema.DST_IP)


def statistics_prove_clean(metadata: pq.FileMetaData) -> tuple[bool, int | None, int | None]:
    """Whether row-group statistics rule out every malformed-row reason, and the timestamp range.

    Cheap (metadata only) and conservative: a missing statistic, a float column or a value that could
    be out of range means "not proven", and the run validates rows instead.
    """
    positions = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
    first: int | None = None
    last: int | None = None
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for col in schema.COLUMNS:
            chunk = group.column(positions[col.name])
            stats = chunk.statistics
            if stats is None or not stats.has_null_count or stats.null_count or not stats.has_min_max:
                return False, None, None
            if col.kind == "integer" and chunk.physical_type not in ("INT32", "INT64"):
                return False, None, None
            if col.name in _NON_NEGATIVE and stats.min < 0:
                return False, None, None
            if col.name == schema.PORT and stats.max > 65535:
                return False, None, None
            if col.name in _NON_EMPTY and stats.min in ("", b""):
                return False, None, None
            if col.name == schema.TIMESTAMP:
                first = stats.min if first is None else min(first, stats.min)
                last = stats.max if last is None else max(last, stats.max)
    return True, first, last


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def open_parquet(engine: Engine, path: Path) -> SourceInfo:
    """Validate `path` and define the `raw_flows` view over it (nothing is read yet: DuckDB scans lazily)."""
    file_schema = read_schema(path)
    extra = validate_columns(path, file_schema)
    metadata = pq.ParquetFile(path).metadata
    clean, first, last = statistics_prove_clean(metadata)
    projection = ", ".join(f"TRY_CAST({c.name} AS {_duck_type(c.arrow_type)}) AS {c.name}" for c in schema.COLUMNS)
    # The path is a literal in the view definition (DuckDB cannot bind a table-function argument in a
    # view); it is quoted, never interpolated raw.
    engine.execute(
        f"CREATE OR REPLACE VIEW raw_flows AS SELECT {projection} FROM read_parquet({_sql_string(str(path))})"
    )
    return SourceInfo(
        sources=(str(path),),
        format="parquet",
        rows=metadata.num_rows,
        extra_columns=extra,
        proven_clean=clean and metadata.num_rows > 0,
        first_ts=first,
        last_ts=last,
    )


def _duck_type(arrow_type: pa.DataType) -> str:
    return {pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.string(): "VARCHAR"}[arrow_type]
