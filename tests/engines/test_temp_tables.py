"""Temporary tables on both engines: a SELECT computed once, read by several queries, freed after.

Detectors keep a small intermediate result (the scan detector's probed targets) so that the flows are read
once for it; a view, or a CTE on Spark, would recompute it for every query that reads it.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from sentinel.engines.base import Engine, temp_table
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.errors import UnreadableData


def _rows(engine: Engine, sql: str) -> list[dict]:
    return engine.query(sql).to_pylist()


def test_a_temp_table_holds_its_rows_until_dropped(any_engine):
    engine = any_engine
    engine.register("numbers", pa.table({"n": pa.array([1, 2, 3, 4], pa.int64())}))
    engine.create_temp_table("evens", "SELECT n FROM numbers WHERE n % 2 = 0")
    assert _rows(engine, "SELECT n FROM evens ORDER BY n") == [{"n": 2}, {"n": 4}]
    # Its rows were taken when it was made: a later change of what it was made from does not reach it.
    engine.register("numbers", pa.table({"n": pa.array([6, 8], pa.int64())}))
    assert _rows(engine, "SELECT count(*) AS c FROM evens e JOIN evens f ON e.n = f.n") == [{"c": 2}]
    # Made again under the same name: replaced.
    engine.create_temp_table("evens", "SELECT n FROM numbers")
    assert _rows(engine, "SELECT n FROM evens ORDER BY n") == [{"n": 6}, {"n": 8}]
    engine.drop_temp_table("evens")
    with pytest.raises(Exception, match=r"(?i)evens"):
        engine.query("SELECT * FROM evens")
    engine.drop_temp_table("evens")  # dropping what is not there is no error


def test_temp_table_context_frees_it_even_on_error(any_engine):
    engine = any_engine
    engine.register("numbers", pa.table({"n": pa.array([1, 2, 3], pa.int64())}))
    with pytest.raises(RuntimeError, match="in the block"), temp_table(engine, "kept", "SELECT n FROM numbers"):
        assert _rows(engine, "SELECT sum(n) AS s FROM kept")[0]["s"] == 6
        raise RuntimeError("in the block")
    with pytest.raises(Exception, match=r"(?i)kept"):
        engine.query("SELECT * FROM kept")


def test_a_damaged_input_read_into_a_temp_table_is_unreadable_data(tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    engine = DuckDBEngine()
    try:
        with pytest.raises(UnreadableData):
            engine.create_temp_table("t", f"SELECT * FROM read_parquet('{broken}')")
    finally:
        engine.close()
