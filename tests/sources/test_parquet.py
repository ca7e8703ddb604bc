import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sentinel import pipeline, schema
from sentinel.errors import InputError
from sentinel.sources.parquet import statistics_prove_clean
from tests.flows import config_for, flow, write_flows

UNITS = ("country_volume", "hourly", "exfiltration", "botnet")


def test_missing_file_names_it(tmp_path):
    with pytest.raises(InputError, match=r"nope\.parquet: no such file"):
        pipeline.run(config_for(tmp_path / "nope.parquet", "hourly"))


def test_not_parquet(tmp_path):
    bad = tmp_path / "flows.parquet"
    bad.write_text("timestamp,src_ip\n1,2\n")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        pipeline.run(config_for(bad, "hourly"))


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        pipeline.run(config_for(tmp_path, "hourly"))


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"timestamp": [1], "src_ip": ["10.0.0.1"]}), path)
    with pytest.raises(InputError, match=r"missing column.*dst_ip, proto, port, up_bytes, down_bytes"):
        pipeline.run(config_for(path, "hourly"))


def test_wrong_column_type(tmp_path):
    path = tmp_path / "f.parquet"
    table = pa.table({c: ["x"] for c in ("timestamp", "src_ip", "dst_ip", "proto", "port", "up_bytes", "down_bytes")})
    pq.write_table(table, path)
    with pytest.raises(InputError, match="column timestamp is string, expected integer"):
        pipeline.run(config_for(path, "hourly"))


def test_malformed_rows_are_counted_not_analysed(tmp_path):
    good = [flow(i, "192.168.1.2", "8.8.8.8") for i in range(5)]
    bad = [
        flow(10, "192.168.1.2", "8.8.8.8", up=-5),
        flow(11, "not-an-ip", "8.8.8.8"),
        flow(12, "192.168.1.2", "999.1.1.1"),
        {**flow(13, "192.168.1.2", "8.8.8.8"), "dst_ip": None},
        {**flow(14, "192.168.1.2", "8.8.8.8"), "timestamp": None},
        flow(15, "192.168.1.2", "8.8.8.8", port=70000),
    ]
    report = pipeline.run(config_for(write_flows(tmp_path / "f.parquet", good + bad), *UNITS))
    assert report.input.rows == 11
    assert report.input.flows == 5
    assert report.input.rejected_rows == 6
    assert report.input.rejected_by_reason == {
        "missing or negative bytes": 1,
        "unparseable src_ip or dst_ip": 2,
        "missing dst_ip": 1,
        "missing or unreadable time": 1,
        "port missing or outside 0-65535": 1,
    }
    assert sum(r["flows"] for r in report.section("hourly").json()["rows"]) == 5
    assert report.section("country_volume").json()["rows"] == [
        {"country": "US", "flows": 5, "share": 1.0, "up_bytes": 500, "down_bytes": 5000}
    ]
    assert any("6 malformed rows" in n for n in report.notes)
    # The first few are quoted as file:row (reason), in file order.
    assert report.input.rejected_examples[0] == f"{tmp_path / 'f.parquet'}:row 6 (missing or negative bytes)"
    assert len(report.input.rejected_examples) == 5


def test_statistics_prove_clean_only_when_they_can(tmp_path):
    clean = write_flows(tmp_path / "clean.parquet", [flow(1, "10.0.0.1", "8.8.8.8")])
    assert statistics_prove_clean(str(clean), schema.COURSE_NAMES) == (True, 1, 1)
    negative = write_flows(tmp_path / "neg.parquet", [flow(1, "10.0.0.1", "8.8.8.8", up=-1)])
    assert statistics_prove_clean(str(negative), schema.COURSE_NAMES)[0] is False


def test_validated_and_proven_paths_agree(tmp_path):
    """The statistics shortcut must give the results the row-by-row validation gives."""
    rows = [flow(i * 1000, f"192.168.1.{i % 7}", f"8.8.{i % 5}.{i % 3}", up=i, down=2 * i) for i in range(200)]
    clean = write_flows(tmp_path / "clean.parquet", rows)
    # Same rows plus one malformed row force the validating path.
    dirty = write_flows(tmp_path / "dirty.parquet", [*rows, flow(5, "192.168.1.1", "8.8.8.8", down=-1)])
    a = pipeline.run(config_for(clean, *UNITS))
    b = pipeline.run(config_for(dirty, *UNITS))
    assert b.input.rejected_rows == 1
    for key in UNITS:
        assert a.section(key).json() == b.section(key).json()


