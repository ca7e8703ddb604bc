"""Sentinel's own SQL functions: what the shared queries call where the engines' functions differ.

Each is a DuckDB macro (defined on every DuckDB connection) and a Spark SQL template (applied by
sentinel.engines.dialect when a query is transpiled).
"""

from __future__ import annotations

from sentinel.schema import US_PER_HOUR

#: sentinel_local_hours(ts, zone): hours since the epoch of the zone's wall clock at `ts` (µs since the epoch).
#: sentinel_exact_sum(x): the exact sum of an integer column (BIGINT at most), as HUGEINT / DECIMAL(38, 0).
DUCKDB_MACROS = (
    "CREATE OR REPLACE MACRO sentinel_local_hours(ts, zone) AS "
    f"epoch_us(date_trunc('hour', timezone(zone, to_timestamp(ts / 1000000.0)))) // {US_PER_HOUR}",
    "CREATE OR REPLACE MACRO sentinel_exact_sum(x) AS sum(x)::HUGEINT",
)

# Spark sums BIGINT exactly only as DECIMAL(38, 0), whose aggregation buffer is not fixed-width: Spark then
# aggregates by sorting, 1.7x slower per pass with many groups (237,310 destinations of 10M flows: 5.4 s
# against 3.5 s). So x is split into three 21-bit parts (the top one signed: x = a * 2^42 + b * 2^21 + c) whose
# BIGINT sums cannot overflow below 2^42 rows per group, and the parts' sums are recombined per group.
_PART = (1 << 21) - 1
_EXACT_SUM = (
    "CAST(CAST(sum(shiftright({0}, 42)) AS DECIMAL(38, 0)) * 4398046511104 "
    f"+ CAST(sum(shiftright({{0}}, 21) & {_PART}) AS DECIMAL(38, 0)) * 2097152 "
    f"+ CAST(sum({{0}} & {_PART}) AS DECIMAL(38, 0)) AS DECIMAL(38, 0))"
)

# Faster still: one BIGINT sum, which Spark's ANSI mode (the engine sets it) fails with ARITHMETIC_OVERFLOW
# rather than wrap; the engine then runs the statement again with _EXACT_SUM. A byte sum past 2^63 in one
# group (8 EiB) is so rare that the second run is the price of exactness, not of every run.
_FAST_SUM = "CAST(sum({0}) AS DECIMAL(38, 0))"

SPARK_TEMPLATES = {
    "sentinel_local_hours": "unix_micros(date_trunc('HOUR', from_utc_timestamp(timestamp_micros({0}), {1}))) "
    f"DIV {US_PER_HOUR}",
    "sentinel_exact_sum": _FAST_SUM,
}
#: The templates of a statement's second run, after its fast sums overflowed.
SPARK_EXACT_TEMPLATES = SPARK_TEMPLATES | {"sentinel_exact_sum": _EXACT_SUM}
