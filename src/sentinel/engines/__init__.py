"""Query engines: DuckDB, embedded and the default; Apache Spark for clusters (the `spark` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentinel.errors import ConfigError

if TYPE_CHECKING:
    from sentinel.engines.base import Engine

ENGINES = ("duckdb", "spark")


def open_engine(
    name: str = "duckdb",
    threads: int | None = None,
    memory_limit: str | None = None,
    spark_master: str | None = None,
) -> Engine:
    """The engine a run asked for; ConfigError (one line) when it cannot be had."""
    if name == "duckdb":
        from sentinel.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine(threads=threads, memory_limit=memory_limit)
    if name == "spark":
        try:
            from sentinel.engines.spark_engine import SparkEngine
        except ImportError as exc:  # sqlglot missing: a broken install of the extra
            raise ConfigError(f"--engine spark: {exc}") from None
        return SparkEngine(master=spark_master)
    raise ConfigError(f"--engine: unknown engine {name!r}; known: {', '.join(ENGINES)}")
