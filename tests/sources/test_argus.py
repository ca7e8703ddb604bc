"""The Argus / CTU binetflow reader, on the real Stratosphere files and on small hand-written ones."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from pathlib import Path

import pytest

from sentinel import pipeline
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.errors import InputError
from sentinel.sources.base import ReadOptions
from sentinel.sources.registry import open_sources
from tests.flows import config_for

SLIPS = "stratosphere/slips-dataset"
HEADER = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,SrcPkts,Label"


def read_all(*paths: Path) -> tuple[dict, object]:
    """Every row the reader gives (malformed ones too): count, sums and time span; and the SourceInfo."""
    engine = DuckDBEngine()
    try:
        info = open_sources(engine, [str(p) for p in paths], ReadOptions())
        row = engine.query(
            "SELECT count(*) AS rows, sum(up_bytes)::BIGINT AS up, sum(down_bytes)::BIGINT AS down, "
            "min(ts) AS first, max(ts) AS last FROM raw_flows"
        ).to_pylist()[0]
        return row, info
    finally:
        engine.close()


def rows_of(path: Path) -> list[dict]:
    engine = DuckDBEngine()
    try:
        open_sources(engine, [str(path)], ReadOptions())
        engine.execute("SET preserve_insertion_order = true")
        return engine.query("SELECT * FROM raw_flows").to_pylist()
    finally:
        engine.close()


def reference(path: Path) -> dict:
    """The same figures computed by Python's csv module over the raw file: an independent reference."""
    with path.open(newline="") as fh:
        delimiter = "\t" if "\t" in fh.readline() else ","
        fh.seek(0)
        records = list(csv.DictReader(fh, delimiter=delimiter))

    def us(text: str) -> int:
        when = dt.datetime.strptime(text, "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=dt.UTC)
        return round(when.timestamp() * 1_000_000)

    has_src = "SrcBytes" in records[0]
    return {
        "rows": len(records),
        "up": sum(int(r["SrcBytes"]) for r in records) if has_src else 0,
        "down": sum(int(r["TotBytes"]) - int(r["SrcBytes"]) for r in records) if has_src else 0,
        "first": min(us(r["StartTime"]) for r in records),
        "last": max(us(r["StartTime"]) for r in records),
    }


def utc(text: str) -> int:
    return round(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1_000_000)


# name, rows (SOURCES.md), first and last StartTime read as UTC
REAL = [
    ("test5-mixed.binetflow", 300, "1970-01-01 01:00:00", "2018-05-10 10:52:47.283479"),
    ("test2-malicious.binetflow", 6751, "2019-04-04 16:23:00.325010", "2019-04-05 16:18:32.568314"),
    ("test3-mixed.binetflow", 89, "2018-12-18 14:00:00.000000", "2018-12-18 15:10:00.000001"),
    ("test4-malicious.binetflow", 394, "2018-09-27 22:40:52.362768", "2018-09-27 23:44:06.273127"),
    ("test11-portscan.binetflow", 66, "2019-04-04 16:24:47.672448", "2019-04-04 16:30:34.234728"),
    ("CTU-Malware-Capture-Botnet-207-1.binetflow", 23602, "1970-01-01 01:00:00", "1970-01-06 18:06:39.588770"),
    ("2013-10-21_capture-1-normal.binetflow", 2398, "2013-10-21 13:22:59.340835", "2013-10-21 17:52:35.433274"),
]


@pytest.mark.parametrize(("name", "rows", "first", "last"), REAL, ids=[r[0] for r in REAL])
def test_real_files_match_an_independent_reading(shared_data, name, rows, first, last):
    path = shared_data / SLIPS / name
    got, info = read_all(path)
    assert info.formats == ("argus",)
    assert got == reference(path)
    assert got["rows"] == rows
    assert (got["first"], got["last"]) == (utc(first), utc(last))
    assert any("read as UTC" in n for n in info.notes)
    assert any("show 1970 dates" in n for n in info.notes) == first.startswith("1970")


def test_relative_time_note_names_only_those_files(shared_data):
    relative, real = (
        shared_data / SLIPS / "CTU-Malware-Capture-Botnet-207-1.binetflow",
        shared_data / SLIPS / "test4-malicious.binetflow",
    )
    _, info = read_all(relative, real)  # same header: one scan
    [note] = [n for n in info.notes if "1970 dates" in n]
    assert str(relative) in note and str(real) not in note


def test_real_file_runs_with_few_malformed_rows(shared_data):
    """test5: the Argus management record (Proto man, addresses 0) and one llc flow between MAC addresses
    are not IP flows: set aside as malformed, cited by line; every other row is analysed."""
    path = shared_data / SLIPS / "test5-mixed.binetflow"
    report = pipeline.run(config_for(path, "hourly", "country_volume"))
    assert report.input.rows == 300
    assert report.input.rejected_by_reason == {"unparseable src_ip or dst_ip": 2}
    assert list(report.input.rejected_examples) == [
        f"{path}:2 (unparseable src_ip or dst_ip)",
        f"{path}:3 (unparseable src_ip or dst_ip)",
    ]


def test_file_without_src_bytes_has_unknown_bytes_said(shared_data):
    path = shared_data / SLIPS / "2013-10-21_capture-1-normal.binetflow"
    got, info = read_all(path)
    assert (got["up"], got["down"]) == (0, 0)
    assert any("no SrcBytes column" in n and "unknown" in n for n in info.notes)
    assert "TotBytes" in info.extra_columns
    assert "up_packets" not in info.optional


def test_columns_and_optional_fields(shared_data):
    path = shared_data / SLIPS / "test11-portscan.binetflow"
    _, info = read_all(path)
    assert info.optional == {"src_port", "duration", "up_packets", "down_packets", "conn_state"}
    assert set(info.extra_columns) == {"Dir", "sTos", "dTos", "Label"}
    first = rows_of(path)[0]
    # 2019/04/04 16:24:47.672448,63.822830,tcp,10.8.0.69,56101,   ->,14.1.11.113,999,S0,0,0,31,8764,1887,15,
    assert first == {
        "ts": utc("2019-04-04 16:24:47.672448"),
        "src_ip": "10.8.0.69",
        "dst_ip": "14.1.11.113",
        "proto": "tcp",
        "port": 999,
        "up_bytes": 1887,
        "down_bytes": 8764 - 1887,
        "src_port": 56101,
        "duration": 63.82283,
        "up_packets": 15,
        "down_packets": 31 - 15,
        "conn_state": "S0",
        "_file": str(path),
    }


LINES = [
    "2018/05/10 12:35:13.604286,1.5,TCP,10.0.0.1,40000,   ->,8.8.8.8,443,CON,0,0,10,1000,300,4,flow=x",
    "2018/05/10 12:35:14.000000,0.0,icmp,10.0.0.1,0x0008,   ->,8.8.8.8,0x0303,ECO,0,,2,144,144,2,",
    "2018/05/10 12:35:15.000000,0.0,arp,10.0.0.1,,  who,10.0.0.2,,CON,,,2,84,42,1,",
    "2018/05/10 12:35:16.000000,0.0,igmp,10.0.0.1,,   ->,224.0.0.251,,INT,0,,1,46,46,1,",
]


def write(path: Path, lines: list[str], delimiter: str = ",", header: str = HEADER) -> Path:
    path.write_text("\n".join(x.replace(",", delimiter) for x in [header, *lines]) + "\n")
    return path


def test_tab_and_comma_read_alike(tmp_path):
    comma = rows_of(write(tmp_path / "a.binetflow", LINES))
    tab = rows_of(write(tmp_path / "b.binetflow", LINES, "\t"))
    assert [{**r, "_file": ""} for r in comma] == [{**r, "_file": ""} for r in tab]
    assert len(comma) == 4
    assert comma[0]["proto"] == "tcp"  # lower case
    assert comma[0]["ts"] == utc("2018-05-10 12:35:13.604286")


def test_hex_ports_and_portless_protocols(tmp_path):
    rows = rows_of(write(tmp_path / "a.binetflow", LINES))
    assert [(r["proto"], r["src_port"], r["port"]) for r in rows] == [
        ("tcp", 40000, 443),
        ("icmp", 8, 0x0303),
        ("arp", 0, 0),
        ("igmp", 0, 0),
    ]


def test_dashed_dates_are_read_too(tmp_path):
    rows = rows_of(write(tmp_path / "a.binetflow", [LINES[0].replace("2018/05/10", "2018-05-10")]))
    assert rows[0]["ts"] == utc("2018-05-10 12:35:13.604286")


def test_garbage_is_malformed_and_cited_by_line(tmp_path):
    lines = [
        LINES[0],
        LINES[1],
        "this is not a flow",
        LINES[0].replace(",443,", ",,"),  # a tcp flow without a destination port
        LINES[0].replace(",443,", ",http,"),  # text that is no port
        LINES[0].replace("2018/05/10 12:35:13.604286", "yesterday"),
        LINES[0].replace(",1000,300,", ",200,300,"),  # SrcBytes above TotBytes: negative download
        LINES[3],
    ]
    path = write(tmp_path / "a.binetflow", lines)
    report = pipeline.run(config_for(path, "hourly"))
    assert (report.input.rows, report.input.flows) == (8, 3)
    assert report.input.rejected_by_reason == {
        "missing or unreadable time": 2,  # the garbage line and "yesterday"
        "missing src_ip": 1,  # the garbage line (a row may have several reasons)
        "missing dst_ip": 1,
        "missing or invalid proto": 1,
        "port missing or outside 0-65535": 3,
        "missing or negative bytes": 2,
    }
    assert list(report.input.rejected_examples) == [
        f"{path}:4 (missing or unreadable time)",
        f"{path}:5 (port missing or outside 0-65535)",
        f"{path}:6 (port missing or outside 0-65535)",
        f"{path}:7 (missing or unreadable time)",
        f"{path}:8 (missing or negative bytes)",
    ]


def test_compressed_and_mixed_headers(tmp_path):
    plain = write(tmp_path / "a.binetflow", LINES)
    packed = tmp_path / "b.binetflow.gz"
    packed.write_bytes(gzip.compress(write(tmp_path / "x", LINES[:2], "\t").read_bytes()))
    (tmp_path / "x").unlink()
    no_pkts = write(
        tmp_path / "c.binetflow",
        ["2018/05/10 12:35:13.604286,1.5,tcp,10.0.0.1,40000,   ->,8.8.8.8,443,CON,0,0,10,1000,300,"],
        header=HEADER.replace(",SrcPkts", ""),
    )
    got, info = read_all(plain, packed, no_pkts)
    assert got["rows"] == 7
    assert got["up"] == 300 + 144 + 42 + 46 + 300 + 144 + 300
    assert "up_packets" not in info.optional  # one group lacks SrcPkts
    assert any("present in some inputs only" in n for n in info.notes)


def test_missing_columns_are_named(tmp_path):
    path = write(tmp_path / "a.binetflow", [], header="StartTime,Proto,SrcAddr,DstAddr,Dport")
    with pytest.raises(InputError, match=r"a\.binetflow: Argus header lacks column\(s\) TotBytes"):
        read_all(path)


def test_forced_format_on_a_file_without_header(tmp_path):
    path = tmp_path / "empty.binetflow"
    path.write_text("")
    with pytest.raises(InputError, match="is empty"):
        open_sources(DuckDBEngine(), [str(path)], ReadOptions(), forced="argus")
