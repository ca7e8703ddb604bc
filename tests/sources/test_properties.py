"""Properties of reading and analysing flows, whatever they are and however they are written.

Random valid flows (IPv4 and IPv6 addresses in canonical and other valid spellings, tcp/udp/icmp, any port,
bytes up to 2^40, times over a few days) are written in each input format and run through the whole pipeline
with every analysis and detector:

1. no run crashes, and every row written is counted (as a flow: all of them are valid);
2. the report does not depend on the order of the rows nor on how they are split into files;
3. the same flows give the same analyses whatever the format they were written in.

Each example writes files, so the example counts are small; every run is a whole pipeline run.
"""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentinel import pipeline, schema
from sentinel.config import Config
from sentinel.detectors.exfiltration import Params as Exfiltration
from sentinel.detectors.p2p import Params as Botnet
from sentinel.registry import UNITS, default_params
from sentinel.report import json_report
from sentinel.sources.nfdump import UNIDIRECTIONAL

# -- flows ----------------------------------------------------------------------------------------------
#: 2024-04-19 00:00 UTC in microseconds; flows start within the three days after it.
BASE_US = 1_713_484_800 * schema.US_PER_SECOND
SPAN_US = 3 * schema.US_PER_DAY
US_PER_CS = schema.US_PER_SECOND // schema.COURSE_TICKS_PER_SECOND

#: A small pool of hosts, so that hosts recur and the detectors have groups, servers and peers to find.
INTERNAL_POOL = [
    "192.168.104.10",
    "192.168.104.11",
    "192.168.104.12",
    "192.168.104.13",
    "10.1.2.3",
    "fd00:104::11",
    "fd00:104::1a",
    "fd00:104::1f",
]
EXTERNAL_POOL = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2001:4860::8888", "2a00:1450:4003::200e", "2606:4700::1111"]

POOL = st.sampled_from(INTERNAL_POOL + EXTERNAL_POOL).map(ipaddress.ip_address)
ADDRESS = st.one_of(POOL, POOL, POOL, st.ip_addresses(v=4), st.ip_addresses(v=6))


def _v4_text(address: ipaddress.IPv4Address, pad: int) -> str:
    """Dotted quad; pad > 0 writes each octet with leading zeros to that width (192.168.001.010)."""
    return ".".join(f"{o:0{pad}d}" for o in address.packed)


def spell(address: ipaddress.IPv4Address | ipaddress.IPv6Address, style: int) -> str:
    """One of the valid spellings of an address (style 0: canonical)."""
    if address.version == 4:
        return _v4_text(address, (0, 2, 3)[style % 3])
    groups = [int.from_bytes(address.packed[i : i + 2], "big") for i in range(0, 16, 2)]
    match style % 6:
        case 0:
            return str(address)
        case 1:
            return str(address).upper()
        case 2:
            return address.exploded  # every group with four digits
        case 3:
            return ":".join(f"{g:X}" for g in groups)  # no "::", upper case
        case 4:  # the last 32 bits as a dotted quad
            return (
                ":".join(f"{g:x}" for g in groups[:6]) + ":" + _v4_text(ipaddress.IPv4Address(address.packed[12:]), 0)
            )
        case _:
            return address.exploded.upper()


BYTES = st.one_of(st.integers(0, 2**40), st.sampled_from([0, 2**40]))


