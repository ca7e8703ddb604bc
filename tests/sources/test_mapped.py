"""The mapped reader ("csv"): CSV and Parquet with other column names, through --map and --time-unit."""

import dataclasses
import datetime as dt
import gzip

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from sentinel import pipeline
from sentinel.cli import main
from sentinel.config import parse_mapping
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.errors import InputError
from sentinel.report.json_report import to_dict
from sentinel.sources.base import ReadOptions
from sentinel.sources.registry import open_sources
from tests.flows import config_for

UNITS = ("country_volume", "hourly", "exfiltration", "botnet")
MAP = "ts=StartTime,src_ip=SrcAddr,dst_ip=DstAddr,proto=Proto,port=Dport,up_bytes=SrcBytes,down_bytes=DstBytes"
HEADER = "StartTime,SrcAddr,DstAddr,Proto,Dport,SrcBytes,DstBytes"
# 2024-04-19 10:00:00.123456 UTC and 10:00:01 UTC
T0 = 1_713_520_800_123_456
T1 = 1_713_520_801_000_000


def write_csv(path, times, header=HEADER, sep=","):
    rows = [sep.join([str(t), "192.168.1.2", "8.8.8.8", "TCP", "443", "100", "1000"]) for t in times]
    path.write_text("\n".join([header.replace(",", sep), *rows]) + "\n")
    return path


def read(path, **options):
    """(ts values in file order, the SourceInfo) as the registry reads `path`."""
    engine = DuckDBEngine()
    try:
        info = open_sources(engine, [str(path)], ReadOptions(mapping=parse_mapping(MAP), **options))
        return engine.query("SELECT ts FROM raw_flows")["ts"].to_pylist(), info
    finally:
        engine.close()


def run(path, mapping=MAP, **settings):
    config = dataclasses.replace(config_for(path, *UNITS), mapping=parse_mapping(mapping) if mapping else {})
    return to_dict(pipeline.run(dataclasses.replace(config, **settings)))


# -- the same capture, read directly and through a mapping ---------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "stratosphere-sdt-008-ctu-normal-40-day1.parquet",  # negative times (flows begun the day before)
        "stratosphere-slips-test18-remcos-exfil.parquet",  # an exfiltration alert
        "rita-missing-host-2024-04-19.parquet",
    ],
)
@pytest.mark.parametrize("date", [None, dt.date(2024, 4, 19)])
def test_mapped_csv_equals_the_parquet_it_came_from(shared_data, tmp_path, name, date):
    source = shared_data / "derived-course-schema" / name
    csv_path = tmp_path / "renamed.csv"
    duckdb.sql(
        f"COPY (SELECT timestamp AS StartTime, src_ip AS SrcAddr, dst_ip AS DstAddr, proto AS Proto, port AS Dport, "
        f"up_bytes AS SrcBytes, down_bytes AS DstBytes FROM read_parquet('{source}')) TO '{csv_path}' (HEADER)"
    )
    direct = run(source, mapping=None, date=date)
    mapped = run(csv_path, date=date)
    assert mapped["analyses"] == direct["analyses"]
    assert mapped["alerts"] == direct["alerts"]
    for key in ("rows", "flows", "first_seen", "last_seen"):
        assert mapped["input"][key] == direct["input"][key]
    assert mapped["input"]["format"] == "csv"
    assert any("StartTime" in n and "cs-midnight" in n and "guessed" in n for n in mapped["notes"])


# -- time units --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "unit, values",
    [
        ("s", ["1713520800.123456", "1713520801"]),
        ("ms", ["1713520800123.456", "1713520801000"]),
        ("us", [str(T0), str(T1)]),
        ("ns", [str(T0 * 1000 + 789), str(T1 * 1000)]),
        ("iso", ["2024-04-19T12:00:00.123456+02:00", "2024-04-19T10:00:01Z"]),
    ],
)
@pytest.mark.parametrize("given", [True, False])
def test_time_units_given_or_guessed(tmp_path, unit, values, given):
    ts, info = read(write_csv(tmp_path / "f.csv", values), time_unit=unit if given else None)
    assert ts == [T0, T1]
    assert not info.relative_time
    guessed = [n for n in info.notes if "guessed" in n]
    assert len(guessed) == (0 if given else 1)
    if not given:
        assert f"read as {unit}" in guessed[0] or (unit == "iso" and "ISO 8601" in guessed[0])


def test_iso_without_zone_is_utc_and_said(tmp_path):
    ts, info = read(write_csv(tmp_path / "f.csv", ["2024-04-19 10:00:00.123456", "2024-04-19T10:00:01"]))
    assert ts == [T0, T1]
    assert any("2 ISO times without a zone" in n and "UTC" in n for n in info.notes)


def test_iso_mixed_zones(tmp_path):
    ts, info = read(write_csv(tmp_path / "f.csv", ["2024-04-19T11:00:00.123456+01:00", "2024-04-19T10:00:01"]))
    assert ts == [T0, T1]
    assert any("1 ISO times without a zone" in n for n in info.notes)


