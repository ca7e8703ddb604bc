"""Fixtures of the engine tests."""

from __future__ import annotations

import pytest

from sentinel.engines.base import Engine
from sentinel.engines.duckdb_engine import DuckDBEngine


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def any_engine(request):
    """An engine of each kind, built for the test and closed after it (Spark's shares the session's JVM)."""
    if request.param == "spark":
        request.getfixturevalue("spark_session")
        from sentinel.engines.spark_engine import SparkEngine

        engine: Engine = SparkEngine()
    else:
        engine = DuckDBEngine()
    yield engine
    engine.close()