@st.composite
def a_flow(
    draw: st.DrawFn, fine: bool = True, src: st.SearchStrategy = ADDRESS, dst: st.SearchStrategy = ADDRESS, **fixed: Any
) -> dict[str, Any]:
    """One valid flow. `fine`: times to the microsecond; else to the hundredth (what course files carry).
    `fixed` strategies replace those of the fields they name."""
    if fine:
        ts = BASE_US + draw(st.integers(0, SPAN_US))
    else:
        ts = BASE_US + draw(st.integers(0, SPAN_US // US_PER_CS)) * US_PER_CS
    fields = {
        "proto": st.sampled_from(["tcp", "udp", "icmp"]),
        "port": st.one_of(st.sampled_from([0, 53, 443, 40000, 50000]), st.integers(0, 65535)),
        "src_port": st.integers(0, 65535),
        "up_bytes": BYTES,
        "down_bytes": BYTES,
        "style": st.integers(0, 3),  # how a writer spells what it may spell several ways
    } | fixed
    return {
        "ts": ts,
        "src_ip": spell(draw(src), draw(st.integers(0, 5))),
        "dst_ip": spell(draw(dst), draw(st.integers(0, 5))),
        **{name: draw(strategy) for name, strategy in fields.items()},
    }


@st.composite
def flows(draw: st.DrawFn, fine: bool = True, max_size: int = 30) -> list[dict[str, Any]]:
    """Random flows, and often among them what the detectors look for (each row still random within it):
    internal hosts calling each other on high ports (P2P), internal clients of an internal server, and
    uploads from an internal host (exfiltration)."""
    rows = draw(st.lists(a_flow(fine), min_size=1, max_size=max_size))
    internal = st.sampled_from(INTERNAL_POOL).map(ipaddress.ip_address)
    external = st.sampled_from(EXTERNAL_POOL).map(ipaddress.ip_address)
    if draw(st.booleans()):
        peers = draw(st.lists(internal, min_size=2, max_size=4, unique=True))
        for a in peers:
            for b in peers:
                if a != b:
                    rows.append(draw(a_flow(fine, st.just(a), st.just(b), port=st.integers(1024, 65535))))
    if draw(st.booleans()):
        server, port = draw(internal), draw(st.sampled_from([53, 445, 8080]))
        clients = st.lists(internal.filter(lambda a: a != server), min_size=2, max_size=5)
        for client in draw(clients):
            rows.append(draw(a_flow(fine, st.just(client), st.just(server), port=st.just(port))))
    if draw(st.booleans()):
        host = draw(internal)
        big = st.integers(10**7, 2**40)
        uploads = a_flow(fine, st.just(host), external, up_bytes=big, down_bytes=st.integers(0, 10**6))
        rows += draw(st.lists(uploads, min_size=1, max_size=5))
    return draw(st.permutations(rows))


# -- writers --------------------------------------------------------------------------------------------
def _proto_text(row: dict[str, Any]) -> str:
    return row["proto"].upper() if row["style"] == 1 else row["proto"]


def write_course(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Course Parquet with epoch hundredths (read as absolute times)."""
    columns = {
        "timestamp": [r["ts"] // US_PER_CS for r in rows],
        **{n: [r[n] for r in rows] for n in schema.COURSE_NAMES[1:]},
    }
    columns["proto"] = [_proto_text(r) for r in rows]
    pq.write_table(pa.table(columns, schema=schema.COURSE_ARROW_SCHEMA), path)
    return path


def write_canonical(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Parquet with the canonical columns, as `sentinel import` writes them (ts in microseconds)."""
    arrow = schema.arrow_schema((schema.SRC_PORT,))
    pq.write_table(pa.table({n: [r[n] for r in rows] for n in arrow.names}, schema=arrow), path)
    return path


ZEEK_FIELDS = (
    "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\t"
    "conn_state\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes"
)


def _seconds(us: int) -> str:
    return f"{us // schema.US_PER_SECOND}.{us % schema.US_PER_SECOND:06d}"


def write_zeek(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A Zeek conn.log in TSV, with its `#` header."""
    lines = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#open\t2024-04-19-00-00-00",
        "#fields\t" + ZEEK_FIELDS,
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tcount\tstring"
        "\tcount\tcount\tcount\tcount",
    ]
    for i, r in enumerate(rows):
        values = [
            _seconds(r["ts"]),
            f"C{i:017d}",
            r["src_ip"],
            str(r["src_port"]),
            r["dst_ip"],
            str(r["port"]),
            r["proto"],  # Zeek writes its enum in lower case
            "-",
            "0.500000" if r["style"] else "-",
            str(r["up_bytes"]),
            str(r["down_bytes"]),
            "SF",
            "0",
            "ShADadFf",
            "1",
            "1",
            "1",
            "1",
        ]
        lines.append("\t".join(values))
    lines.append("#close\t2024-04-22-00-00-00")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ARGUS_HEADER = (
    "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,SrcPkts,Label"
)


def _utc(us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)


def _argus_time(us: int) -> str:
    return _utc(us).strftime("%Y/%m/%d %H:%M:%S.%f")


def write_argus(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Argus `ra -c ,` text as the CTU .binetflow files have it; some ports in hex, as Argus writes them."""
    lines = [ARGUS_HEADER]
    for r in rows:
        port = f"0x{r['port']:04x}" if r["style"] == 2 else str(r["port"])
        total = r["up_bytes"] + r["down_bytes"]
        lines.append(
            f"{_argus_time(r['ts'])},0.5,{_proto_text(r)},{r['src_ip']},{r['src_port']},   <->,{r['dst_ip']},{port},"
            f"CON,0,0,4,{total},{r['up_bytes']},2,flow=Background"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_PROTO_NUMBER = {"tcp": "6", "udp": "17", "icmp": "1"}


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Generic CSV with the canonical header, ts in microseconds; some protocols as IANA numbers."""
    lines = ["ts,src_ip,dst_ip,proto,port,up_bytes,down_bytes,src_port"]
    for r in rows:
        proto = _PROTO_NUMBER[r["proto"]] if r["style"] == 3 else _proto_text(r)
        lines.append(
            f"{r['ts']},{r['src_ip']},{r['dst_ip']},{proto},{r['port']},{r['up_bytes']},{r['down_bytes']},"
            f"{r['src_port']}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_zeek_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A Zeek conn.log in JSON lines: `ts` as epoch seconds, or ISO 8601 text (JSON::TS_ISO8601) in some
    rows; byte counters of 0 sometimes left out, as Zeek leaves out unset fields."""
    lines = []
    for i, r in enumerate(rows):
        record: dict[str, Any] = {
            "ts": _iso(r["ts"], "Z") if r["style"] == 2 else float(_seconds(r["ts"])),
            "uid": f"C{i:017d}",
            "id.orig_h": r["src_ip"],
            "id.orig_p": r["src_port"],
            "id.resp_h": r["dst_ip"],
            "id.resp_p": r["port"],
            "proto": r["proto"],
            "duration": 0.5,
            "orig_bytes": r["up_bytes"],
            "resp_bytes": r["down_bytes"],
            "conn_state": "SF",
        }
        for counter in ("orig_bytes", "resp_bytes"):
            if record[counter] == 0 and r["style"] != 0:
                del record[counter]
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


NFDUMP_HEADER = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das"


def write_nfdump(path: Path, rows: list[dict[str, Any]]) -> Path:
    """`nfdump -o csv` text (times to the millisecond, protocols in upper case), with its Summary block."""
    lines = [NFDUMP_HEADER]
    for r in rows:
        ms = r["ts"] // 1000 * 1000
        ts = _utc(ms).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        lines.append(
            f"{ts},{ts},0.500,{r['src_ip']},{r['dst_ip']},{r['src_port']},{r['port']},{r['proto'].upper()},"
            f"......S.,0,0,1,{r['up_bytes']},1,{r['down_bytes']},0,0,0,0"
        )
    lines += ["Summary", "flows,bytes,packets,avg_bps,avg_pps,avg_bpp", f"{len(rows)},0,0,0,0,0"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: UTC offsets of ISO times written in other zones (the local time shifted to match).
OFFSETS = ("Z", "+02:00", "", "-05:30")


def _iso(us: int, offset: str) -> str:
    """ISO 8601 text of a time, in the zone of `offset` ("" for none: the time is UTC, unmarked)."""
    shift = dt.timedelta()
    if offset not in ("", "Z"):
        sign = 1 if offset[0] == "+" else -1
        shift = sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    return (_utc(us) + shift).strftime("%Y-%m-%dT%H:%M:%S.%f") + offset


def write_csv_seconds(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Generic CSV, tab-separated, ts as decimal seconds (trailing zeros of the fraction left out)."""
    lines = ["ts\tsrc_ip\tdst_ip\tproto\tport\tup_bytes\tdown_bytes"]
    for r in rows:
        seconds = _seconds(r["ts"]).rstrip("0").rstrip(".")
        lines.append(
            f"{seconds}\t{r['src_ip']}\t{r['dst_ip']}\t{r['proto']}\t{r['port']}\t{r['up_bytes']}\t{r['down_bytes']}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_csv_iso(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Generic CSV, semicolon-separated, ts as ISO 8601 text in several zones (and without one: UTC)."""
    lines = ["ts;src_ip;dst_ip;proto;port;up_bytes;down_bytes"]
    for r in rows:
        ts = _iso(r["ts"], OFFSETS[r["style"]])
        lines.append(f"{ts};{r['src_ip']};{r['dst_ip']};{r['proto']};{r['port']};{r['up_bytes']};{r['down_bytes']}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


Writer = Callable[[Path, list[dict[str, Any]]], Path]
WRITERS: dict[str, tuple[Writer, str]] = {
    "course": (write_course, ".parquet"),
    "canonical": (write_canonical, ".parquet"),
    "zeek": (write_zeek, ".log"),
    "argus": (write_argus, ".binetflow"),
    "csv": (write_csv, ".csv"),
    "zeek-json": (write_zeek_json, ".log"),
    "nfdump": (write_nfdump, ".csv"),
    "csv-seconds": (write_csv_seconds, ".tsv"),
    "csv-iso": (write_csv_iso, ".csv"),
}
#: The format the report names for each writer's files.
REPORTED_FORMAT = {
    "course": "parquet",
    "canonical": "canonical",
    "zeek": "zeek",
    "argus": "argus",
    "csv": "csv",
    "zeek-json": "zeek",
    "nfdump": "nfdump",
    "csv-seconds": "csv",
    "csv-iso": "csv",
}


def write(fmt: str, folder: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    writer, suffix = WRITERS[fmt]
    return writer(folder / f"{name}{suffix}", rows)


# -- runs -----------------------------------------------------------------------------------------------
def every_unit() -> dict[str, Any]:
    return {k: default_params(k) for k in UNITS}


def sensitive_units() -> dict[str, Any]:
    """Every unit, with thresholds so low that a few random flows already give listed hosts, servers,
    P2P groups and alerts (the defaults need a day's traffic): the properties then cover them too."""
    return {
        **every_unit(),
        "exfiltration": Exfiltration(
            percentile=0, peer_factor=0.0, min_transfer_bytes=1, min_transfer_ratio=1.0, min_peer_flows=1
        ),
        "botnet": Botnet(server_min_clients=2, min_group=2),
    }


def run(data: Path, units: dict[str, Any]) -> dict[str, Any]:
    return json_report.to_dict(pipeline.run(Config(data=data, units=units)))


def comparable(report: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The report without what names or lists the input files (and its generation time)."""
    out = copy.deepcopy(report)
    del out["generated_at"]
    del out["input"]["sources"]
    del out["input"]["rejected_examples"]
    out["notes"] = [n for n in out["notes"] if str(folder) not in n]
    return out


def examples(n: int) -> settings:
    """n examples (times SENTINEL_PROPERTY_SCALE, for a longer search by hand), no deadline: each is a run."""
    return settings(
        max_examples=n * int(os.environ.get("SENTINEL_PROPERTY_SCALE", "1")),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# -- 1. never a crash, every row counted ----------------------------------------------------------------
@pytest.mark.parametrize("fmt", list(WRITERS))
@examples(15)
@given(rows=flows())
def test_valid_flows_are_read_and_counted(fmt, rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = write(fmt, Path(tmp), "flows", rows)
        report = run(path, every_unit())
    facts = report["input"]
    assert facts["format"] == REPORTED_FORMAT[fmt]
    assert facts["flows"] + facts["rejected_rows"] == facts["rows"] == len(rows)
    assert facts["rejected_rows"] == 0, facts["rejected_by_reason"]  # every row written is valid
    assert [s["key"] for s in report["skipped"]] == []
    analyses = report["analyses"]
    assert set(analyses) == set(UNITS)
    assert sum(r["flows"] for r in analyses["country_volume"]["rows"]) == len(rows)
    assert sum(r["up_bytes"] for r in analyses["country_volume"]["rows"]) == sum(r["up_bytes"] for r in rows)
    assert sum(r["down_bytes"] for r in analyses["country_volume"]["rows"]) == sum(r["down_bytes"] for r in rows)
    assert sum(r["flows"] for r in analyses["hourly"]["rows"]) == len(rows)


# -- 2. neither row order nor files matter --------------------------------------------------------------
@pytest.mark.parametrize("fmt", list(WRITERS))
@examples(10)
@given(data=st.data(), rows=flows())
def test_order_and_files_do_not_change_the_report(fmt, data, rows):
    shuffled = data.draw(st.permutations(rows), label="shuffled")
    parts = data.draw(st.integers(2, 3), label="files")
    part_of = data.draw(st.lists(st.integers(0, parts - 1), min_size=len(rows), max_size=len(rows)), label="split")
    units = sensitive_units()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        original = comparable(run(write(fmt, folder, "original", rows), units), folder)
        reordered = comparable(run(write(fmt, folder, "shuffled", shuffled), units), folder)
        split = folder / "split"
        split.mkdir()
        for p in range(parts):
            write(fmt, split, f"part-{p}", [r for r, q in zip(rows, part_of, strict=True) if q == p])
        in_files = comparable(run(split, units), folder)
    assert reordered == original
    assert in_files == original


# -- 3. the format does not matter ----------------------------------------------------------------------
def same_analyses(report: dict[str, Any], folder: Path) -> dict[str, Any]:
    """What every format must agree on: the report without the format, which optional columns it carried,
    and the notes on how each format's files were read (they differ by design: course files' epoch
    hundredths, Argus' zone-less times and unused columns, CSV's guessed time unit, NetFlow's one-way flows)."""
    out = comparable(report, folder)
    del out["input"]["format"]
    del out["input"]["optional_columns"]
    out["notes"] = [n for n in out["notes"] if not n.startswith("Columns not used:") and n != UNIDIRECTIONAL]
    return out


@examples(15)
@given(rows=flows(fine=False))
def test_every_format_gives_the_same_analyses(rows):
    """Times are whole hundredths here: what course files carry, and every other format too."""
    units = sensitive_units()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reports = {fmt: same_analyses(run(write(fmt, folder, fmt, rows), units), folder) for fmt in WRITERS}
    expected = reports.pop("course")
    for fmt, report in reports.items():
        assert report == expected, fmt


@examples(15)
@given(data=st.data(), rows=flows(fine=False))
def test_flows_split_across_files_of_several_formats_give_the_same_analyses(data, rows):
    """A directory may mix formats: the same flows split across files of different formats are the same
    flows. (Which optional columns some files carry is said in a note: by design, not compared.)"""
    formats = data.draw(st.lists(st.sampled_from(list(WRITERS)), min_size=2, max_size=3), label="formats")
    part_of = data.draw(st.lists(st.integers(0, len(formats) - 1), min_size=len(rows), max_size=len(rows)))
    units = sensitive_units()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        expected = same_analyses(run(write("course", folder, "course", rows), units), folder)
        mixed = folder / "mixed"
        mixed.mkdir()
        for p, fmt in enumerate(formats):
            write(fmt, mixed, f"part-{p}", [r for r, q in zip(rows, part_of, strict=True) if q == p])
        got = same_analyses(run(mixed, units), folder)
    got["notes"] = [n for n in got["notes"] if "present in some inputs only" not in n]
    assert got == expected