def test_cs_midnight_anchored_by_date_like_course_parquet(tmp_path):
    path = write_csv(tmp_path / "f.csv", ["-100", "360000"])  # 23:59:59 the day before, 01:00
    ts, info = read(path, time_unit="cs-midnight", date=dt.date(2024, 4, 19))
    midnight = int(dt.datetime(2024, 4, 19, tzinfo=dt.UTC).timestamp()) * 1_000_000
    assert ts == [midnight - 1_000_000, midnight + 3_600_000_000]
    assert not info.relative_time


def test_cs_midnight_without_date_is_day_relative(tmp_path):
    ts, info = read(write_csv(tmp_path / "f.csv", ["-100", "360000"]))  # guessed
    assert ts == [-1_000_000, 3_600_000_000]
    assert info.relative_time
    assert any("read as cs-midnight" in n for n in info.notes)


def test_epoch_hundredths_are_read_as_absolute_like_course_parquet(tmp_path):
    ts, info = read(write_csv(tmp_path / "f.csv", ["171352080012", "171352080100"]), date=dt.date(2020, 1, 1))
    assert ts == [T0 - 3456, T1]
    assert not info.relative_time
    assert any("epoch hundredths" in n and "--date ignored" in n for n in info.notes)


def test_an_unguessable_magnitude_is_refused_naming_column_and_range(tmp_path):
    path = write_csv(tmp_path / "f.csv", ["50000000", "60000000"])
    with pytest.raises(
        InputError,
        match=r"f\.csv: cannot guess the unit of the time column StartTime .*"
        r"values 50000000 to 60000000.*give --time-unit",
    ):
        read(path)
    ts, _ = read(path, time_unit="s")  # said explicitly, it is read so
    assert ts == [50_000_000_000_000, 60_000_000_000_000]


def test_a_header_only_file_has_no_rows_and_no_error(tmp_path):
    assert read(write_csv(tmp_path / "f.csv", []))[0] == []


def test_text_that_is_no_time_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"time column StartTime of .* has no numeric or ISO 8601 values"):
        read(write_csv(tmp_path / "f.csv", ["yesterday", "today"]))


def test_mixed_magnitudes_are_not_guessed(tmp_path):
    with pytest.raises(InputError, match="values 0 to 1713520801"):
        read(write_csv(tmp_path / "f.csv", ["0", "1713520801"]))


# -- columns and mappings ------------------------------------------------------------------------------
def test_a_missing_mapped_column_is_named(tmp_path):
    path = write_csv(tmp_path / "f.csv", ["1713520801"], header=HEADER.replace("DstAddr", "Dst"))
    with pytest.raises(InputError, match=r"f\.csv: no column 'DstAddr' \(--map dst_ip=DstAddr\); its columns: "):
        read(path)


def test_a_required_column_neither_mapped_nor_present(tmp_path):
    path = write_csv(tmp_path / "f.csv", ["1713520801"])
    engine = DuckDBEngine()
    with pytest.raises(InputError, match=r"no port column: give --map port=NAME"):
        open_sources(engine, [str(path)], ReadOptions(mapping=parse_mapping(MAP.replace(",port=Dport", ""))))
    engine.close()


def test_a_mapping_file_with_comments(tmp_path):
    mapping = tmp_path / "argus.map"
    mapping.write_text(
        "# Argus ra -c , output\n"
        + "\n".join(f"{pair}   # {pair.split('=')[0]}" for pair in MAP.split(","))
        + "\n\n# optional\nduration=Dur\n"
    )
    header = HEADER + ",Dur,Label"
    path = tmp_path / "f.csv"
    path.write_text(header + "\n1713520801,192.168.1.2,8.8.8.8,udp,53,60,120,0.25,x\n")
    assert parse_mapping(str(mapping))["duration"] == "Dur"
    engine = DuckDBEngine()
    try:
        info = open_sources(engine, [str(path)], ReadOptions(mapping=parse_mapping(str(mapping))))
        row = engine.query("SELECT * FROM raw_flows").to_pylist()[0]
    finally:
        engine.close()
    assert info.optional == {"duration"}
    assert info.extra_columns == ("Label",)
    assert row | {"_file": None} == {
        "ts": T1,
        "src_ip": "192.168.1.2",
        "dst_ip": "8.8.8.8",
        "proto": "udp",
        "port": 53,
        "up_bytes": 60,
        "down_bytes": 120,
        "duration": 0.25,
        "_file": None,
    }


@pytest.mark.parametrize("sep", ["\t", ";"])
def test_delimiter_from_the_header(tmp_path, sep):
    ts, _ = read(write_csv(tmp_path / "f.txt", ["1713520801"], sep=sep))
    assert ts == [T1]


