"""Zeek conn logs (sentinel.sources.zeek): hand-written files for each rule, real captures for the totals.

Expected values for the real captures are computed here from the raw files with Python's own csv/json/gzip
modules (an independent reference, not the reader's SQL), and checked against ../shared/data/SOURCES.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
import zstandard

from sentinel import cli, pipeline, schema
from sentinel.config import Config
from sentinel.engines.duckdb_engine import DuckDBEngine
from sentinel.report import json_report
from sentinel.sources import inputs
from sentinel.sources.base import ReadOptions, Sample
from sentinel.sources.registry import open_sources
from sentinel.sources.zeek import ZeekConn
from tests.flows import config_for, flow, write_flows

_FIELDS_LINE = (
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state "
    "local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents"
)
_TYPES_LINE = (
    "time string addr port addr port enum string interval count count string bool bool count string count count "
    "count count set[string]"
)
FIELDS = _FIELDS_LINE.split(" ")
TYPES = _TYPES_LINE.split(" ")  # Sentinel does not read them: the #types of other layouts are all "string"


def header(fields=FIELDS, types=TYPES) -> str:
    return (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
        "#open\t2024-04-19-00-00-01\n#fields\t" + "\t".join(fields) + "\n#types\t" + "\t".join(types) + "\n"
    )


def row(ts="1713484795.943239", src="10.0.0.1", dst="8.8.8.8", dport="53", proto="udp", up="10", down="20", **kw):
    values = {
        "ts": ts,
        "uid": "CYl7H53iN6mY9NyXJ8",
        "id.orig_h": src,
        "id.orig_p": "40000",
        "id.resp_h": dst,
        "id.resp_p": dport,
        "proto": proto,
        "service": "dns",
        "duration": "0.500000",
        "orig_bytes": up,
        "resp_bytes": down,
        "conn_state": "SF",
        "local_orig": "T",
        "local_resp": "F",
        "missed_bytes": "0",
        "history": "Dd",
        "orig_pkts": "1",
        "orig_ip_bytes": "38",
        "resp_pkts": "1",
        "resp_ip_bytes": "48",
        "tunnel_parents": "(empty)",
    }
    values.update(kw)
    return values


def tsv(rows: list[dict], fields=FIELDS, close: bool = True) -> str:
    body = "".join("\t".join(r[f] for f in fields) + "\n" for r in rows)
    types = TYPES if fields == FIELDS else ["string"] * len(fields)
    return header(fields, types) + body + ("#close\t2024-04-19-01-00-00\n" if close else "")


def read(*data: Path | str) -> tuple[list[dict], object]:
    """The canonical rows (sorted by ts) and the SourceInfo of the given inputs."""
    engine = DuckDBEngine()
    try:
        info = open_sources(engine, [str(d) for d in data], ReadOptions())
        rows = engine.query("SELECT * FROM raw_flows ORDER BY ts NULLS LAST, src_ip").to_pylist()
    finally:
        engine.close()
    return rows, info


# -- hand-written files: one rule each -------------------------------------------------------------------
def test_tsv_values_unset_and_empty(tmp_path):
    path = tmp_path / "conn.log"
    path.write_text(
        tsv(
            [
                row(),
                # a rejected TCP attempt: Zeek leaves the payload counters and duration unset
                row(ts="1713484796.000001", proto="TCP", dport="445", up="-", down="-", duration="-", service="-"),
                # ICMP: id.resp_p holds the ICMP code, kept as the port
                row(ts="1713484797.5", proto="icmp", dport="0", service="(empty)", conn_state="OTH"),
            ]
        )
    )
    rows, info = read(path)
    assert info.formats == ("zeek",)
    assert info.optional == frozenset(schema.OPTIONAL_NAMES)
    assert info.extra_columns == ()
    assert [r["ts"] for r in rows] == [1713484795943239, 1713484796000001, 1713484797500000]
    first, rejected, icmp = rows
    assert first == {
        "ts": 1713484795943239,
        "src_ip": "10.0.0.1",
        "dst_ip": "8.8.8.8",
        "proto": "udp",
        "port": 53,
        "up_bytes": 10,
        "down_bytes": 20,
        "src_port": 40000,
        "duration": 0.5,
        "up_packets": 1,
        "down_packets": 1,
        "conn_state": "SF",
        "service": "dns",
        "_file": str(path),
    }
    assert (rejected["proto"], rejected["port"], rejected["up_bytes"], rejected["down_bytes"]) == ("tcp", 445, 0, 0)
    assert rejected["duration"] is None and rejected["service"] is None
    assert (icmp["proto"], icmp["port"], icmp["service"], icmp["conn_state"]) == ("icmp", 0, None, "OTH")


def test_extra_fields_and_labels(tmp_path):
    fields = ["_node_name", *FIELDS, "label", "detailedlabel"]
    path = tmp_path / "conn.log.labeled"
    rows = [row(_node_name="worker-eth0-1", label="Malicious", detailedlabel="C&C #1"), row(ts="1713484800.25")]
    rows[1] |= {"_node_name": "worker-eth0-2", "label": "Benign", "detailedlabel": "(empty)"}
    path.write_text(tsv(rows, fields))
    got, info = read(path)
    assert [(r["ts"], r["src_ip"], r["up_bytes"]) for r in got] == [
        (1713484795943239, "10.0.0.1", 10),
        (1713484800250000, "10.0.0.1", 10),
    ]
    assert info.extra_columns == ("_node_name", "detailedlabel", "label")


def test_malformed_rows_cited_as_file_and_line(tmp_path):
    path = tmp_path / "conn.log"
    rows = [row(ts=f"17134848{i:02d}.000000") for i in range(6)]
    rows[2]["orig_bytes"] = "-7"  # line 8 + 3 = 11
    rows[4]["id.resp_h"] = "-"  # line 13
    rows[5]["orig_bytes"] = "(empty)"  # a set value where a count belongs: malformed, not 0
    path.write_text(tsv(rows))
    report = pipeline.run(config_for(path, "hourly"))
    assert (report.input.rows, report.input.flows, report.input.rejected_rows) == (6, 3, 3)
    assert report.input.rejected_by_reason == {"missing or negative bytes": 2, "missing dst_ip": 1}
    assert report.input.rejected_examples == [
        f"{path}:11 (missing or negative bytes)",
        f"{path}:13 (missing dst_ip)",
        f"{path}:14 (missing or negative bytes)",
    ]


@pytest.mark.parametrize(
    ("cut_after", "reason"),
    [
        ("\t53\t", "missing or invalid proto"),  # cut after id.resp_p: proto and the rest are missing
        ("\t48\t", "missing or negative bytes"),  # only the last field missing: the field count tells
    ],
)
def test_truncated_last_line_is_one_malformed_row(tmp_path, cut_after, reason):
    path = tmp_path / "conn.log"
    text = tsv([row(ts=f"17134848{i:02d}.000000") for i in range(3)], close=False)
    path.write_text(text[: text.rindex(cut_after) + len(cut_after) - 1])  # no newline at the end
    report = pipeline.run(config_for(path, "hourly"))
    assert (report.input.rows, report.input.flows) == (3, 2)
    assert report.input.rejected_examples == [f"{path}:11 ({reason})"]


def test_too_many_fields_is_malformed(tmp_path):
    path = tmp_path / "conn.log"
    text = tsv([row(), row(ts="1713484796.000000")])
    path.write_text(text.replace("(empty)\n1713484796", "(empty)\tsurplus\n1713484796"))
    report = pipeline.run(config_for(path, "hourly"))
    assert (report.input.rows, report.input.flows) == (2, 1)
    assert report.input.rejected_examples == [f"{path}:9 (missing or negative bytes)"]


def test_truncated_gzip_is_read_up_to_the_cut(tmp_path):
    rows = [row(ts=f"1713484{i:03d}.123456", up=str(i)) for i in range(2000)]
    whole = gzip.compress(tsv(rows).encode())
    path = tmp_path / "conn.log.gz"
    path.write_bytes(whole[: len(whole) // 2])
    # What is intact, by Python's zlib: complete data lines are flows, a cut last line is one malformed row.
    intact = zlib.decompressobj(31).decompress(whole[: len(whole) // 2]).decode()
    lines = intact.split("\n")
    complete = [ln for ln in lines[:-1] if not ln.startswith("#")]
    cut = 1 if lines[-1] else 0
    report = pipeline.run(config_for(path, "hourly"))
    assert report.input.rows == len(complete) + cut
    assert report.input.flows == len(complete) - sum(1 for ln in complete if ln.count("\t") != 20)
    assert report.input.rejected_rows == cut
    n_lines = len(lines) - (0 if cut else 1)
    assert f"{path} is truncated (its gzip stream ends early): read its first {n_lines} lines." in report.notes
    assert report.input.sources == [str(path)]


def test_damaged_gzip_is_read_up_to_the_damage(tmp_path):
    whole = bytearray(gzip.compress(tsv([row(ts=f"1713484{i:03d}.000000") for i in range(2000)]).encode()))
    whole[len(whole) // 2 : len(whole) // 2 + 64] = b"\xff" * 64
    path = tmp_path / "conn.log.gz"
    path.write_bytes(bytes(whole))
    report = pipeline.run(config_for(path, "hourly"))
    assert 0 < report.input.flows < 2000
    assert any(n.startswith(f"{path} is truncated (its gzip stream is damaged") for n in report.notes)


def test_gzip_and_zstd_without_extension(tmp_path):
    text = tsv([row(), row(ts="1713484796.000000", up="-")]).encode()
    (tmp_path / "a").write_bytes(gzip.compress(text))
    (tmp_path / "b").write_bytes(zstandard.ZstdCompressor().compress(text))
    (tmp_path / "c.log.zst").write_bytes(zstandard.ZstdCompressor().compress(text))
    assert inputs.sample(str(tmp_path / "b")).compression == "zstd"
    got, info = read(tmp_path)
    assert len(got) == 6
    assert sorted((r["_file"], r["up_bytes"]) for r in got) == sorted(
        (str(tmp_path / name), up) for name in ("a", "b", "c.log.zst") for up in (10, 0)
    )
    assert info.notes == ()


def _json_line(**kw) -> str:
    record = {
        "ts": 1664462456.755299,
        "uid": "C5xhsO3uGtOfyrBlHh",
        "id.orig_h": "172.16.1.11",
        "id.orig_p": 40042,
        "id.resp_h": "8.8.8.8",
        "id.resp_p": 53,
        "proto": "udp",
        "conn_state": "S0",
        "orig_pkts": 1,
        "resp_pkts": 0,
    }
    record.update(kw)
    return json.dumps({k: v for k, v in record.items() if v is not None}) + "\n"


def test_json_epoch_and_iso_timestamps(tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(
        _json_line(orig_bytes=5, resp_bytes=7, service="dns", duration=0.25)
        + _json_line(ts="2022-09-29T14:40:57.000001Z")  # JSON::TS_ISO8601; bytes unset: 0
        + _json_line(ts="2022-09-29T16:40:58.5+02:00", proto="TCP")
        + _json_line(ts=1664462459, orig_bytes=-1)  # negative: malformed
        + _json_line(ts=1664462460.1)[:40]  # cut off: malformed
    )
    rows, info = read(path)
    assert info.formats == ("zeek",)
    assert info.optional == frozenset(schema.OPTIONAL_NAMES)
    assert [(r["ts"], r["proto"], r["up_bytes"], r["down_bytes"]) for r in rows] == [
        (1664462456755299, "udp", 5, 7),
        (1664462457000001, "udp", 0, 0),
        (1664462458500000, "tcp", 0, 0),
        (1664462459000000, "udp", -1, 0),
        (None, None, 0, 0),  # a line that does not parse: no time
    ]
    assert rows[0]["service"] == "dns" and rows[0]["duration"] == 0.25 and rows[1]["service"] is None
    report = pipeline.run(config_for(path, "hourly"))
    assert (report.input.rows, report.input.flows) == (5, 3)
    assert report.input.rejected_examples == [
        f"{path}:4 (missing or negative bytes)",
        f"{path}:5 (missing or unreadable time)",
    ]


def test_sniff_and_group_key():
    reader = ZeekConn()
    tsv_sample = Sample("conn.log", None, tsv([row()]).encode())
    assert reader.sniff(tsv_sample)
    assert reader.group_key(tsv_sample)[1] == tuple(FIELDS)
    json_sample = Sample("conn.json", None, _json_line().encode())
    assert reader.sniff(json_sample) and reader.group_key(json_sample) == "json"
    # Other Zeek logs are not flows: dns.log has id.orig_h and proto but no byte counters.
    dns_fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "query"]
    assert not reader.sniff(Sample("dns.log", None, header(dns_fields, ["string"] * 8).encode()))
    dns_json = json.dumps({"ts": 1.0, "id.orig_h": "10.0.0.1", "id.resp_h": "10.0.0.2", "proto": "udp", "rcode": 0})
    assert not reader.sniff(Sample("dns.json", None, dns_json.encode()))
    assert not reader.sniff(Sample("README.md", None, b"# Zeek logs\n"))


def test_directory_mixing_formats(tmp_path):
    (tmp_path / "conn.log").write_text(tsv([row(), row(ts="1713484796.000000", up="-")]))
    (tmp_path / "conn.json").write_text(_json_line(ts=1713484797.0, orig_bytes=3, resp_bytes=4))
    (tmp_path / "README.md").write_text("# captures\n")
    write_flows(tmp_path / "course.parquet", [flow(100, "192.168.1.2", "8.8.8.8", up=1, down=2)])
    config = Config(data=str(tmp_path), units=config_for(tmp_path, "hourly").units, date=dt.date(2024, 4, 19))
    report = pipeline.run(config)
    assert report.input.format == "zeek+parquet"
    assert (report.input.rows, report.input.flows) == (4, 4)
    assert report.input.first_seen == 1713484795943239
    assert report.input.last_seen == 1713484801000000  # the course flow: 1 s after 00:00 of --date
    assert any("1 file(s)" in n and "README.md" in n for n in report.notes)


# -- real captures (../shared/data; skipped where absent) --------------------------------------------------
SDT = "stratosphere/security-datasets-for-testing"
SLIPS = "stratosphere/slips-dataset"
RITA = "rita-missing-host"
BEACON = ("73.54.23.243", "64.225.56.201")


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else path.open()


def reference(paths: list[Path]) -> dict:
    """Rows, time span (µs), byte sums and beacon flows of Zeek conn files, read with Python's csv/json."""
    out = {"rows": 0, "first": None, "last": None, "up": 0, "down": 0, "beacon": 0}

    def add(ts: Decimal, src: str, dst: str, up: str | int | None, down: str | int | None) -> None:
        us = int(ts * 1_000_000)
        out["rows"] += 1
        out["first"] = us if out["first"] is None else min(out["first"], us)
        out["last"] = us if out["last"] is None else max(out["last"], us)
        out["up"] += 0 if up in ("-", None) else int(up)  # unset payload counters are 0
        out["down"] += 0 if down in ("-", None) else int(down)
        out["beacon"] += (src, dst) == BEACON

    for path in paths:
        with _open_text(path) as fh:
            first = fh.readline()
            fh.seek(0)
            if first.startswith("{"):
                for line in fh:
                    if line.strip():
                        r = json.loads(line, parse_float=Decimal)
                        add(Decimal(r["ts"]), r["id.orig_h"], r["id.resp_h"], r.get("orig_bytes"), r.get("resp_bytes"))
                continue
            fields: list[str] = []
            for values in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if values[0] == "#fields":
                    fields = values[1:]
                elif not values[0].startswith("#"):
                    r = dict(zip(fields, values, strict=True))
                    add(Decimal(r["ts"]), r["id.orig_h"], r["id.resp_h"], r["orig_bytes"], r["resp_bytes"])
    return out


