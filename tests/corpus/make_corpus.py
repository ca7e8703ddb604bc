"""The bad-input corpus: small hostile, damaged and odd flow files of every input format, made on demand.

`build(root)` writes every case under `root` (deterministically: the same bytes each time) and returns
them; tests/corpus/test_corpus.py runs each through the command line and checks its expected outcome.
Run it by hand to look at the files: `python tests/corpus/make_corpus.py OUTDIR`.

A case is one or more files plus the extra command-line arguments it needs (`--map` for generic CSV).
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

U64_MAX = 2**64 - 1
I64_MAX = 2**63 - 1
ABOVE_I64 = 2**63 + 1
#: Two of these sum past int64 (each fits in it).
HALF_PLUS = 2**62 + 1

ESC = "\x1b[31m"
HOSTILE = f"{ESC}\x07\x00\u202e<img src=x onerror=alert(1)>\nx"
MARKUP = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Case:
    name: str
    files: tuple[str, ...]  # relative to the case's folder
    args: tuple[str, ...] = ()


# -- row makers -------------------------------------------------------------------------------------------
# One "good" flow: internal host to a public address, so every analysis sees it.
GOOD = {
    "ts": 1_713_520_800_000_000,  # 2024-04-19 10:00:00 UTC, microseconds
    "src_ip": "192.168.1.10",
    "dst_ip": "8.8.8.8",
    "proto": "tcp",
    "port": 443,
    "up_bytes": 100,
    "down_bytes": 1000,
}

COURSE_TYPES = {
    "timestamp": pa.int64(),
    "src_ip": pa.string(),
    "dst_ip": pa.string(),
    "proto": pa.string(),
    "port": pa.int32(),
    "up_bytes": pa.int64(),
    "down_bytes": pa.int64(),
}
CANONICAL_TYPES = {"ts": pa.int64(), **{k: v for k, v in COURSE_TYPES.items() if k != "timestamp"}}


def course_row(**over: object) -> dict:
    row = {"timestamp": 3_600_000, **{k: v for k, v in GOOD.items() if k != "ts"}}
    row.update(over)
    return row


def canonical_row(**over: object) -> dict:
    return {**GOOD, **over}


def write_parquet(path: Path, rows: Sequence[dict], types: dict[str, pa.DataType]) -> None:
    columns = {name: pa.array([r[name] for r in rows], type=t) for name, t in types.items()}
    pq.write_table(pa.table(columns), path)


ZEEK_FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration")
ZEEK_FIELDS += ("orig_bytes", "resp_bytes", "conn_state")


def zeek_header(fields: Sequence[str] = ZEEK_FIELDS) -> str:
    return (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
        "#open\t2024-04-19-10-00-00\n#fields\t"
        + "\t".join(fields)
        + "\n#types\t"
        + "\t".join("string" for _ in fields)
        + "\n"
    )


def zeek_line(**over: object) -> str:
    v = {
        "ts": "1713520800.000000",
        "uid": "C1",
        "id.orig_h": GOOD["src_ip"],
        "id.orig_p": "50000",
        "id.resp_h": GOOD["dst_ip"],
        "id.resp_p": "443",
        "proto": "tcp",
        "service": "ssl",
        "duration": "1.5",
        "orig_bytes": "100",
        "resp_bytes": "1000",
        "conn_state": "SF",
    }
    v.update({k: str(x) for k, x in over.items()})
    return "\t".join(v[f] for f in ZEEK_FIELDS) + "\n"


def zeek_json(**over: object) -> str:
    v: dict[str, object] = {
        "ts": 1713520800.0,
        "uid": "C1",
        "id.orig_h": GOOD["src_ip"],
        "id.orig_p": 50000,
        "id.resp_h": GOOD["dst_ip"],
        "id.resp_p": 443,
        "proto": "tcp",
        "duration": 1.5,
        "orig_bytes": 100,
        "resp_bytes": 1000,
        "conn_state": "SF",
    }
    v.update(over)
    return json.dumps(v, ensure_ascii=True) + "\n"


ARGUS_HEADER = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label\n"


def argus_line(sep: str = ",", **over: object) -> str:
    v = {
        "StartTime": "2024/04/19 10:00:00.000000",
        "Dur": "1.5",
        "Proto": "tcp",
        "SrcAddr": GOOD["src_ip"],
        "Sport": "50000",
        "Dir": "->",
        "DstAddr": GOOD["dst_ip"],
        "Dport": "443",
        "State": "FSPA_FSPA",
        "sTos": "0",
        "dTos": "0",
        "TotPkts": "10",
        "TotBytes": "1100",
        "SrcBytes": "100",
        "Label": "flow=Background",
    }
    v.update({k: str(x) for k, x in over.items()})
    return sep.join(v.values()) + "\n"


NFDUMP_HEADER = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt\n"


def nfdump_line(**over: object) -> str:
    v = {
        "ts": "2024-04-19 10:00:00",
        "te": "2024-04-19 10:00:01",
        "td": "1.000",
        "sa": GOOD["src_ip"],
        "da": GOOD["dst_ip"],
        "sp": "50000",
        "dp": "443",
        "pr": "TCP",
        "flg": "...AP.SF",
        "fwd": "0",
        "stos": "0",
        "ipkt": "5",
        "ibyt": "100",
        "opkt": "5",
        "obyt": "1000",
    }
    v.update({k: str(x) for k, x in over.items()})
    return ",".join(v.values()) + "\n"


NFDUMP_SUMMARY = "Summary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n1,1100,10,0,0,110\n"

#: Generic CSV with other column names, read through --map.
MAP = "ts=Time,src_ip=Src,dst_ip=Dst,proto=P,port=DPort,up_bytes=Up,down_bytes=Down"
MAP_ARGS = ("--map", MAP)
MAPPED_HEADER = "Time,Src,Dst,P,DPort,Up,Down\n"


def mapped_line(**over: object) -> str:
    v = {"Time": "1713520800", "Src": GOOD["src_ip"], "Dst": GOOD["dst_ip"], "P": "tcp", "DPort": "443"}
    v |= {"Up": "100", "Down": "1000"}
    v.update({k: str(x) for k, x in over.items()})
    return ",".join(v.values()) + "\n"


def gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as fh:
        fh.write(data)
    return buf.getvalue()


def zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=3).compress(data)


def many(make: Callable[..., str], n: int = 40, **over: object) -> str:
    """n good lines (enough that a cut compressed stream still holds some), with `over` applied to all."""
    return "".join(make(**over) for _ in range(n))


# -- the cases ----------------------------------------------------------------------------------------------
def _cases() -> dict[str, Callable[[Path], tuple[tuple[str, ...], tuple[str, ...]]]]:
    """name -> writer(folder) -> (files, extra args)."""
    cases: dict[str, Callable[[Path], tuple[tuple[str, ...], tuple[str, ...]]]] = {}

    def case(name: str, args: Sequence[str] = ()):
        def register(fn: Callable[[Path], object]):
            def make(folder: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
                out = fn(folder)
                names = (out,) if isinstance(out, str) else tuple(out)  # type: ignore[arg-type]
                return names, tuple(args)

            cases[name] = make
            return fn

        return register

    def text(name: str, content: str | bytes, args: Sequence[str] = ()) -> None:
        data = content.encode("utf-8", errors="surrogatepass") if isinstance(content, str) else content
        fname = name.split(":")[0]

        @case(name, args)
        def _(folder: Path) -> str:
            (folder / fname).write_bytes(data)
            return fname

    # ---- empty files, of every kind of name
    for fname in ("empty.parquet", "empty.log", "empty.binetflow", "empty.csv", "empty.csv.gz"):
        text(fname, b"")
    text("empty.csv:mapped", b"", MAP_ARGS)
    text("empty-gzip.csv.gz:mapped", gz(b""), MAP_ARGS)
    text("empty-zstd.log.zst", zst(b""))

    # ---- course Parquet
    @case("course-zero-rows.parquet")
    def _(folder: Path) -> str:
        write_parquet(folder / "course-zero-rows.parquet", [], COURSE_TYPES)
        return "course-zero-rows.parquet"

    @case("course-truncated.parquet")
    def _(folder: Path) -> str:
        write_parquet(folder / "t.parquet", [course_row() for _ in range(50)], COURSE_TYPES)
        data = (folder / "t.parquet").read_bytes()
        (folder / "t.parquet").unlink()
        (folder / "course-truncated.parquet").write_bytes(data[: len(data) // 2])
        return "course-truncated.parquet"

    @case("course-corrupt-pages.parquet")
    def _(folder: Path) -> str:
        # Header and footer intact (the schema reads), the data pages overwritten.
        rows = [course_row(timestamp=i, src_ip=f"10.0.{i % 250}.1") for i in range(2000)]
        write_parquet(folder / "c.parquet", rows, COURSE_TYPES)
        data = bytearray((folder / "c.parquet").read_bytes())
        (folder / "c.parquet").unlink()
        footer = int.from_bytes(data[-8:-4], "little") + 8
        for i in range(8, len(data) - footer - 8, 7):
            data[i] = (data[i] * 31 + 17) % 256
        (folder / "course-corrupt-pages.parquet").write_bytes(bytes(data))
        return "course-corrupt-pages.parquet"

    @case("course-fuzzed-footer.parquet")
    def _(folder: Path) -> str:
        # The footer's Thrift metadata scrambled: the magic numbers and length stay right.
        write_parquet(folder / "f.parquet", [course_row() for _ in range(20)], COURSE_TYPES)
        data = bytearray((folder / "f.parquet").read_bytes())
        (folder / "f.parquet").unlink()
        footer = int.from_bytes(data[-8:-4], "little")
        for i in range(len(data) - 8 - footer, len(data) - 8, 3):
            data[i] ^= 0x5A
        (folder / "course-fuzzed-footer.parquet").write_bytes(bytes(data))
        return "course-fuzzed-footer.parquet"

    @case("course-missing-column.parquet")
    def _(folder: Path) -> str:
        types = {k: v for k, v in COURSE_TYPES.items() if k != "down_bytes"}
        write_parquet(folder / "course-missing-column.parquet", [course_row()], types)
        return "course-missing-column.parquet"

    @case("course-duplicated-column.parquet")
    def _(folder: Path) -> str:
        row = course_row()
        names = [*COURSE_TYPES, "src_ip"]
        arrays = [pa.array([row[n]], type=COURSE_TYPES[n]) for n in names]
        pq.write_table(pa.Table.from_arrays(arrays, names=names), folder / "course-duplicated-column.parquet")
        return "course-duplicated-column.parquet"

    @case("course-wrong-types.parquet")
    def _(folder: Path) -> str:
        types = {**COURSE_TYPES, "src_ip": pa.int64()}
        write_parquet(folder / "course-wrong-types.parquet", [course_row(src_ip=1)], types)
        return "course-wrong-types.parquet"

    @case("course-float-timestamp-nan.parquet")
    def _(folder: Path) -> str:
        types = {**COURSE_TYPES, "timestamp": pa.float64()}
        write_parquet(folder / "course-float-timestamp-nan.parquet", [course_row(timestamp=float("nan"))], types)
        return "course-float-timestamp-nan.parquet"

    @case("course-hostile-strings.parquet")
    def _(folder: Path) -> str:
        rows = [
            course_row(),
            course_row(src_ip=HOSTILE),
            course_row(dst_ip=MARKUP),
            course_row(proto=HOSTILE),
            course_row(proto=MARKUP),
            course_row(dst_ip="8.8.8.8" + ESC),
        ]
        write_parquet(folder / "course-hostile-strings.parquet", rows, COURSE_TYPES)
        return "course-hostile-strings.parquet"

    @case("course-uint64-bytes.parquet")
    def _(folder: Path) -> str:
        types = {**COURSE_TYPES, "up_bytes": pa.uint64(), "down_bytes": pa.uint64()}
        rows = [
            course_row(),
            course_row(up_bytes=ABOVE_I64),
            course_row(down_bytes=U64_MAX),
            course_row(up_bytes=I64_MAX, down_bytes=0),
        ]
        write_parquet(folder / "course-uint64-bytes.parquet", rows, types)
        return "course-uint64-bytes.parquet"

    @case("course-all-uint64-max.parquet")
    def _(folder: Path) -> str:
        types = {k: (pa.uint64() if v == pa.int64() or v == pa.int32() else v) for k, v in COURSE_TYPES.items()}
        rows = [course_row(timestamp=U64_MAX, port=U64_MAX, up_bytes=U64_MAX, down_bytes=U64_MAX) for _ in range(3)]
        write_parquet(folder / "course-all-uint64-max.parquet", rows, types)
        return "course-all-uint64-max.parquet"

    @case("course-sums-past-int64.parquet")
    def _(folder: Path) -> str:
        # Each value fits in int64; their sums per host, per destination and in total do not.
        rows = [course_row(timestamp=i, up_bytes=HALF_PLUS, down_bytes=0) for i in range(4)]
        rows += [course_row(timestamp=9, src_ip="192.168.1.11", up_bytes=I64_MAX, down_bytes=I64_MAX)] * 2
        rows += [course_row(timestamp=10, src_ip="192.168.1.12", dst_ip="192.168.1.10", up_bytes=I64_MAX)] * 2
        write_parquet(folder / "course-sums-past-int64.parquet", rows, COURSE_TYPES)
        return "course-sums-past-int64.parquet"

    @case("course-timestamps.parquet")
    def _(folder: Path) -> str:
        rows = [course_row(), course_row(timestamp=-360_000), course_row(timestamp=I64_MAX), course_row(timestamp=None)]
        write_parquet(folder / "course-timestamps.parquet", rows, COURSE_TYPES)
        return "course-timestamps.parquet"

    @case("course-time-beyond-clock.parquet")
    def _(folder: Path) -> str:
        # No null, no negative: only the time's size says it cannot be converted (statistics must see it).
        rows = [course_row(), course_row(timestamp=I64_MAX)]
        write_parquet(folder / "course-time-beyond-clock.parquet", rows, COURSE_TYPES)
        return "course-time-beyond-clock.parquet"

    @case("course-uint64-timestamp.parquet")
    def _(folder: Path) -> str:
        types = {**COURSE_TYPES, "timestamp": pa.uint64()}
        write_parquet(folder / "course-uint64-timestamp.parquet", [course_row(), course_row(timestamp=U64_MAX)], types)
        return "course-uint64-timestamp.parquet"

    @case("course-ports.parquet")
    def _(folder: Path) -> str:
        types = {**COURSE_TYPES, "port": pa.float64()}
        rows = [course_row(), course_row(port=65536.0), course_row(port=-1.0), course_row(port=1.5)]
        rows += [course_row(port=float("nan")), course_row(port=float("inf"))]
        write_parquet(folder / "course-ports.parquet", rows, types)
        return "course-ports.parquet"

    @case("course-addresses.parquet")
    def _(folder: Path) -> str:
        rows = [
            course_row(),
            course_row(src_ip="fe80::1%eth0"),
            course_row(dst_ip="FE80::1"),
            course_row(dst_ip="2001:DB8::1"),
            course_row(dst_ip="008.008.008.008"),
            course_row(src_ip="192.168.001.010"),
            course_row(dst_ip=" 8.8.8.8"),
            course_row(dst_ip="::ffff:8.8.8.8"),
            course_row(src_ip=""),
            course_row(proto="TCP"),
            course_row(proto=" udp "),
        ]
        write_parquet(folder / "course-addresses.parquet", rows, COURSE_TYPES)
        return "course-addresses.parquet"

    # ---- canonical Parquet
    @case("canonical-zero-rows.parquet")
    def _(folder: Path) -> str:
        write_parquet(folder / "canonical-zero-rows.parquet", [], CANONICAL_TYPES)
        return "canonical-zero-rows.parquet"

    @case("canonical-huge.parquet")
    def _(folder: Path) -> str:
        types = {**CANONICAL_TYPES, "ts": pa.uint64(), "up_bytes": pa.uint64()}
        rows = [
            canonical_row(),
            canonical_row(ts=U64_MAX),
            canonical_row(ts=I64_MAX),
            canonical_row(up_bytes=U64_MAX),
            canonical_row(up_bytes=ABOVE_I64),
            canonical_row(port=-1),
            canonical_row(port=65536),
        ]
        write_parquet(folder / "canonical-huge.parquet", rows, types)
        return "canonical-huge.parquet"

    @case("canonical-sums-past-int64.parquet")
    def _(folder: Path) -> str:
        rows = [canonical_row(up_bytes=I64_MAX, down_bytes=0, dst_ip=f"8.8.8.{i % 2}") for i in range(4)]
        rows += [canonical_row(up_bytes=0, down_bytes=I64_MAX)] * 3
        write_parquet(folder / "canonical-sums-past-int64.parquet", rows, CANONICAL_TYPES)
        return "canonical-sums-past-int64.parquet"

    @case("canonical-hostile.parquet")
    def _(folder: Path) -> str:
        rows = [canonical_row(), canonical_row(src_ip=HOSTILE), canonical_row(proto=MARKUP)]
        rows.append(canonical_row(dst_ip="fe80::1%" + ESC))
        write_parquet(folder / "canonical-hostile.parquet", rows, CANONICAL_TYPES)
        return "canonical-hostile.parquet"

    @case("canonical-wrong-types.parquet")
    def _(folder: Path) -> str:
        types = {**CANONICAL_TYPES, "ts": pa.string()}
        write_parquet(folder / "canonical-wrong-types.parquet", [canonical_row(ts="yesterday")], types)
        return "canonical-wrong-types.parquet"

    # ---- hostile file names (a good course file)
    for label, fname in (("esc", f"flows{ESC}\x07.parquet"), ("rlo", "flows\u202egpj.parquet"), ("nl", "a\nb.parquet")):

        @case(f"name-{label}")
        def _(folder: Path, fname: str = fname) -> str:
            write_parquet(folder / fname, [course_row()], COURSE_TYPES)
            return fname

    @case("name-markup-not-parquet")
    def _(folder: Path) -> str:
        fname = f"{MARKUP}{ESC}.parquet"
        (folder / fname).write_bytes(b"PAR1 not really")
        return fname

    # ---- Zeek TSV
    good_zeek = zeek_header() + many(zeek_line)
    text("zeek-header-only.log", zeek_header())
    text("zeek-cut-mid-line.log", good_zeek + zeek_line()[:25])
    text("zeek-cut-gzip.log.gz", gz(good_zeek.encode())[:-40])
    text("zeek-cut-gzip-header.log.gz", gz(good_zeek.encode())[:12])
    text("zeek-cut-zstd.log.zst", zst(good_zeek.encode())[:-20])
    text("zeek-garbage-gzip.log.gz", b"\x1f\x8b" + bytes(range(256)) * 2)
    text("zeek-garbage-zstd.log.zst", b"\x28\xb5\x2f\xfd" + bytes(range(256)) * 2)
    text("zeek-missing-field.log", zeek_header([f for f in ZEEK_FIELDS if f != "resp_bytes"]) + "1\t2\n")
    text("zeek-duplicated-field.log", zeek_header([*ZEEK_FIELDS, "proto"]) + zeek_line().rstrip("\n") + "\tudp\n")
    text(
        "zeek-values.log",
        zeek_header()
        + zeek_line()
        + zeek_line(ts="NaN")
        + zeek_line(ts="yesterday")
        + zeek_line(ts="99999999999999999999")
        + zeek_line(ts="-1.5")
        + zeek_line(**{"id.resp_p": "65536"})
        + zeek_line(**{"id.resp_p": "-1"})
        + zeek_line(**{"id.resp_p": "1.5"})
        + zeek_line(orig_bytes=str(U64_MAX))
        + zeek_line(orig_bytes=str(ABOVE_I64))
        + zeek_line(resp_bytes="-5")
        + zeek_line(orig_bytes="-")
        + zeek_line(**{"id.orig_h": "fe80::1%eth0"})
        + zeek_line(**{"id.resp_h": "2001:DB8::1"})
        + zeek_line(proto=HOSTILE.replace("\n", " ").replace("\t", " "))
        + zeek_line(**{"id.resp_h": MARKUP})
        + zeek_line(**{"id.orig_h": ESC + "\x07\x00"}),
    )
    text(
        "zeek-sums-past-int64.log",
        zeek_header() + zeek_line(orig_bytes=str(I64_MAX), resp_bytes="0") * 3 + zeek_line(resp_bytes=str(I64_MAX)) * 2,
    )
    text("zeek-binary-junk.log", zeek_header() + "\x00\x01\x02\xff\xfe" * 50 + "\n")

    # ---- Zeek JSON
    good_json = many(zeek_json)
    text("zeek-json-cut.json", good_json + zeek_json()[:30])
    text("zeek-json-cut-gzip.json.gz", gz(good_json.encode())[:-30])
    text("zeek-json-cut-zstd.json.zst", zst(good_json.encode())[:-10])
    text(
        "zeek-json-values.json",
        zeek_json()
        + zeek_json(ts=float("nan")).replace("NaN", "NaN")
        + zeek_json(ts="yesterday")
        + zeek_json(ts="99999-01-01T00:00:00Z")
        + zeek_json(ts=-1.5)
        + zeek_json(ts=U64_MAX)
        + zeek_json(**{"id.resp_p": 65536})
        + zeek_json(**{"id.resp_p": -1})
        + zeek_json(**{"id.resp_p": 1.5})
        + zeek_json(orig_bytes=U64_MAX)
        + zeek_json(orig_bytes=ABOVE_I64)
        + zeek_json(orig_bytes=[1, 2])
        + zeek_json(resp_bytes={"a": 1})
        + zeek_json(**{"id.orig_h": "fe80::1%eth0"})
        + zeek_json(**{"id.orig_h": HOSTILE})
        + zeek_json(proto=HOSTILE)
        + zeek_json(**{"id.resp_h": MARKUP})
        + zeek_json(**{"id.resp_h": None})
        + "[1, 2, 3]\n"
        + "null\n"
        + '"just a string"\n',
    )
    text("zeek-json-sums-past-int64.json", zeek_json(orig_bytes=I64_MAX, resp_bytes=0) * 3)
    text(
        "zeek-json-duplicated-key.json",
        '{"ts": 1713520800.0, "id.orig_h": "192.168.1.10", "id.orig_h": "10.0.0.1", "id.resp_h": "8.8.8.8", '
        '"id.resp_p": 443, "proto": "tcp", "orig_bytes": 1, "resp_bytes": 2, "conn_state": "SF"}\n',
    )

    # ---- Argus
    good_argus = ARGUS_HEADER + many(argus_line)
    text("argus-header-only.binetflow", ARGUS_HEADER)
    text("argus-cut.binetflow", good_argus + argus_line()[:30])
    text("argus-cut.binetflow.gz", gz(good_argus.encode())[:-25])
    text("argus-cut.binetflow.zst", zst(good_argus.encode())[:-25])
    text("argus-wrong-columns.binetflow", "StartTime,SrcAddr,DstAddr,Foo\n1,2,3,4\n")
    text(
        "argus-duplicated-columns.binetflow",
        ARGUS_HEADER.rstrip("\n") + ",Proto\n" + argus_line().rstrip("\n") + ",udp\n",
    )
    text(
        "argus-values.binetflow",
        ARGUS_HEADER
        + argus_line()
        + argus_line(StartTime="NaN")
        + argus_line(StartTime="99999/01/01 00:00:00")
        + argus_line(StartTime="-1")
        + argus_line(Dport="65536")
        + argus_line(Dport="-1")
        + argus_line(Dport="1.5")
        + argus_line(Dport="0xZZ")
        + argus_line(SrcBytes=str(U64_MAX), TotBytes=str(U64_MAX))
        + argus_line(SrcBytes=str(I64_MAX), TotBytes="0")
        + argus_line(TotBytes="50")
        + argus_line(SrcAddr="fe80::1%eth0")
        + argus_line(DstAddr="2001:DB8::1")
        + argus_line(SrcAddr=HOSTILE.replace("\n", " ").replace(",", " "))
        + argus_line(Proto=MARKUP)
        + argus_line(DstAddr="\x00\x07"),
    )
    text("argus-values.tsv.binetflow", ARGUS_HEADER.replace(",", "\t") + argus_line("\t") + argus_line("\t", Dport="x"))
    text(
        "argus-sums-past-int64.binetflow",
        ARGUS_HEADER + argus_line(SrcBytes=str(I64_MAX), TotBytes=str(I64_MAX)) * 3,
    )

    # ---- nfdump CSV
    good_nfdump = NFDUMP_HEADER + many(nfdump_line) + NFDUMP_SUMMARY
    text("nfdump-header-only.csv", NFDUMP_HEADER)
    text("nfdump-cut.csv", NFDUMP_HEADER + many(nfdump_line) + nfdump_line()[:20])
    text("nfdump-cut.csv.gz", gz(good_nfdump.encode())[:-30])
    text("nfdump-wrong-columns.csv", "ts,te,td,sa,da,pr,ibyt\n1,2,3,4,5,6,7\n")
    text(
        "nfdump-duplicated-columns.csv",
        NFDUMP_HEADER.rstrip("\n") + ",sa\n" + nfdump_line().rstrip("\n") + ",1.1.1.1\n",
    )
    text(
        "nfdump-values.csv",
        NFDUMP_HEADER
        + nfdump_line()
        + nfdump_line(ts="NaN")
        + nfdump_line(ts="99999-01-01 00:00:00")
        + nfdump_line(dp="65536")
        + nfdump_line(dp="-1")
        + nfdump_line(dp="1.5")
        + nfdump_line(ibyt=str(U64_MAX))
        + nfdump_line(obyt="-1")
        + nfdump_line(sa="fe80::1%eth0")
        + nfdump_line(pr=MARKUP)
        + nfdump_line(da=ESC)
        + NFDUMP_SUMMARY,
    )
    text("nfdump-sums-past-int64.csv", NFDUMP_HEADER + nfdump_line(ibyt=str(I64_MAX), obyt="0") * 3)
    text("nfdump-fake-binary.nfcapd", b"\x0c\xa5\x01\x00" + b"\x00" * 200)

    # ---- generic CSV with --map
    good_mapped = MAPPED_HEADER + many(mapped_line)
    text("mapped-header-only.csv", MAPPED_HEADER, MAP_ARGS)
    text("mapped-cut.csv.gz", gz(good_mapped.encode())[:-30], MAP_ARGS)
    text("mapped-cut.csv.zst", zst(good_mapped.encode())[:-30], MAP_ARGS)
    text("mapped-missing-column.csv", "Time,Src,Dst,P,DPort,Up\n1713520800,1,2,tcp,1,2\n", MAP_ARGS)
    text(
        "mapped-duplicated-column.csv",
        MAPPED_HEADER.rstrip("\n") + ",Src\n" + mapped_line().rstrip("\n") + ",x\n",
        MAP_ARGS,
    )
    text(
        "mapped-values.csv",
        MAPPED_HEADER
        + mapped_line()
        + mapped_line(Time="")
        + mapped_line(DPort="65536")
        + mapped_line(DPort="-1")
        + mapped_line(DPort="1.5")
        + mapped_line(Up=str(U64_MAX))
        + mapped_line(Up=str(ABOVE_I64))
        + mapped_line(Down="-3")
        + mapped_line(Src="fe80::1%eth0")
        + mapped_line(Dst="2001:DB8::1")
        + mapped_line(P="6")
        + mapped_line(P=MARKUP)
        + mapped_line(Src='"' + HOSTILE.replace("\x00", "") + '"')
        + "1713520800,short\n",
        MAP_ARGS,
    )
    text("mapped-nul.csv", MAPPED_HEADER + mapped_line(Src="\x00"), MAP_ARGS)
    text("mapped-time-text.csv", MAPPED_HEADER + mapped_line() + mapped_line(Time="yesterday"), MAP_ARGS)
    text("mapped-time-nan.csv", MAPPED_HEADER + mapped_line() + mapped_line(Time="NaN"), MAP_ARGS)
    text("mapped-time-huge.csv", MAPPED_HEADER + mapped_line() + mapped_line(Time=str(U64_MAX)), MAP_ARGS)
    text(
        "mapped-time-iso.csv",
        MAPPED_HEADER + mapped_line(Time="2024-04-19T10:00:00Z") + mapped_line(Time="99999-01-01T00:00:00Z"),
        MAP_ARGS,
    )
    text(
        "mapped-time-iso-negative.csv",
        MAPPED_HEADER + mapped_line(Time="2024-04-19T10:00:00Z") + mapped_line(Time="-0001-01-01T00:00:00Z"),
        MAP_ARGS,
    )
    text(
        "mapped-sums-past-int64.csv",
        MAPPED_HEADER + mapped_line(Up=str(I64_MAX), Down="0") * 3,
        MAP_ARGS,
    )
    text(
        "mapped-time-s-unit.csv:s",
        MAPPED_HEADER + mapped_line(Time="1e300") + mapped_line(),
        (*MAP_ARGS, "--time-unit", "s"),
    )
    text(
        "mapped-time-ms-unit.csv:ms",
        MAPPED_HEADER + mapped_line(Time=str(U64_MAX)) + mapped_line(),
        (*MAP_ARGS, "--time-unit", "ms"),
    )
    text(
        "mapped-time-ns-unit.csv:ns",
        MAPPED_HEADER + mapped_line(Time=str(-(2**63))) + mapped_line(),
        (*MAP_ARGS, "--time-unit", "ns"),
    )
    text(
        "mapped-cs-midnight.csv:cs",
        MAPPED_HEADER + mapped_line(Time=str(I64_MAX)) + mapped_line(Time="100"),
        (*MAP_ARGS, "--time-unit", "cs-midnight"),
    )

    @case("mapped-parquet-uint64.parquet", MAP_ARGS)
    def _(folder: Path) -> str:
        types = {
            "Time": pa.uint64(),
            "Src": pa.string(),
            "Dst": pa.string(),
            "P": pa.string(),
            "DPort": pa.uint64(),
            "Up": pa.uint64(),
            "Down": pa.uint64(),
        }
        rows = [
            {
                "Time": 1713520800,
                "Src": GOOD["src_ip"],
                "Dst": GOOD["dst_ip"],
                "P": "tcp",
                "DPort": 443,
                "Up": 1,
                "Down": 2,
            },
            {
                "Time": U64_MAX,
                "Src": GOOD["src_ip"],
                "Dst": GOOD["dst_ip"],
                "P": "tcp",
                "DPort": U64_MAX,
                "Up": U64_MAX,
                "Down": 2,
            },
        ]
        write_parquet(folder / "mapped-parquet-uint64.parquet", rows, types)
        return "mapped-parquet-uint64.parquet"

    # ---- a folder mixing formats, one of them damaged
    @case("mixed-folder")
    def _(folder: Path) -> str:
        sub = folder / "mixed"
        sub.mkdir()
        write_parquet(sub / "a.parquet", [course_row()], COURSE_TYPES)
        (sub / "b.log").write_text(good_zeek)
        (sub / "c.binetflow.gz").write_bytes(gz(good_argus.encode())[:-25])
        (sub / "README").write_text("not flows\n")
        return "mixed"

    return cases


def build(root: Path) -> list[Case]:
    """Write every case into its own folder under `root`; the cases, in a fixed order."""
    out = []
    for name, make in _cases().items():
        folder = root / name.replace(":", "-")
        folder.mkdir(parents=True)
        files, args = make(folder)
        out.append(Case(name, tuple(str(folder / f) for f in files), args))
    return out


def names() -> list[str]:
    return list(_cases())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py OUTDIR")
    for c in build(Path(sys.argv[1])):
        print(c.name, *c.args)
