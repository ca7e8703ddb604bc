"""Inputs named by URI (hdfs://, s3a://, file://, ...): Parquet that the engine itself reads.

An engine that reads such paths (Spark, with the cluster's Hadoop settings) says which columns they have
(`Engine.parquet_columns`); the course and canonical layouts are told apart by those names, as for local
files. A dataset written by `sentinel import` keeps its address ids: its address table is read by the engine
too. Where the engine can copy the files' footers here (a few kB each), they prove the rows clean and give
the time range, as for local files, and find a dataset's summaries; else the run validates the rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sentinel import schema
from sentinel.engines.base import Engine
from sentinel.errors import InputError
from sentinel.sources.base import MIXED_CLOCKS, ReadOptions, Scan, projection, sql_list
from sentinel.sources.dataset import ADDRESS_SCHEMA, address_table_uri, summary_uri, sums_exactly
from sentinel.sources.parquet import (
    _MAX_CS,
    BYTES_UNKNOWN_KEY,
    RELATIVE_KEY,
    course_clock,
    course_columns,
    proven_together,
    statistics_prove_clean,
)
from sentinel.sources.summaries import SUMMARIES, SUMMARISED_BYTES, SUMMARISED_ROWS

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(text: str) -> bool:
    return bool(_URI.match(text))


def remote_scans(engine: Engine, uris: Sequence[str], options: ReadOptions) -> list[Scan]:
    columns_of = getattr(engine, "parquet_columns", None)
    if columns_of is None:
        raise InputError(uris[0], f"is a URI: --engine {engine.name} reads local files; --engine spark reads URIs")
    scans = []
    for uri in uris:
        names = set(columns_of(uri))
        if set(schema.REQUIRED_NAMES) <= names:
            present = [c.name for c in schema.COLUMNS if c.name in names]
            table = _address_table(columns_of, uri) if set(schema.ADDRESS_IDS) <= names else None
            ids = {n: n for n in schema.ADDRESS_IDS} if table else {}
            sql = _select({n: n for n in present} | ids | {schema.FILE: schema.FILE}, uri)
            optional = frozenset(n for n in present if n in schema.OPTIONAL_NAMES)
            scan = Scan(
                format="canonical",
                files=(uri,),
                sql=sql,
                optional=optional,
                line_numbers="row",
                address_table=table,
            )
            scans.append(_with_footers(engine, scan))
        elif set(schema.COURSE_NAMES) <= names:
            scans.append(_course(engine, uri, options))
        else:
            missing = sorted(set(schema.COURSE_NAMES) - names)
            raise InputError(uri, f"is not a flow dataset Sentinel reads (no {', '.join(missing)} column)")
    return scans


@dataclasses.dataclass(frozen=True)
class _Footer:
    local: Path  # the footer's copy, a Parquet file of no rows' data that metadata readers read as the file
    size: int  # of the file itself
    rows: int
    metadata: dict[bytes, bytes]


class _Footers:
    """Footers of files named by URI, copied by the engine (`copy_footer`: only their bytes cross the network)
    into a temporary folder, eight at a time (a cluster's file system answers each in milliseconds; a year of
    daily files has thousands). Use it as a context manager. An engine that cannot copy them (Spark Connect: no
    JVM on this side) lists no files here."""

    def __init__(self, engine: Engine) -> None:
        self._list = getattr(engine, "parquet_files", None)
        self._copy = getattr(engine, "copy_footer", None)
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Footers:
        self._folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="sentinel-footers-")))
        self._pool = self._stack.enter_context(ThreadPoolExecutor(8))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def files(self, uri: str) -> list[str]:
        """The files the engine reads as the Parquet at `uri` (none where it cannot list them)."""
        return (self._list(uri) or []) if self._list and self._copy else []

    def fetch(self, uris: Sequence[str | None], kind: str) -> list[_Footer | None]:
        """Each file's footer (None: no such file, or no readable footer)."""

        def one(i: int, uri: str | None) -> _Footer | None:
            local = self._folder / f"{kind}-{i}.parquet"
            size = None if uri is None or self._copy is None else self._copy(uri, local)
            facts = None if size is None else _footer_facts(local)
            return None if facts is None or size is None else _Footer(local, size, *facts)

        return list(self._pool.map(one, range(len(uris)), uris))


