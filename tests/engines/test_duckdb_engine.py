import pytest

from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.errors import ConfigError


def test_a_bad_thread_count_names_threads_not_memory_limit():
    with pytest.raises(ConfigError, match=r"^--threads: -1 threads cannot be started"):
        DuckDBEngine(threads=-1, memory_limit="1GB")


def test_a_bad_memory_limit_names_memory_limit():
    with pytest.raises(ConfigError, match=r"^--memory-limit: 'lots' is not a size"):
        DuckDBEngine(threads=1, memory_limit="lots")


def test_running_out_of_a_tiny_memory_limit_is_a_config_error():
    engine = DuckDBEngine(memory_limit="1KB")
    try:
        with pytest.raises(ConfigError, match="--memory-limit: the analysis does not fit in 1KB"):
            engine.query("SELECT i % 1000 AS k, count(*) FROM range(1000000) t(i) GROUP BY 1")
    finally:
        engine.close()


def test_no_extension_is_ever_downloaded():
    engine = DuckDBEngine()
    try:
        settings = engine.query(
            "SELECT name, value FROM duckdb_settings() "
            "WHERE name IN ('autoinstall_known_extensions', 'allow_community_extensions')"
        ).to_pylist()
    finally:
        engine.close()
    assert {r["name"]: r["value"] for r in settings} == {
        "autoinstall_known_extensions": "false",
        "allow_community_extensions": "false",
    }


def test_no_progress_bar_is_drawn():
    """DuckDB draws its own bar on the terminal during queries past 2 s (an import of 10M flows), even with -q."""
    engine = DuckDBEngine()
    try:
        value = engine.query("SELECT current_setting('enable_progress_bar') AS v")["v"][0].as_py()
    finally:
        engine.close()
    assert value is False
