"""Sentinel's SQL (DuckDB dialect) transpiled to Spark SQL: the rewrites sqlglot does not make."""

import sys

import pytest

pytest.importorskip("sqlglot", reason="the spark extra (sqlglot) is not installed")

from sentinel.engines.dialect import to_spark
from sentinel.errors import ConfigError


def _views():
    seen = []

    def view(paths, options):
        seen.append((paths, options))
        return f"src_{len(seen) - 1}"

    return view, seen


def test_parquet_table_functions_become_registered_views():
    view, seen = _views()
    sql = to_spark("SELECT a FROM read_parquet(['/d/a*.parquet', '/d/b.parquet'], filename = '_file')", view)
    assert sql == "SELECT a FROM src_0"
    assert seen == [(["/d/a*.parquet", "/d/b.parquet"], {"filename": "_file"})]


def test_views_are_temporary_and_full_matches_anchor_the_whole_text():
    view, _ = _views()
    assert to_spark("CREATE OR REPLACE VIEW v AS SELECT 1", view).startswith("CREATE OR REPLACE TEMPORARY VIEW v")
    sql = to_spark("SELECT regexp_full_match(proto, '[a-z]+') FROM t", view)
    assert sql == "SELECT proto RLIKE '^(?:[a-z]+)\\\\z' FROM t"


def test_sentinel_functions_and_integer_division():
    view, _ = _views()
    sql = to_spark("SELECT sentinel_local_hours(ts, ?) AS h, ts // 3600000000 AS u FROM flows", view)
    assert "FROM_UTC_TIMESTAMP" in sql and "DIV 3600000000" in sql and "?" in sql


@pytest.mark.parametrize("reader", ["read_csv(['/a.csv'], header = true)", "read_json(['/a.json'])"])
def test_text_formats_are_refused_with_the_way_round(reader):
    view, _ = _views()
    with pytest.raises(ConfigError, match="sentinel import"):
        to_spark(f"SELECT * FROM {reader}", view)


def test_without_pyspark_the_spark_engine_says_what_to_install(monkeypatch, tmp_path, capsys):
    from sentinel.cli import main
    from tests.flows import flow, write_flows

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    path = write_flows(tmp_path / "d.parquet", [flow(1, "192.168.1.2", "8.8.8.8")])
    assert main(["--data", str(path), "--engine", "spark", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "sentinel: error: --engine spark needs pyspark: pip install 'sentinel-analysis[spark]' (and Java 17 or newer)"
    )


def test_sums_are_exact_decimals_as_duckdb_sums_are():
    view, _ = _views()
    sql = to_spark("SELECT sum(up_bytes)::HUGEINT AS u, sum(flows)::BIGINT AS f FROM t", view)
    assert sql == (
        "SELECT SUM(CAST(up_bytes AS DECIMAL(38, 0))) AS u, CAST(SUM(CAST(flows AS DECIMAL(38, 0))) AS BIGINT) AS f "
        "FROM t"
    )


def test_exact_sums_are_one_bigint_sum_on_spark_then_three_on_a_rerun():
    """sentinel_exact_sum(x) is first one BIGINT sum (ANSI mode fails it on overflow); the rerun sums x's three
    21-bit parts (BIGINT, fast), recombined as DECIMAL. Neither's sums are made DECIMAL again (a template's
    output is not rewritten: a DECIMAL sum makes Spark aggregate by sorting)."""
    view, _ = _views()
    assert to_spark("SELECT sentinel_exact_sum(up_bytes) AS u FROM t", view) == (
        "SELECT CAST(SUM(up_bytes) AS DECIMAL(38, 0)) AS u FROM t"
    )
    sql = to_spark("SELECT sentinel_exact_sum(up_bytes) AS u FROM t", view, exact_sums=True)
    assert sql == (
        "SELECT CAST(CAST(SUM(SHIFTRIGHT(up_bytes, 42)) AS DECIMAL(38, 0)) * 4398046511104 "
        "+ CAST(SUM(SHIFTRIGHT(up_bytes, 21) & 2097151) AS DECIMAL(38, 0)) * 2097152 "
        "+ CAST(SUM(up_bytes & 2097151) AS DECIMAL(38, 0)) AS DECIMAL(38, 0)) AS u FROM t"
    )


def test_tables_read_names_what_a_select_reads_but_its_own_ctes():
    from sentinel.engines.dialect import tables_read

    assert tables_read("SELECT c.*, t.n FROM cands c JOIN Totals t ON c.ip = t.ip") == {"cands", "totals"}
    sql = "WITH f AS (SELECT * FROM flows WHERE src IN (SELECT ip FROM ip_dim)) SELECT count(*) FROM f"
    assert tables_read(sql) == {"flows", "ip_dim"}
    assert tables_read("SELECT ip FROM dst_totals UNION SELECT DISTINCT src_ip FROM raw_flows") == {
        "dst_totals",
        "raw_flows",
    }
    assert tables_read("SELECT 1 AS one") == set()
    # Reading files, another schema's table, or not a SELECT: not a query over known tables.
    assert tables_read("SELECT * FROM read_parquet(['/d/a.parquet'])") is None
    assert tables_read("SELECT * FROM other.t") is None
    assert tables_read("CREATE VIEW v AS SELECT * FROM t") is None
