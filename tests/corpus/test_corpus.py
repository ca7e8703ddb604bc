"""Every case of the bad-input corpus (tests/corpus/make_corpus.py) through the command line, in process.

Each case has its expected outcome: a run that succeeds with exact row and malformed-row counts per reason,
or a one-line error with its exit status. Whatever the case: no traceback, never exit status 1 (a bug),
one line on stderr for an error, and no raw control character on stdout or stderr.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from sentinel import cli
from tests.corpus import make_corpus


@dataclass(frozen=True)
class Ok:
    rows: int
    rejected: dict[str, int]


@dataclass(frozen=True)
class Error:
    status: int
    message: str  # a part of the one-line message


def ok(rows: int, rejected: dict[str, int]) -> Ok:
    return Ok(rows, rejected)


def error(status: int, message: str) -> Error:
    return Error(status, message)


TIME = "missing or unreadable time"
NOT_RECOGNISED = "is not a flow file Sentinel recognises"

EXPECTED: dict[str, Ok | Error] = {
    "empty.parquet": error(3, "not a readable Parquet file (it does not star"),
    "empty.log": error(3, "is not a flow file Sentinel recognises (canon"),
    "empty.binetflow": error(3, "is not a flow file Sentinel recognises (canon"),
    "empty.csv": error(3, "is not a flow file Sentinel recognises (canon"),
    "empty.csv.gz": error(3, "is not a flow file Sentinel recognises (canon"),
    "empty.csv:mapped": error(3, "is not a flow file Sentinel recognises (canon"),
    "empty-gzip.csv.gz:mapped": error(3, "is not a flow file Sentinel recognises (canon"),
    "empty-zstd.log.zst": error(3, "is not a flow file Sentinel recognises (canon"),
    "course-zero-rows.parquet": ok(0, {}),
    "course-truncated.parquet": error(3, "not a readable Parquet file (Parquet magic by"),
    "course-corrupt-pages.parquet": error(3, "cannot be read: don't know what type: \\x0f"),
    "course-fuzzed-footer.parquet": error(3, "not a readable Parquet file (Couldn't deseria"),
    "course-missing-column.parquet": error(3, "missing column(s) down_bytes; a course flow f"),
    "course-duplicated-column.parquet": error(3, "column(s) src_ip appear more than once"),
    "course-wrong-types.parquet": error(3, "column src_ip is int64, expected string"),
    "course-float-timestamp-nan.parquet": error(3, "column timestamp is double, expected integer"),
    "course-hostile-strings.parquet": ok(6, {"missing or invalid proto": 2, "unparseable src_ip or dst_ip": 3}),
    "course-uint64-bytes.parquet": ok(4, {"missing or negative bytes": 2}),
    "course-all-uint64-max.parquet": ok(
        3, {"missing or unreadable time": 3, "port missing or outside 0-65535": 3, "missing or negative bytes": 3}
    ),
    "course-sums-past-int64.parquet": ok(8, {}),
    "course-timestamps.parquet": ok(4, {"missing or unreadable time": 2}),
    "course-time-beyond-clock.parquet": ok(2, {"missing or unreadable time": 1}),
    "course-uint64-timestamp.parquet": ok(2, {"missing or unreadable time": 1}),
    "course-ports.parquet": ok(6, {"port missing or outside 0-65535": 5}),  # 1.5 is not a port (no rounding)
    "course-addresses.parquet": ok(11, {"missing src_ip": 1, "unparseable src_ip or dst_ip": 2}),
    "canonical-zero-rows.parquet": ok(0, {}),
    "canonical-huge.parquet": ok(
        7, {"missing or unreadable time": 1, "port missing or outside 0-65535": 2, "missing or negative bytes": 2}
    ),
    "canonical-sums-past-int64.parquet": ok(7, {}),
    "canonical-hostile.parquet": ok(4, {"missing or invalid proto": 1, "unparseable src_ip or dst_ip": 2}),
    "canonical-wrong-types.parquet": error(3, "column ts is string, expected integer"),
    "name-esc": ok(1, {}),
    "name-rlo": ok(1, {}),
    "name-nl": ok(1, {}),
    "name-markup-not-parquet": error(3, "not a readable Parquet file (Parquet magic by"),
    "zeek-header-only.log": ok(0, {}),
    "zeek-cut-mid-line.log": ok(
        41,
        {
            "missing dst_ip": 1,
            "missing or invalid proto": 1,
            "port missing or outside 0-65535": 1,
            "missing or negative bytes": 1,
        },
    ),
    "zeek-cut-gzip.log.gz": ok(1, {"missing or invalid proto": 1, "missing or negative bytes": 1}),
    "zeek-cut-gzip-header.log.gz": error(3, "is not a flow file Sentinel recognises (canon"),
    "zeek-cut-zstd.log.zst": error(3, "is not a flow file Sentinel recognises (canon"),
    "zeek-garbage-gzip.log.gz": error(3, "is not a readable gzip file (Error -3 while d"),
    "zeek-garbage-zstd.log.zst": error(3, "is not a readable zstd file (zstd decompress"),
    "zeek-missing-field.log": error(3, "is not a flow file Sentinel recognises (canon"),
    "zeek-duplicated-field.log": ok(1, {}),
    "zeek-values.log": ok(
        17,
        {
            "missing or unreadable time": 3,
            "missing or invalid proto": 1,
            "port missing or outside 0-65535": 3,  # 1.5 is not a port (no rounding)
            "missing or negative bytes": 3,
            "unparseable src_ip or dst_ip": 3,
        },
    ),
    "zeek-sums-past-int64.log": ok(5, {}),
    "zeek-binary-junk.log": ok(
        1,
        {
            "missing or unreadable time": 1,
            "missing src_ip": 1,
            "missing dst_ip": 1,
            "missing or invalid proto": 1,
            "port missing or outside 0-65535": 1,
            "missing or negative bytes": 1,
        },
    ),
    "zeek-json-cut.json": ok(
        41,
        {
            "missing or unreadable time": 1,
            "missing src_ip": 1,
            "missing dst_ip": 1,
            "missing or invalid proto": 1,
            "port missing or outside 0-65535": 1,
        },
    ),
    "zeek-json-cut-gzip.json.gz": ok(
        21,
        {
            "missing or unreadable time": 1,
            "missing src_ip": 1,
            "missing dst_ip": 1,
            "missing or invalid proto": 1,
            "port missing or outside 0-65535": 1,
        },
    ),
    "zeek-json-cut-zstd.json.zst": error(3, "is not a flow file Sentinel recognises (canon"),
    "zeek-json-values.json": ok(
        21,
        {
            "missing or unreadable time": 6,
            "missing src_ip": 3,
            "missing dst_ip": 4,
            "missing or invalid proto": 4,
            "port missing or outside 0-65535": 6,  # 1.5 is not a port (no rounding)
            "missing or negative bytes": 4,
            "unparseable src_ip or dst_ip": 3,
        },
    ),
    "zeek-json-sums-past-int64.json": ok(3, {}),
    "zeek-json-duplicated-key.json": ok(1, {}),
    "argus-header-only.binetflow": ok(0, {}),
    "argus-cut.binetflow": ok(
        41,
        {
            "missing src_ip": 1,
            "missing dst_ip": 1,
            "missing or invalid proto": 1,
            "port missing or outside 0-65535": 1,
            "missing or negative bytes": 1,
        },
    ),
    "argus-cut.binetflow.gz": error(3, "cannot be read: IO Error: Unexpected end of G"),
    "argus-cut.binetflow.zst": error(3, "is not a flow file Sentinel recognises (canon"),
    "argus-wrong-columns.binetflow": error(3, "Argus header lacks column(s) Proto, Dport, To"),
    "argus-duplicated-columns.binetflow": error(3, "column(s) Proto appear more than once in the"),
    "argus-values.binetflow": ok(
        16,
        {
            "missing or unreadable time": 2,
            "missing or invalid proto": 1,
            "port missing or outside 0-65535": 3,
            "missing or negative bytes": 3,
            "unparseable src_ip or dst_ip": 3,
        },
    ),
    "argus-values.tsv.binetflow": ok(2, {"port missing or outside 0-65535": 1}),
    "argus-sums-past-int64.binetflow": ok(3, {}),
    "nfdump-header-only.csv": ok(0, {}),
    "nfdump-cut.csv": ok(
        41,
        {
            "missing src_ip": 1,
            "missing dst_ip": 1,
            "missing or invalid proto": 1,
            "port missing or outside 0-65535": 1,
            "missing or negative bytes": 1,
        },
    ),
    "nfdump-cut.csv.gz": error(3, "cannot be read: IO Error: Unexpected end of G"),
    "nfdump-wrong-columns.csv": error(3, "nfdump CSV header lacks column(s) dp, obyt (n"),
    "nfdump-duplicated-columns.csv": error(3, "column(s) sa appear more than once in the hea"),
    "nfdump-values.csv": ok(
        11,
        {
            "missing or unreadable time": 1,
            "missing or invalid proto": 1,
            "port missing or outside 0-65535": 2,
            "missing or negative bytes": 2,
            "unparseable src_ip or dst_ip": 2,
        },
    ),
    "nfdump-sums-past-int64.csv": ok(3, {}),
    "nfdump-fake-binary.nfcapd": ok(0, {}),
    "mapped-header-only.csv": ok(0, {}),
    "mapped-cut.csv.gz": error(3, "cannot be read"),
    "mapped-cut.csv.zst": error(3, "is not a flow file Sentinel recognises (canon"),
    "mapped-missing-column.csv": error(3, "no column 'Down' (--map down_bytes=Down); its"),
    "mapped-duplicated-column.csv": error(3, "is not a flow file Sentinel recognises (canon"),
    "mapped-values.csv": error(3, "cannot be read (CSV Error on Line: 14)"),
    "mapped-nul.csv": error(3, "is not a flow file Sentinel recognises (canon"),
    "mapped-time-text.csv": ok(2, {"missing or unreadable time": 1}),
    "mapped-time-nan.csv": error(3, "cannot guess the unit of the time column Time"),
    "mapped-time-huge.csv": error(3, "cannot guess the unit of the time column Time"),
    "mapped-time-iso.csv": ok(2, {}),
    "mapped-time-iso-negative.csv": ok(2, {}),
    "mapped-sums-past-int64.csv": ok(3, {}),
    "mapped-time-s-unit.csv:s": ok(2, {"missing or unreadable time": 1}),
    "mapped-time-ms-unit.csv:ms": ok(2, {"missing or unreadable time": 1}),
    "mapped-time-ns-unit.csv:ns": ok(2, {}),
    "mapped-cs-midnight.csv:cs": ok(2, {"missing or unreadable time": 1}),
    "mapped-parquet-uint64.parquet": error(3, "cannot guess the unit of the time column Time"),
    "mixed-folder": error(3, "cannot be read: IO Error: Unexpected end of G"),
}
if shutil.which("nfdump") is None:  # the nfdump program converts binary files; without it, a clear error
    EXPECTED["nfdump-fake-binary.nfcapd"] = error(3, "is an nfdump binary file; install nfdump")

#: Byte sums that exceed int64 are exact (HUGEINT in the engine, Python ints in the report).
EXACT_SUMS = {
    "course-sums-past-int64.parquet": {
        "up_bytes": 4 * (2**62 + 1) + 4 * (2**63 - 1),
        "down_bytes": 2 * (2**63 - 1) + 2 * 1000,
    },
}

#: Raw control characters (C0 but tab and newline, DEL, C1) and bidirectional controls.
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """`sentinel argv` in process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def check_run(status: int, out: str, err: str) -> None:
    """What holds for any input: no traceback, no internal error, one line per error, no raw control."""
    assert "Traceback" not in out + err, err
    assert status != 1, err
    assert not _RAW_CONTROL.search(out), "raw control character on stdout"
    assert not _RAW_CONTROL.search(err), "raw control character on stderr"
    if status != 0:
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("sentinel: error: "), err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, make_corpus.Case]:
    return {c.name: c for c in make_corpus.build(tmp_path_factory.mktemp("corpus"))}


def test_every_case_has_an_expected_outcome():
    assert sorted(EXPECTED) == sorted(make_corpus.names())


def test_corpus_is_deterministic(tmp_path):
    def digest(root: Path) -> dict[str, bytes]:
        make_corpus.build(root)
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert digest(tmp_path / "a") == digest(tmp_path / "b")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_case(name, corpus, tmp_path):
    case = corpus[name]
    report = tmp_path / "report.json"
    status, out, err = run_cli(["--data", *case.files, *case.args, "--all", "--json", str(report)])
    check_run(status, out, err)
    expected = EXPECTED[name]
    if isinstance(expected, Error):
        assert status == expected.status, err
        assert expected.message in err, err
        assert case.files[0].split("/")[-1][:4] in err or "\\" in err, "the error names the file"
        return
    assert status == 0, err
    data = json.loads(report.read_text())
    assert data["input"]["rows"] == expected.rows
    assert data["input"]["rejected_by_reason"] == expected.rejected
    assert data["input"]["flows"] + data["input"]["rejected_rows"] == expected.rows
    if name in EXACT_SUMS:
        rows = data["analyses"]["country_volume"]["rows"]
        for column, total in EXACT_SUMS[name].items():
            assert sum(r[column] for r in rows) == total
