"""What the pipeline needs from an engine; DuckDB is the embedded default, Spark comes later.

Analyses hand the engine SQL over the canonical `flows` view and small registered tables; keeping that
surface narrow is what lets a second engine run the same analysis definitions.
"""

from __future__ import annotations

from typing import Any, Protocol

import pyarrow as pa


class Engine(Protocol):
    name: str

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Run one SELECT and return its result as an Arrow table."""
        ...

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        """Run a statement that returns nothing useful (CREATE VIEW, ...)."""
        ...

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable under `name` (small lookup tables: IP dimension, sets)."""
        ...

    def close(self) -> None: ...
