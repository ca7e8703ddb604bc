"""What the pipeline needs from an engine: DuckDB (embedded, the default) or Spark (a cluster).

Analyses, detectors and readers hand the engine SQL in Sentinel's dialect (DuckDB's: see
sentinel.engines.dialect) over the canonical `flows` view and small registered tables; each engine runs it
as it is or translates it. Keeping this surface narrow is what lets both engines run the same definitions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

import pyarrow as pa


class Engine(Protocol):
    name: str
    ordered_rows: bool  # whether in_input_order() makes row_number() OVER () follow the files' order

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Run one SELECT and return its result as an Arrow table."""
        ...

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        """Run a statement that returns nothing useful."""
        ...

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable under `name` (small lookup tables: IP dimension, sets)."""
        ...

    def create_view(self, name: str, sql: str) -> None:
        """Define (or redefine) view `name` as the SELECT `sql`; nothing is read yet."""
        ...

    def create_temp_table(self, name: str, sql: str) -> None:
        """Run the SELECT `sql` now and keep its rows as table `name` (replacing one of that name) until
        drop_temp_table: for a small intermediate result that several later queries read, so that the flows
        are scanned once for it (a view, or a CTE on Spark, would be computed again by every reader)."""
        ...

    def drop_temp_table(self, name: str) -> None:
        """Free a table made by create_temp_table (nothing happens if there is none of that name)."""
        ...

    def in_input_order(self) -> AbstractContextManager[None]:
        """Queries inside keep the input's row order where the engine can."""
        ...

    def local(self) -> Any:
        """An embedded DuckDB engine for small driver-side work (the engine itself when it is DuckDB)."""
        ...

    def close(self) -> None: ...


@contextlib.contextmanager
def temp_table(engine: Engine, name: str, sql: str) -> Iterator[str]:
    """`with temp_table(engine, "t", sql):` the rows of `sql` as table `t` for the block, freed after it."""
    engine.create_temp_table(name, sql)
    try:
        yield name
    finally:
        engine.drop_temp_table(name)
