"""Inputs named by URI (hdfs://, s3a://, file://, ...): Parquet that the engine itself reads.

An engine that reads such paths (Spark, with the cluster's Hadoop settings) says which columns they have
(`Engine.parquet_columns`); the course and canonical layouts are told apart by those names, as for local
files. A dataset written by `sentinel import` keeps its address ids: its address table is read by the engine
too, and its files' footers, copied here one by one (a few kB each), prove its rows clean and find its
summaries as for a local dataset. Course files are not read on this machine: the run validates their rows.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sentinel import schema
from sentinel.engines.base import Engine
from sentinel.errors import InputError
from sentinel.sources.base import ReadOptions, Scan, projection, sql_list
from sentinel.sources.dataset import ADDRESS_SCHEMA, address_table_uri, summary_uri, sums_exactly
from sentinel.sources.parquet import (
    _MAX_CS,
    BYTES_UNKNOWN_KEY,
    RELATIVE_KEY,
    course_clock,
    course_columns,
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


def _with_footers(engine: Engine, scan: Scan) -> Scan:
    """A dataset's scan with what its files' footers prove, as for local files: the rows well formed (no
    validating pass), the time range, and the summaries that sum exactly its files. The footers are copied
    one by one by the engine (`copy_footer`: only their bytes cross the network) and read here; an engine
    that cannot copy them (Spark Connect) leaves the scan as it was: validated, read from the flows."""
    list_files = getattr(engine, "parquet_files", None)
    copy_footer = getattr(engine, "copy_footer", None)
    parts = list_files(scan.files[0]) if list_files and copy_footer else None
    if not parts or copy_footer is None:
        return scan
    with tempfile.TemporaryDirectory(prefix="sentinel-footers-") as folder, ThreadPoolExecutor(8) as pool:

        def footers(uris: Sequence[str | None], kind: str) -> list[tuple[Path, int] | None]:
            """Each file's footer copy and size (None: no footer), fetched side by side (a cluster's file
            system answers each in milliseconds; a year of daily files has thousands)."""

            def one(i: int, uri: str | None) -> tuple[Path, int] | None:
                local = Path(folder) / f"{kind}-{i}.parquet"
                size = None if uri is None else copy_footer(uri, local)
                return None if size is None else (local, size)

            return list(pool.map(one, range(len(uris)), uris))

        marks: list[dict[bytes, bytes]] = []
        proofs = []
        kinds: set[tuple[bytes | None, bytes | None]] = set()  # the importer's marks: time and bytes
        for found in footers(parts, "part"):
            facts = None if found is None else _footer_facts(found[0])
            if found is None or facts is None:  # no footer, or a damaged one: nothing proven, rows validated
                return scan
            rows, kv = facts
            kinds.add((kv.get(RELATIVE_KEY), kv.get(BYTES_UNKNOWN_KEY)))
            marks.append({SUMMARISED_ROWS: str(rows).encode(), SUMMARISED_BYTES: str(found[1]).encode()})
            proofs.append((rows, *statistics_prove_clean(str(found[0]), schema.REQUIRED_NAMES)))
        summaries: dict[str, tuple[str, ...]] = {}
        for name, summary in SUMMARIES.items() if scan.address_table else ():
            located = [summary_uri(p, name) for p in parts]
            copies = footers(located, name)
            if all(
                found is not None and sums_exactly(found[0], summary.schema, m)
                for found, m in zip(copies, marks, strict=True)
            ):
                summaries[name] = tuple(u for u in located if u is not None)
    proven = sum(r for r, *_ in proofs) > 0 and all(ok for _, ok, _, _ in proofs)
    # `sentinel import` marks course times of an unknown day (read back day-relative) and inputs without byte
    # counts; a dataset's imports are alike or mixed with dated ones (then its times are absolute).
    return dataclasses.replace(
        scan,
        relative_time=all(relative == b"true" for relative, _ in kinds),
        bytes_known=not any(unknown == b"true" for _, unknown in kinds),
        rows=sum(r for r, *_ in proofs),
        proven_clean=proven,
        first_ts=min(f for *_, f, _ in proofs if f is not None) if proven else None,
        last_ts=max(la for *_, la in proofs if la is not None) if proven else None,
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
    first = engine.query(
        f"SELECT min({value}) FILTER (WHERE abs({value}) <= {_MAX_CS}) AS m FROM read_parquet({sql_list([uri])})"
    )["m"][0].as_py()
    clock = course_clock(raw, value, first, options.date, [uri])
    return Scan(
        format="parquet",
        files=(uri,),
        sql=_select(course_columns(clock), uri),
        relative_time=clock.relative,
        notes=clock.notes,
        line_numbers="row",
    )


def _select(columns: dict[str, str], uri: str) -> str:
    return (
        f"SELECT {projection(columns)} "
        f"FROM read_parquet({sql_list([uri])}, union_by_name = true, filename = '{schema.FILE}')"
    )