@pytest.mark.parametrize("compress", [gzip.compress, zstandard.ZstdCompressor().compress])
def test_compressed_csv_is_read_directly(tmp_path, compress):
    plain = write_csv(tmp_path / "f.csv", ["1713520800.123456", "1713520801"])
    packed = tmp_path / "flows.csv.z"  # the content says what it is, not the name
    packed.write_bytes(compress(plain.read_bytes()))
    ts, _ = read(packed)
    assert ts == [T0, T1]


def test_course_and_canonical_csv_without_map(tmp_path):
    course = tmp_path / "course.csv"
    course.write_text("timestamp,src_ip,dst_ip,proto,port,up_bytes,down_bytes\n360000,10.0.0.1,8.8.8.8,tcp,443,1,2\n")
    canonical = tmp_path / "canonical.csv"
    canonical.write_text(
        f"ts,src_ip,dst_ip,proto,port,up_bytes,down_bytes,src_port\n{T1},10.0.0.1,8.8.8.8,6,443,1,2,5\n"
    )
    for path, ts, relative, optional in ((course, 3_600_000_000, True, set()), (canonical, T1, False, {"src_port"})):
        engine = DuckDBEngine()
        try:
            info = open_sources(engine, [str(path)], ReadOptions())
            rows = engine.query("SELECT ts, proto FROM raw_flows").to_pylist()
        finally:
            engine.close()
        assert rows == [{"ts": ts, "proto": "tcp"}]  # protocol number 6 is tcp
        assert info.relative_time is relative
        assert info.optional == optional


def test_malformed_rows_cite_file_and_line(tmp_path):
    path = tmp_path / "f.csv"
    lines = [HEADER, "1713520801,10.0.0.1,8.8.8.8,tcp,443,1,2", "1713520802,10.0.0.1,8.8.8.8,tcp,http,1,2"]
    lines += ["1713520803,10.0.0.1,8.8.8.8,tcp,443", "1713520804,10.0.0.1,8.8.8.8,tcp,443,1,2"]
    path.write_text("\n".join(lines) + "\n")
    report = run(path)
    assert report["input"]["rows"] == 4
    assert report["input"]["rejected_examples"] == [
        f"{path}:3 (port missing or outside 0-65535)",
        f"{path}:4 (missing or negative bytes)",
    ]


def test_parquet_with_other_names_needs_and_follows_the_map(tmp_path):
    path = tmp_path / "other.parquet"
    table = pa.table(
        {
            "StartTime": pa.array([T0, T1], pa.int64()),
            "SrcAddr": ["192.168.1.2"] * 2,
            "DstAddr": ["8.8.8.8"] * 2,
            "Proto": ["TCP"] * 2,
            "Dport": pa.array([443, 443], pa.int32()),
            "SrcBytes": [100, 200],
            "DstBytes": [1000, 2000],
        }
    )
    pq.write_table(table, path)
    ts, info = read(path)
    assert ts == [T0, T1]
    assert info.formats == ("parquet-mapped",)
    assert info.rows == 2
    with pytest.raises(InputError, match="give --map"):
        open_sources(DuckDBEngine(), [str(path)], ReadOptions())
    # a timestamp-typed column is read as it is
    pq.write_table(table.set_column(0, "StartTime", pa.array([T0, T1], pa.timestamp("us", tz="UTC"))), path)
    assert read(path)[0] == [T0, T1]


def test_course_parquet_beside_a_mapped_csv_keeps_its_reader(tmp_path):
    from tests.flows import flow, write_flows

    write_flows(tmp_path / "course.parquet", [flow(360000, "10.0.0.1", "8.8.8.8")])
    write_csv(tmp_path / "mapped.csv", ["360000"])
    engine = DuckDBEngine()
    try:
        info = open_sources(engine, [str(tmp_path)], ReadOptions(mapping=parse_mapping(MAP)))
    finally:
        engine.close()
    assert info.formats == ("parquet", "csv")


# -- command line --------------------------------------------------------------------------------------
def test_cli_end_to_end(tmp_path, capsys):
    path = write_csv(tmp_path / "f.csv", ["1713520800.123456", "1713520801"])
    out = tmp_path / "r.json"
    assert main(["--data", str(path), "--map", MAP, "--time-unit", "s", "-td", "--json", str(out), "-q"]) == 0
    assert '"format": "csv"' in out.read_text()


@pytest.mark.parametrize(
    "args, status, message",
    [
        (["--map", "source=SrcAddr"], 2, "--map: 'source' is not a canonical column"),
        (["--map", "src_ip"], 2, "--map: 'src_ip' is neither COL=NAME pairs nor a readable file"),
        (["--map", MAP, "--time-unit", "hours"], 2, "--time-unit: invalid choice"),
        (["--map", MAP.replace("SrcAddr", "Source")], 3, "no column 'Source' (--map src_ip=Source)"),
    ],
)
def test_cli_mapping_errors_are_one_line(tmp_path, capsys, args, status, message):
    path = write_csv(tmp_path / "f.csv", ["1713520801"])
    assert main(["--data", str(path), *args, "-q"]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