def test_extra_columns_are_noted(tmp_path):
    path = tmp_path / "f.parquet"
    rows = [flow(1, "10.0.0.1", "8.8.8.8")]
    table = pa.table({**{k: [r[k] for r in rows] for k in rows[0]}, "label": ["Benign"]})
    pq.write_table(table, path)
    report = pipeline.run(config_for(path, "hourly"))
    assert any("label" in n for n in report.notes)


def test_damaged_pages_are_an_input_error(tmp_path):
    rows = [flow(i, f"192.168.1.{i % 50}", f"8.8.{i % 200}.{i % 7}", up=i, down=2 * i) for i in range(20_000)]
    path = write_flows(tmp_path / "f.parquet", rows)
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 4000] = bytes((b * 7 + 13) % 256 for b in data[middle : middle + 4000])
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"f\.parquet: cannot be read"):
        pipeline.run(config_for(path, *UNITS))


def test_a_fifo_is_refused_not_read(tmp_path):
    import os

    fifo = tmp_path / "flows.parquet"
    os.mkfifo(fifo)  # reading it would block for ever
    with pytest.raises(InputError, match="is not a regular file"):
        pipeline.run(config_for(fifo, "hourly"))


def test_an_empty_course_file_beside_dated_files_changes_nothing(tmp_path):
    """An empty course file has no times of an unknown day: the report must not say it has (found by
    tests/sources/test_properties.py, flows split across files of several formats)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    write_flows(folder / "empty.parquet", [])
    canonical = {**flow(1_713_484_800_000_000, "192.168.1.1", "8.8.8.8"), "ts": 1_713_484_800_000_000}
    write_flows(folder / "canonical.parquet", [canonical], schema.arrow_schema())
    alone = pipeline.run(config_for(folder / "canonical.parquet", *UNITS))
    mixed = pipeline.run(config_for(folder, *UNITS))
    assert not any("1970" in n for n in mixed.notes), mixed.notes
    assert mixed.notes == alone.notes and mixed.input.first_seen == alone.input.first_seen
    assert [s.json() for s in mixed.sections] == [s.json() for s in alone.sections]


def test_the_course_clock_does_not_depend_on_how_rows_are_split_into_files(tmp_path):
    """Whether course values are epoch hundredths is decided on the smallest time of all the files, also
    where some file's statistics do not tell it (here: a malformed port); an unreadable time never decides."""
    epoch = 171_348_480_000  # 2024-04-19 00:00 UTC in hundredths
    a = [flow(epoch + 100, "192.168.1.1", "8.8.8.8")]
    b = [flow(360_000, "192.168.1.2", "8.8.8.8", port=70_000), flow(720_000, "192.168.1.2", "8.8.8.8")]
    split = tmp_path / "split"
    split.mkdir()
    write_flows(split / "a.parquet", a)
    write_flows(split / "b.parquet", b)
    one = write_flows(tmp_path / "one.parquet", a + b)
    reports = [pipeline.run(config_for(p, *UNITS)) for p in (one, split)]
    assert reports[0].input.rejected_rows == reports[1].input.rejected_rows == 1
    assert [r.input.first_seen for r in reports] == [reports[0].input.first_seen] * 2
    assert reports[1].input.first_seen.relative  # times of day, as in one file: not epoch hundredths
    assert [s.json() for s in reports[1].sections] == [s.json() for s in reports[0].sections]
    # A time no clock can read (malformed) does not make epoch hundredths a time of day either.
    unreadable = write_flows(tmp_path / "unreadable.parquet", [*a, flow(-(2**62), "192.168.1.3", "8.8.8.8")])
    report = pipeline.run(config_for(unreadable, *UNITS))
    assert report.input.rejected_rows == 1 and not report.input.first_seen.relative
