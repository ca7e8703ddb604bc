"""Sentinel's own SQL functions (sentinel.engines.functions) give the same values on both engines."""

from __future__ import annotations

import pyarrow as pa

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