def _iso(us: int) -> str:
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)).isoformat()[:19]


@pytest.mark.parametrize(
    ("name", "rows", "first", "last"),
    [
        # SOURCES.md: rows and time spans as documented there ("relative" captures start at epoch 0)
        (f"{SDT}/001-zeek-scenario-malicious/labeled-conn.log", 992, "1970-01-01T00:00:15", "1970-01-01T00:50:23"),
        (f"{SDT}/002-zeek-scenario-port-scanning/conn.log", 4504, "2022-09-29T14:40:56", "2022-09-29T15:47:35"),
        (f"{SDT}/008-zeek-mixed/conn.log.labeled", 5663, "2022-06-12T17:53:36", "2022-06-13T21:59:39"),
        (f"{SLIPS}/port-scans_vertical_conn.log", 50, "2023-11-24T12:16:53", "2023-11-24T12:16:58"),
        (f"{SLIPS}/port-scans_horizontal_conn.log", 41, "1970-01-01T00:15:28", "1970-01-01T00:16:00"),
    ],
)
def test_real_captures(shared_data, name, rows, first, last):
    path = shared_data / name
    ref = reference([path])
    assert (ref["rows"], _iso(ref["first"]), _iso(ref["last"])) == (rows, first, last)
    report = pipeline.run(config_for(path, "hourly"))
    assert report.input.format == "zeek"
    assert (report.input.rows, report.input.flows) == (rows, rows)
    assert (report.input.first_seen, report.input.last_seen) == (ref["first"], ref["last"])
    summary = json_report.to_dict(report)["input"]
    assert summary["first_seen"].startswith(first) and summary["last_seen"].startswith(last)
    assert summary["optional_columns"] == sorted(schema.OPTIONAL_NAMES)
    got, _ = read(path)
    assert sum(r["up_bytes"] for r in got) == ref["up"]
    assert sum(r["down_bytes"] for r in got) == ref["down"]


