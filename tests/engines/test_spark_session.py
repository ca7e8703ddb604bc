"""Spark's local session leaves nothing in the user's folder."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from sentinel.engines import spark_jvm

pytestmark = pytest.mark.spark


def test_a_local_session_keeps_its_warehouse_in_the_temporary_directory(spark_session, tmp_path, monkeypatch):
    # Spark makes its warehouse folder when its catalog starts; by default ./spark-warehouse, wherever the user
    # ran Sentinel (found in a CI clone after the Spark tests).
    monkeypatch.chdir(tmp_path)
    spark_session.sql("CREATE OR REPLACE TEMPORARY VIEW one AS SELECT 1 AS x")
    assert spark_session.sql("SELECT x FROM one").collect()[0]["x"] == 1
    warehouse = spark_session.conf.get("spark.sql.warehouse.dir")
    assert str(Path(tempfile.gettempdir()) / "sentinel-spark-warehouse") in warehouse
    assert not any(tmp_path.iterdir())


def test_the_local_jvm_runs_with_sentinels_collector_and_initial_heap(spark_session):
    # The options reach the JVM Sentinel launches (spark_jvm: measured on 2 cores), not only the option list.
    jvm = spark_session.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    memory = spark_session.sparkContext.getConf().get("spark.driver.memory")
    assert "-XX:+UseSerialGC" in arguments
    assert f"-Xmx{memory}" in arguments
    assert spark_jvm.heap("local[2]", memory)[0] in arguments  # -Xms
