"""Sentinel's own SQL functions: what the shared queries call where the engines' time functions differ.

Each is a DuckDB macro (defined on every DuckDB connection) and a Spark SQL template (applied by
sentinel.engines.dialect when a query is transpiled).
"""

from __future__ import annotations

from sentinel.schema import US_PER_HOUR

#: sentinel_local_hours(ts, zone): hours since the epoch of the zone's wall clock at `ts` (µs since the epoch).
DUCKDB_MACROS = (
    "CREATE OR REPLACE MACRO sentinel_local_hours(ts, zone) AS "
    f"epoch_us(date_trunc('hour', timezone(zone, to_timestamp(ts / 1000000.0)))) // {US_PER_HOUR}",
)

SPARK_TEMPLATES = {
    "sentinel_local_hours": "unix_micros(date_trunc('HOUR', from_utc_timestamp(timestamp_micros({0}), {1}))) "
    f"DIV {US_PER_HOUR}",
}