def _documented_rita_rows(shared_data: Path, day: str = "") -> int:
    """The sum of the RITA files' rows as SOURCES.md lists them."""
    total = 0
    for line in (shared_data / "SOURCES.md").read_text().splitlines():
        if line.startswith(f"| {RITA}/{day}") and ".log.gz |" in line:
            total += int(line.split("|")[5].strip().replace(",", ""))
    return total


def test_rita_directory_and_one_day(shared_data):
    folder = shared_data / RITA
    ref = reference(sorted(folder.rglob("*.log.gz")))
    assert ref["rows"] == _documented_rita_rows(shared_data) == 105_918
    assert ref["beacon"] == 951
    engine = DuckDBEngine()
    try:
        info = open_sources(engine, [str(folder)], ReadOptions())
        assert len(info.sources) == 72 and info.formats == ("zeek",) and info.extra_columns == ("_node_name",)
        totals = engine.query(
            "SELECT count(*) AS rows, sum(up_bytes) AS up, sum(down_bytes) AS down, min(ts) AS first, "
            "max(ts) AS last, count(*) FILTER (WHERE src_ip = '73.54.23.243' AND dst_ip = '64.225.56.201') "
            "AS beacon FROM raw_flows"
        ).to_pylist()[0]
    finally:
        engine.close()
    assert totals == {k: ref[k] for k in ("rows", "up", "down", "first", "last", "beacon")}
    assert _iso(ref["first"]) == "2024-04-18T23:59:44" and _iso(ref["last"]) == "2024-04-21T23:59:51"

    day = folder / "2024-04-20"
    day_ref = reference(sorted(day.glob("*.log.gz")))
    assert day_ref["rows"] == _documented_rita_rows(shared_data, "2024-04-20") == 39_073
    got, _ = read(day)
    assert len(got) == day_ref["rows"] and sum(r["up_bytes"] for r in got) == day_ref["up"]


