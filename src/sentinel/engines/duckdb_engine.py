"""DuckDB: the embedded engine. Scans Parquet in parallel and spills to disk past its memory limit."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from sentinel.errors import ConfigError, UnreadableData


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, threads: int | None = None, memory_limit: str | None = None) -> None:
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        # Every query that feeds a report sorts explicitly, so the engine need not keep input order
        # (about 10% faster aggregations).
        config["preserve_insertion_order"] = False
        try:
            self._con = duckdb.connect(database=":memory:", config=config)
        except duckdb.Error as exc:  # the only user-given settings here: threads and memory limit
            reason = str(exc).splitlines()[0]
            raise ConfigError(f"--memory-limit: {memory_limit!r} is not a size DuckDB accepts ({reason})") from exc
        self._registered: dict[str, pa.Table] = {}

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        try:
            return self._con.sql(sql, params=params or None).to_arrow_table()
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            # What a damaged input file raises mid-scan; errors of our own SQL stay bugs (exit 1).
            raise UnreadableData(str(exc).splitlines()[0]) from exc

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        self._con.execute(sql, params or [])

    def register(self, name: str, table: pa.Table) -> None:
        self._registered[name] = table  # DuckDB reads the Arrow buffers in place; keep them alive
        self._con.register(name, table)

    def close(self) -> None:
        self._con.close()
