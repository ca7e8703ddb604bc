"""Sentinel's SQL, and how it becomes Spark SQL.

Why this way (ENGINES.md measured the options on 20M flows): written in DuckDB's dialect, the queries run on
the default engine as they are, at its full speed (12.5 s for the reference set against 17.0 s through ibis,
13.4 s through SQLFrame and 21.0 s for a dialect-neutral SQL subset); a transpiler adds one dependency to the
Spark extra only, where ibis pins pyspark below 4.1 and SQLFrame pins duckdb below 2.1. Its known faults
(quantiles, regular expressions) are rewritten here and every result is compared across engines by tests.

Every query of an analysis, detector or reader is written once, in DuckDB's dialect (the default engine
runs it as it is, at full speed). For Spark it is transpiled by sqlglot, with the rewrites that sqlglot
does not make or makes wrongly (ENGINES.md measured them; both engines then run the same definition):

- `read_parquet([...], filename = '_file')` table functions become views the Spark engine registers from
  `spark.read.parquet` (text formats are read by DuckDB only: `sentinel import` turns them into Parquet);
- `regexp_full_match(x, p)` becomes `x RLIKE '^(?:p)\\z'` (`$` would also match before a final newline);
- Sentinel's own functions (sentinel.engines.functions: `sentinel_local_hours(ts, zone)`) become each
  engine's time functions (a DuckDB macro; Spark's from_utc_timestamp);
- `CREATE VIEW` becomes `CREATE TEMPORARY VIEW`;
- sums are exact: DuckDB sums integers as HUGEINT, Spark's BIGINT sum would overflow, so Spark sums
  DECIMAL(38, 0) (and HUGEINT casts become DECIMAL(38, 0): both reach Arrow as decimal128(38, 0)). The
  heavy passes' byte sums call `sentinel_exact_sum(x)` instead, which Spark computes as one BIGINT sum
  (a DECIMAL sum makes Spark aggregate by sorting); Spark's ANSI mode fails it on overflow, and the engine
  then runs the statement again with three BIGINT sums of x's parts (sentinel.engines.functions).

Quantiles, list aggregation and integer division are not used by the shared queries, or sqlglot maps them
exactly (`//` to `DIV`, both truncating towards zero).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp

from sentinel.engines.functions import SPARK_EXACT_TEMPLATES, SPARK_TEMPLATES
from sentinel.errors import ConfigError

#: (paths, options) -> the name of a registered view that reads those Parquet files (with `_file`).
ParquetViews = Callable[[list[str], dict[str, object]], str]


def to_spark(sql: str, parquet_view: ParquetViews, exact_sums: bool = False) -> str:
    """The Spark SQL of a DuckDB-dialect statement; ConfigError for what Spark cannot read. `exact_sums`:
    `sentinel_exact_sum` as three part sums, for the second run of a statement whose one-sum form overflowed."""
    templates = SPARK_EXACT_TEMPLATES if exact_sums else SPARK_TEMPLATES
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(lambda node: _rewrite(node, parquet_view, templates))
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "VIEW":
        props = tree.args.get("properties") or exp.Properties(expressions=[])
        props.append("expressions", exp.TemporaryProperty())
        tree.set("properties", props)
    return tree.sql(dialect="spark")


def tables_read(sql: str) -> set[str] | None:
    """The tables and views a SELECT reads (lower case, its own CTEs left out), or None when it reads
    anything else (a table function such as read_parquet) or is not a SELECT."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not isinstance(tree, exp.Query):
        return None
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    names: set[str] = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.args.get("db") or table.args.get("catalog"):
            return None
        names.add(table.name.lower())
    return names - ctes


def _rewrite(node: exp.Expr, parquet_view: ParquetViews, templates: dict[str, str]) -> exp.Expr:
    if isinstance(node, exp.ReadParquet):
        paths, options = _table_function_args(node)
        return exp.to_identifier(parquet_view(paths, options))
    if isinstance(node, exp.ReadCSV) or (
        isinstance(node, exp.Anonymous) and str(node.this).lower() in ("read_csv", "read_json", "read_ndjson")
    ):
        raise ConfigError(
            "--engine spark reads Parquet inputs (course files, datasets); convert text formats once with "
            "`sentinel import INPUT... --to DATASET/` and give --data DATASET/"
        )
    if isinstance(node, exp.RegexpFullMatch) or (
        isinstance(node, exp.Anonymous) and str(node.this).lower() == "regexp_full_match"
    ):
        this, pattern = _two_args(node)
        if not isinstance(pattern, exp.Literal):
            raise ValueError("regexp_full_match needs a literal pattern")
        # \z, not $: Java's $ also matches before a final newline ("tcp\n" must not pass).
        return exp.RegexpLike(this=this, expression=exp.Literal.string(f"^(?:{pattern.this})\\z"))
    if isinstance(node, exp.Sum) and not _is_decimal_cast(node.this):
        # DuckDB sums integers exactly (HUGEINT); Spark's BIGINT sum would overflow: sum as DECIMAL(38, 0).
        return exp.Sum(this=exp.cast(node.this, _EXACT))
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.INT128:
        if isinstance(node.this, exp.Sum):  # sqlglot does not revisit what a rewrite returns
            return _rewrite(node.this, parquet_view, templates)
        return exp.cast(node.this, _EXACT)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() in templates:
        template = templates[str(node.this).lower()]
        return sqlglot.parse_one(template.format(*(a.sql("spark") for a in node.expressions)), read="spark")
    return node


_EXACT = exp.DataType.build("DECIMAL(38, 0)")


def _is_decimal_cast(node: exp.Expression) -> bool:
    return isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DECIMAL


def _two_args(node: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
    if isinstance(node, exp.Anonymous):
        first, second = node.expressions
        return first, second
    return node.this, node.expression


def _table_function_args(node: exp.Expression) -> tuple[list[str], dict[str, object]]:
    """Paths and named options of `read_parquet(['a', 'b'], union_by_name = true, filename = '_file')`."""
    args = list(node.expressions) if node.expressions else [node.this]
    paths: list[str] = []
    options: dict[str, object] = {}
    for arg in args:
        if isinstance(arg, exp.Array):
            paths += [e.this for e in arg.expressions]
        elif isinstance(arg, exp.Literal):
            paths.append(arg.this)
        elif isinstance(arg, exp.EQ):
            value = arg.expression
            options[arg.this.name.lower()] = value.this if isinstance(value, exp.Literal) else value.sql()
    return paths, options