def _with_footers(engine: Engine, scan: Scan) -> Scan:
    """A dataset's scan with what its files' footers prove, as for local files: the rows well formed (no
    validating pass), the time range, the importer's marks, and the summaries that sum exactly its files.
    Where a footer cannot be had, the scan is left as it was: validated, read from the flows."""
    with _Footers(engine) as footers:
        parts = footers.files(scan.files[0])
        found = footers.fetch(parts, "part")
        if not parts or None in found:
            return scan
        every = [f for f in found if f is not None]
        marks = [{SUMMARISED_ROWS: str(f.rows).encode(), SUMMARISED_BYTES: str(f.size).encode()} for f in every]
        summaries: dict[str, tuple[str, ...]] = {}
        for name, summary in SUMMARIES.items() if scan.address_table else ():
            located = [summary_uri(p, name) for p in parts]
            copies = footers.fetch(located, name)
            if all(
                c is not None and sums_exactly(c.local, summary.schema, m) for c, m in zip(copies, marks, strict=True)
            ):
                summaries[name] = tuple(u for u in located if u is not None)
        proofs = [statistics_prove_clean(str(f.local), schema.REQUIRED_NAMES) for f in every]
    rows = sum(f.rows for f in every)
    proven, first, last = proven_together(proofs, rows)
    # `sentinel import` marks course times of an unknown day (read back day-relative) and inputs without byte
    # counts; a dataset's imports are alike, or mixed with dated ones (then its times are absolute, as for
    # such local files, and the report says so).
    relative = {f.metadata.get(RELATIVE_KEY) == b"true" for f in every}
    return dataclasses.replace(
        scan,
        relative_time=relative == {True},
        notes=scan.notes + ((MIXED_CLOCKS,) if len(relative) > 1 else ()),
        bytes_known=not any(f.metadata.get(BYTES_UNKNOWN_KEY) == b"true" for f in every),
        rows=rows,
        proven_clean=proven,
        first_ts=first,
        last_ts=last,
        summaries=summaries,
    )


def _footer_facts(path: Path) -> tuple[int, dict[bytes, bytes]] | None:
    """The row count and key-value metadata in a Parquet footer, read by DuckDB (pyarrow aborts the process
    on some damaged footers: sentinel.sources.parquet.chunk_statistics); None where it cannot be read."""
    import duckdb

    try:
        with duckdb.connect() as con:
            found = con.execute("SELECT sum(num_rows) FROM parquet_file_metadata(?)", [str(path)]).fetchone()
            kv = con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [str(path)]).fetchall()
    except Exception:
        return None
    return None if found is None or found[0] is None else (int(found[0]), {bytes(k): bytes(v) for k, v in kv})


def _address_table(columns_of: Callable[[str], list[str]], uri: str) -> str | None:
    """The address table of a dataset named by its folder (or one of its day partitions), if it has one."""
    table = address_table_uri(uri)
    try:
        return table if set(ADDRESS_SCHEMA.names) <= set(columns_of(table)) else None
    except InputError:  # no such file: a dataset imported before ids, or files that are no dataset
        return None


def _course(engine: Engine, uri: str, options: ReadOptions) -> Scan:
    raw = schema.COURSE_TIMESTAMP
    value = f"TRY_CAST({raw} AS BIGINT)"
    # The files' footers, where the engine can copy them, prove the rows clean and give the time range, as
    # for local course files; else the rows are validated and the first time asked of the files.
    with _Footers(engine) as footers:
        found = footers.fetch(footers.files(uri), "course")
        proofs = [statistics_prove_clean(str(f.local), schema.COURSE_NAMES, _MAX_CS) for f in found if f is not None]
    rows = sum(f.rows for f in found if f is not None)
    proven, first, last = proven_together(proofs, rows) if None not in found else (False, None, None)
    if not proven:
        first = engine.query(
            f"SELECT min({value}) FILTER (WHERE abs({value}) <= {_MAX_CS}) AS m FROM read_parquet({sql_list([uri])})"
        )["m"][0].as_py()
    clock = course_clock(raw, value, first, options.date, [uri])
    return Scan(
        format="parquet",
        files=(uri,),
        sql=_select(course_columns(clock), uri),
        relative_time=clock.relative,
        rows=rows if proven else None,
        proven_clean=proven,
        first_ts=clock.us(first) if proven and first is not None else None,
        last_ts=clock.us(last) if proven and last is not None else None,
        notes=clock.notes,
        line_numbers="row",
    )


def _select(columns: dict[str, str], uri: str) -> str:
    return (
        f"SELECT {projection(columns)} "
        f"FROM read_parquet({sql_list([uri])}, union_by_name = true, filename = '{schema.FILE}')"
    )
