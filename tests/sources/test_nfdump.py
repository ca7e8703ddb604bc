"""The nfdump reader: CSV exports and binary nfcapd files (through the nfdump program)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sentinel import pipeline
from sentinel.cli import main
from sentinel.errors import InputError
from sentinel.sources import nfdump
from tests.conftest import REPO
from tests.flows import config_for
from tests.sources.test_argus import read_all, rows_of, utc

CSV_EXPORT = "nfdump/test1-malicious.nfdump.csv"
BINARY = "nfdump/test1-malicious.nfdump"
HEADER = (
    "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,"
    "ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr"
)
TAIL = (
    "0,0,2852,2852,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,"
    "00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,"
    "147.32.82.62,0/58,1,1970-01-01 00:00:00.000"
)


def needs_nfdump() -> None:
    if shutil.which("nfdump") is None:
        reason = "needs the nfdump program (apt-get install nfdump)"
        if os.environ.get("SENTINEL_REQUIRE_SHARED_DATA"):  # .ci/run installs it
            pytest.fail(reason)
        pytest.skip(reason)


def reference(path: Path) -> dict:
    """Count, byte sums and span by Python's csv module, stopping at nfdump's Summary block."""
    records = []
    with path.open(newline="") as fh:
        for record in csv.DictReader(fh):
            if record["ts"] == "Summary":
                break
            records.append(record)

    def us(text: str) -> int:
        return round(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1_000_000)

    return {
        "rows": len(records),
        "up": sum(int(r["ibyt"]) for r in records),
        "down": sum(int(r["obyt"]) for r in records),
        "first": min(us(r["ts"]) for r in records),
        "last": max(us(r["ts"]) for r in records),
    }


def test_csv_export_matches_an_independent_reading(shared_data):
    path = shared_data / CSV_EXPORT
    got, info = read_all(path)
    assert info.formats == ("nfdump",)
    assert got == reference(path)
    assert got["rows"] == 4593
    assert (got["first"], got["last"]) == (utc("2018-01-12 15:37:30"), utc("2018-01-12 15:38:03"))
    assert info.optional == {"src_port", "duration", "up_packets", "down_packets", "conn_state"}
    assert any("local time" in n and "read as UTC" in n for n in info.notes)


def test_csv_export_runs_clean(shared_data):
    report = pipeline.run(config_for(shared_data / CSV_EXPORT, "hourly", "country_volume"))
    assert (report.input.rows, report.input.flows, report.input.rejected_rows) == (4593, 4593, 0)


def test_binary_file_equals_its_csv_export(shared_data):
    needs_nfdump()
    binary, export = shared_data / BINARY, shared_data / CSV_EXPORT
    got, info = read_all(binary)
    assert info.formats == ("nfdump",)
    assert info.sources == (str(binary),)
    assert got == read_all(export)[0]
    assert not any("read as UTC" in n for n in info.notes)  # exported here with TZ=UTC: exact
    rows = rows_of(binary)
    assert {r["_file"] for r in rows} == {str(binary)}  # rows name the binary file, not the temporary export
    assert [{**r, "_file": ""} for r in rows] == [{**r, "_file": ""} for r in rows_of(export)]


def test_binary_sniffed_by_magic(shared_data):
    from sentinel.sources.inputs import sample

    assert nfdump.is_binary(sample(str(shared_data / BINARY)))
    assert not nfdump.is_binary(sample(str(shared_data / CSV_EXPORT)))


def flow_line(ts: str = "2018-01-12 15:37:30.250", pr: str = "TCP", dp: str = "902", ibyt: str = "60") -> str:
    return f"{ts},{ts},1.500,147.32.80.119,147.32.82.62,52324,{dp},{pr},......S.,0,0,1,{ibyt},2,120,{TAIL}"


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def test_columns_milliseconds_and_protocols(tmp_path):
    path = write(tmp_path / "a.csv", [flow_line(), flow_line(pr="ICMP", dp="771"), flow_line(pr="GRE", dp="")])
    rows = rows_of(path)
    assert rows[0] == {
        "ts": utc("2018-01-12 15:37:30.250"),
        "src_ip": "147.32.80.119",
        "dst_ip": "147.32.82.62",
        "proto": "tcp",
        "port": 902,
        "up_bytes": 60,
        "down_bytes": 120,
        "src_port": 52324,
        "duration": 1.5,
        "up_packets": 1,
        "down_packets": 2,
        "conn_state": "......S.",
        "_file": str(path),
    }
    assert [(r["proto"], r["port"]) for r in rows] == [("tcp", 902), ("icmp", 771), ("gre", 0)]


def test_summary_block_is_left_out_not_malformed(tmp_path):
    summary = ["Summary", "flows,bytes,packets,avg_bps,avg_pps,avg_bpp", "2,120,2,29,0,60"]
    path = write(tmp_path / "a.csv", [flow_line(), flow_line(), *summary])
    report = pipeline.run(config_for(path, "hourly"))
    assert (report.input.rows, report.input.flows, report.input.rejected_rows) == (2, 2, 0)
    # nfdump's output when no flow matched
    empty = write(tmp_path / "b.csv", ["No matching flows", *summary[:2], "0,0,0,0,0,0"])
    assert read_all(empty)[0]["rows"] == 0


def test_garbage_is_malformed_and_cited_by_line(tmp_path):
    lines = [flow_line(), "garbage", flow_line(ts="yesterday"), flow_line(dp=""), flow_line(ibyt="-1"), flow_line()]
    path = write(tmp_path / "a.csv", [*lines, "Summary", "flows,bytes,packets,avg_bps,avg_pps,avg_bpp", "1,2,3,4,5,6"])
    report = pipeline.run(config_for(path, "hourly"))
    assert (report.input.rows, report.input.flows) == (6, 2)
    assert list(report.input.rejected_examples) == [
        f"{path}:3 (missing or unreadable time)",
        f"{path}:4 (missing or unreadable time)",
        f"{path}:5 (port missing or outside 0-65535)",
        f"{path}:6 (missing or negative bytes)",
    ]


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("ts,te,td,sa,da,sp,pr,ibyt\n")
    with pytest.raises(InputError, match=r"a\.csv: nfdump CSV header lacks column\(s\) dp, obyt"):
        read_all(path)


def fake_binary(path: Path) -> Path:
    path.write_bytes(b"\x0c\xa5\x02\x00" + bytes(200))  # nfcapd magic, layout version 2, no blocks
    return path


def test_binary_without_the_program_is_one_line_exit_3(tmp_path, monkeypatch, capsys):
    path = fake_binary(tmp_path / "nfcapd.201801121537")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    assert main(["--data", str(path), "-td", "-q"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err == f"sentinel: error: {path}: {nfdump.MISSING_PROGRAM}\n"
    assert "apt-get install nfdump" in err and "nfdump -r FILE -o csv" in err


def test_binary_nfdump_cannot_read(tmp_path):
    needs_nfdump()
    path = fake_binary(tmp_path / "nfcapd.bad")
    path.write_bytes(path.read_bytes()[:4])  # a header cut short
    with pytest.raises(InputError, match=r"nfcapd\.bad: nfdump could not read it"):
        read_all(path)


def test_temporary_export_is_removed_at_exit(shared_data):
    needs_nfdump()
    script = (
        "import glob, os, sys\n"
        "from sentinel.sources import nfdump\n"
        "from sentinel.sources.inputs import sample\n"
        "scan = nfdump.Nfdump().scan([sample(sys.argv[1])], None)\n"
        "print(nfdump._tmpdir, len(os.listdir(nfdump._tmpdir)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(shared_data / BINARY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    folder, files = done.stdout.split()
    assert files == "1"
    assert not os.path.exists(folder)


def test_every_report_says_nfdump_flows_are_one_way(tmp_path):
    from sentinel import pipeline
    from sentinel.config import Config
    from sentinel.registry import default_params

    path = tmp_path / "flows.csv"
    path.write_text(
        "ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt,opkt,obyt\n"
        "2018-01-12 15:37:30,2018-01-12 15:37:31,1.0,10.0.0.1,8.8.8.8,5000,53,UDP,......,1,80,0,0\n"
    )
    report = pipeline.run(Config(data=path, units={"hourly": default_params("hourly")}))
    assert any(note.startswith("nfdump flows are unidirectional") for note in report.notes)
