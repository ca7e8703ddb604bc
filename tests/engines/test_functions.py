"""Sentinel's own SQL functions (sentinel.engines.functions) give the same values on both engines."""

from __future__ import annotations

import pyarrow as pa
import pytest

LARGEST, SMALLEST = 2**63 - 1, -(2**63)
#: Values at and beside each 21-bit boundary the Spark template splits on, both signs, and NULL.
VALUES = {
    "a": [LARGEST, LARGEST, LARGEST, 1],  # past 2^64
    "b": [SMALLEST, SMALLEST, -1],  # below -2^64
    "c": [2**42 - 1, 2**42, 2**21 - 1, 2**21, -(2**21), -(2**42) - 1, 0],
    "d": [None, 5, -7],
    "e": [None],  # no value: NULL, as a sum of none is
}


def test_exact_sum_is_exact_past_64_bits_on_every_engine(any_engine):
    keys = [k for k, values in VALUES.items() for _ in values]
    table = pa.table({"k": keys, "x": pa.array([v for values in VALUES.values() for v in values], pa.int64())})
    any_engine.register("registered", table)
    # A table the engine holds (Spark answers queries on registered tables alone in the driver's DuckDB).
    any_engine.create_temp_table("numbers", "SELECT k, x FROM registered")
    rows = any_engine.query("SELECT k, sentinel_exact_sum(x) AS s FROM numbers GROUP BY k ORDER BY k").to_pylist()
    expected = {
        k: (sum(v for v in values if v is not None) if any(v is not None for v in values) else None)
        for k, values in VALUES.items()
    }
    assert {r["k"]: (None if r["s"] is None else int(r["s"])) for r in rows} == expected


def _sums(engine, table: str) -> dict[str, int | None]:
    rows = engine.query(f"SELECT k, s FROM {table}").to_pylist()
    return {r["k"]: (None if r["s"] is None else int(r["s"])) for r in rows}


@pytest.mark.spark
def test_spark_sums_once_fast_and_reruns_exactly_only_past_64_bits(spark_session):
    """Spark's first form is one BIGINT sum: where it overflows, ANSI mode fails the statement and the engine
    runs it again with the exact form, for a query and a temporary table alike; where it does not, once."""
    from sentinel.engines.spark_engine import SparkEngine

    engine = SparkEngine()
    try:
        engine.register("registered", pa.table({"k": ["a", "a", "b"], "x": pa.array([LARGEST, 1, 5], pa.int64())}))
        engine.create_temp_table("numbers", "SELECT k, x FROM registered")
        summing = "SELECT k, sentinel_exact_sum(x) AS s FROM numbers GROUP BY k"
        engine.create_temp_table("small", "SELECT k, sentinel_exact_sum(x) AS s FROM numbers WHERE k = 'b' GROUP BY k")
        assert (_sums(engine, "small"), engine.exact_reruns) == ({"b": 5}, 0)
        assert {r["k"]: int(r["s"]) for r in engine.query(summing).to_pylist()} == {"a": 2**63, "b": 5}
        assert engine.exact_reruns == 1
        engine.create_temp_table("summed", summing)
        assert (_sums(engine, "summed"), engine.exact_reruns) == ({"a": 2**63, "b": 5}, 2)
        # An overflow in a statement without exact sums is its own error, not run again.
        with pytest.raises(Exception, match="ARITHMETIC_OVERFLOW"):
            engine.query("SELECT x + x AS s FROM numbers")
        assert engine.exact_reruns == 2
    finally:
        engine.close()
