"""DuckDB: the embedded engine. Scans Parquet in parallel and spills to disk past its memory limit."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from sentinel import interrupt
from sentinel.engines.functions import DUCKDB_MACROS
from sentinel.errors import ConfigError, UnreadableData, first_line

_T = TypeVar("_T")


class DuckDBEngine:
    name = "duckdb"
    ordered_rows = True  # with in_input_order(), row_number() OVER () follows the files' order

    def __init__(self, threads: int | None = None, memory_limit: str | None = None) -> None:
        # Every query that feeds a report sorts explicitly, so the engine need not keep input order
        # (about 10% faster aggregations).
        # No extension is ever downloaded: Sentinel makes no network access unless --resolve asks for one.
        # The allocator's background thread hands memory a query freed back to the system (one aggregation
        # over 100M flows, alone in a process: 2.1 GB kept after it without the thread, 0.25 GB with it).
        config = {
            "preserve_insertion_order": False,
            "autoinstall_known_extensions": False,
            "allocator_background_threads": True,
        }
        self._con = duckdb.connect(database=":memory:", config={**config, "allow_community_extensions": False})
        # DuckDB's own bar drew on the terminal during long queries (sentinel import of 10M flows), -q or not.
        self._con.execute("SET enable_progress_bar = false")
        self._memory_limit = memory_limit
        # One SET per user-given setting, so that an error names the option that caused it.
        if threads:
            self._set("threads", threads, "--threads", f"{threads} threads cannot be started")
        if memory_limit:
            self._set("memory_limit", memory_limit, "--memory-limit", f"{memory_limit!r} is not a size DuckDB accepts")
        self._registered: dict[str, pa.Table] = {}
        for macro in DUCKDB_MACROS:
            self._con.execute(macro)

    def _set(self, name: str, value: object, option: str, problem: str) -> None:
        try:
            self._con.execute(f"SET {name} = ?", [value])
        except duckdb.Error as exc:
            self._con.close()
            raise ConfigError(f"{option}: {problem} ({first_line(exc)})") from exc

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        return self._read(lambda: self._con.sql(sql, params=params or None).to_arrow_table())

    def _interruptible(self, run: Callable[[], _T]) -> _T:
        """Run a statement that Ctrl-C stops: as KeyboardInterrupt, however DuckDB reports it."""
        interrupt.check()
        try:
            with interrupt.cancelling(self._con.interrupt):
                result = run()
        except duckdb.InterruptException:  # interrupt.handler stopped the query
            raise KeyboardInterrupt from None
        except RuntimeError as exc:
            if "Query interrupted" not in str(exc):
                raise
            raise KeyboardInterrupt from None  # Python's own handler: DuckDB reports it as a RuntimeError
        interrupt.check()  # an interrupt that came as the statement finished
        return result

    def _read(self, run: Callable[[], _T]) -> _T:
        """Run what reads the input: interruptible, with its errors mapped to the user's (bad data, memory)."""
        try:
            return self._interruptible(run)
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            # What a damaged input file raises mid-scan; errors of our own SQL stay bugs (exit 1).
            raise UnreadableData(first_line(exc)) from exc
        except duckdb.OutOfMemoryException as exc:
            if self._memory_limit is None:
                raise
            raise ConfigError(
                f"--memory-limit: the analysis does not fit in {self._memory_limit} ({first_line(exc)}); "
                "give more, e.g. 1GB"
            ) from exc
        except duckdb.Error as exc:  # after OutOfMemoryException, a subclass of it
            # The Parquet reader's Thrift decoder raises the base class on a damaged page header
            # ("don't know what type"); a subclass (binder, conversion, ...) is a bug of ours.
            if type(exc) is not duckdb.Error:
                raise
            raise UnreadableData(first_line(exc)) from exc

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        # Its errors are the caller's to map (a COPY that cannot write is the output's, not the input's).
        self._interruptible(lambda: self._con.execute(sql, params or []))

    def register(self, name: str, table: pa.Table) -> None:
        self._registered[name] = table  # DuckDB reads the Arrow buffers in place; keep them alive
        self._con.register(name, table)

    def create_view(self, name: str, sql: str) -> None:
        # DuckDB binds a view as it is created, reading the footers of the files it names: a damaged one
        # fails here already (a fuzzed footer pyarrow had read: "TProtocolException: Invalid data").
        self._read(lambda: self._con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}"))

    def create_temp_table(self, name: str, sql: str) -> None:
        # In memory, spilled to DuckDB's temporary directory past --memory-limit like any other operator.
        self._read(lambda: self._con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}"))

    def drop_temp_table(self, name: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS temp.{name}")

    @contextlib.contextmanager
    def in_input_order(self) -> Iterator[None]:
        """Queries inside keep the input's order (slower: only for the rare paths that need it)."""
        self.execute("SET preserve_insertion_order = true")
        try:
            yield
        finally:
            self.execute("SET preserve_insertion_order = false")

    def local(self) -> DuckDBEngine:
        """The engine for small driver-side work: DuckDB is its own."""
        return self

    def close(self) -> None:
        self._con.close()
