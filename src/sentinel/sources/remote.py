"""Inputs named by URI (hdfs://, s3a://, file://, ...): Parquet that the engine itself reads.

An engine that reads such paths (Spark, with the cluster's Hadoop settings) says which columns they have
(`Engine.parquet_columns`); the course and canonical layouts are told apart by those names, as for local
files. Nothing is read on this machine: no statistics prove the rows clean, so the run validates them. A
dataset written by `sentinel import` keeps its address ids: its address table is read by the engine too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from sentinel import schema
from sentinel.engines.base import Engine
from sentinel.errors import InputError
from sentinel.sources.base import ReadOptions, Scan, projection, sql_list
from sentinel.sources.dataset import ADDRESS_SCHEMA, address_table_uri
from sentinel.sources.parquet import _MAX_CS, course_clock, course_columns

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
            scans.append(
                Scan(
                    format="canonical",
                    files=(uri,),
                    sql=sql,
                    optional=optional,
                    line_numbers="row",
                    address_table=table,
                )
            )
        elif set(schema.COURSE_NAMES) <= names:
            scans.append(_course(engine, uri, options))
        else:
            missing = sorted(set(schema.COURSE_NAMES) - names)
            raise InputError(uri, f"is not a flow dataset Sentinel reads (no {', '.join(missing)} column)")
    return scans


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
