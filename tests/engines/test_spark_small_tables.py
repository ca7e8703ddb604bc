"""Spark: a query that reads only tables registered from Arrow is answered by the driver's DuckDB.

Those tables are small by contract and already on the driver; a Spark job would first ship them back to the
JVM. The answer is the default engine's own, so it is the same as on DuckDB by construction; queries that
read anything else (the flows, a view, a temporary table) still go to Spark.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from sentinel.engines.duckdb_engine import DuckDBEngine

pytestmark = pytest.mark.spark

TOTALS = pa.table({"ip": ["10.0.0.1", "8.8.8.8", "1.1.1.1"], "up": pa.array([2**62, 2**62, 5], pa.int64())})
DIM = pa.table({"ip": ["10.0.0.1", "8.8.8.8", "1.1.1.1"], "country": [None, "US", "AU"]})
SQL = (
    "SELECT d.country, count(*) AS hosts, sum(t.up)::HUGEINT AS up FROM totals t JOIN dim d ON t.ip = d.ip "
    "GROUP BY 1 ORDER BY 1 NULLS FIRST"
)


@pytest.fixture
def spark_engine(spark_session):
    from sentinel.engines.spark_engine import SparkEngine

    engine = SparkEngine()
    yield engine
    engine.close()


def test_registered_tables_only_are_answered_on_the_driver(spark_engine, monkeypatch):
    spark_engine.register("totals", TOTALS)
    spark_engine.register("dim", DIM)
    duckdb = DuckDBEngine()
    duckdb.register("totals", TOTALS)
    duckdb.register("dim", DIM)
    expected = duckdb.query(SQL)
    duckdb.close()

    def no_spark(sql, params):
        raise AssertionError(f"sent to Spark: {sql}")

    with monkeypatch.context() as patch:
        patch.setattr(spark_engine, "_sql", no_spark)
        got = spark_engine.query(SQL)
        assert got.equals(expected)
        assert got.to_pylist()[1] == {"country": "AU", "hosts": 1, "up": 5}
        # Registered again under the same name: the driver answers from the new rows.
        spark_engine.register("dim", DIM.slice(1))
        assert spark_engine.query("SELECT count(*) AS n FROM dim").to_pylist() == [{"n": 2}]


def test_a_view_or_temp_table_of_that_name_goes_to_spark(spark_engine):
    spark_engine.register("dim", DIM)
    spark_engine.create_view("dim", "SELECT 'x' AS ip")  # the name now means the view
    assert spark_engine.query("SELECT ip FROM dim").to_pylist() == [{"ip": "x"}]
    spark_engine.register("totals", TOTALS)
    spark_engine.create_temp_table("totals", "SELECT 1 AS n")
    assert spark_engine.query("SELECT n FROM totals").to_pylist() == [{"n": 1}]
    spark_engine.drop_temp_table("totals")
    with pytest.raises(Exception, match=r"(?i)totals"):
        spark_engine.query("SELECT * FROM totals")