def test_rita_end_to_end(shared_data, capsys):
    folder = shared_data / RITA
    argv = ["--data", f"{folder}/", "--internal", "64.225.56.201/32", "--all", "--json", "-"]
    assert cli.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["input"]["rows"] == report["input"]["flows"] == 105_918
    assert report["input"]["first_seen"] == "2024-04-18T23:59:44.962Z"
    assert report["input"]["last_seen"] == "2024-04-21T23:59:51.045Z"
    # -td: flows per UTC day (the derived per-day Parquet files of SOURCES.md count the same days)
    assert report["analyses"]["hourly"]["days"] == [
        {"day": "2024-04-18", "flows": 4},
        {"day": "2024-04-19", "flows": 31_377},
        {"day": "2024-04-20", "flows": 39_078},
        {"day": "2024-04-21", "flows": 35_459},
    ]
    assert "Columns not used: _node_name." in report["notes"]


def test_malformed_rows_deep_in_a_large_file_cite_their_line(tmp_path):
    # Large enough for the engine to read and number rows in parallel: numbers must still follow the file.
    n = 300_000
    line = "\t".join(row(ts="1713484795.000000")[f] for f in FIELDS) + "\n"
    bad = line.replace("\t10\t20\t", "\t-1\t20\t")
    body = [line] * n
    body[200_000] = body[280_000] = bad  # data rows 200,001 and 280,001
    path = tmp_path / "conn.log"
    path.write_text(header() + "".join(body))
    report = pipeline.run(config_for(path, "hourly"))
    assert report.input.rejected_examples == [
        f"{path}:{8 + 200_001} (missing or negative bytes)",
        f"{path}:{8 + 280_001} (missing or negative bytes)",
    ]
