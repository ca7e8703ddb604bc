"""SparkEngine.copy_footer: a Parquet file's footer, fetched through Spark's file systems, read here as the
file itself would be (row count, statistics, key-value metadata); None for what is no Parquet file."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sentinel.sources.parquet import chunk_statistics

pytestmark = pytest.mark.spark


@pytest.fixture
def spark_engine(spark_session):
    from sentinel.engines.spark_engine import SparkEngine

    return SparkEngine()


def test_a_footer_copy_reads_as_the_whole_file(spark_engine, tmp_path):
    table = pa.table({"n": pa.array(range(5000), pa.int64()), "s": [f"x{i}" for i in range(5000)]})
    table = table.replace_schema_metadata({b"sentinel.mark": b"7"})
    path = tmp_path / "f.parquet"
    pq.write_table(table, path, row_group_size=1000)
    copy = tmp_path / "copy.parquet"
    assert spark_engine.parquet_files(path.as_uri()) == [f"file://{path}"]
    assert spark_engine.copy_footer(f"file://{path}", copy) == path.stat().st_size
    assert copy.stat().st_size < path.stat().st_size / 4
    whole, footer = pq.ParquetFile(path).metadata, pq.ParquetFile(copy).metadata
    assert (footer.num_rows, footer.num_row_groups, footer.metadata) == (5000, 5, whole.metadata)
    assert chunk_statistics(str(copy)) == chunk_statistics(str(path))


@pytest.mark.parametrize("content", [None, b"", b"PAR1", b"PAR1" + b"x" * 40, b"x" * 40 + b"\xff\x00\x00\x00PAR1"])
def test_no_footer_is_none(spark_engine, tmp_path, content):
    path = tmp_path / "f.parquet"
    if content is not None:
        path.write_bytes(content)
    assert spark_engine.copy_footer(f"file://{path}", tmp_path / "copy.parquet") is None


def test_a_damaged_footer_is_copied_and_its_reader_says_so(spark_engine, tmp_path):
    path = tmp_path / "f.parquet"
    path.write_bytes(b"PAR1" + b"x" * 40 + b"\x10\x00\x00\x00PAR1")  # framed as a footer, not one
    copy = tmp_path / "copy.parquet"
    assert spark_engine.copy_footer(f"file://{path}", copy) == 52
    with pytest.raises(Exception):  # noqa: B017 (pyarrow's error types vary)
        pq.ParquetFile(copy)
