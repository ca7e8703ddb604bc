"""Zeek conn logs: Zeek's tab-separated logs (with their `#` header) and its JSON lines; plain, gzip or zstd.

Both are read by the engine (DuckDB `read_csv` / `read_json`, every value as text), never row by row in
Python. The TSV columns are taken from the file's own `#fields` line, so extra fields (`_node_name` in
front, Stratosphere's `label detailedlabel` behind) are fine; fields Sentinel does not use are ignored,
and the ones that are not standard Zeek conn fields are named in the report.

Mapping to the canonical flow (sentinel.schema):

    ts        <- ts, exactly: the decimal seconds text becomes microseconds without passing through a
                 float (JSON: epoch seconds, or ISO 8601 text where Zeek wrote JSON::TS_ISO8601)
    src_ip    <- id.orig_h          dst_ip     <- id.resp_h         proto <- proto, lower case
    port      <- id.resp_p (for ICMP Zeek puts the ICMP code there; it is kept as the port)
    up_bytes  <- orig_bytes         down_bytes <- resp_bytes
    src_port  <- id.orig_p          duration   <- duration          up_packets <- orig_pkts
    down_packets <- resp_pkts       conn_state <- conn_state        service    <- service

Decisions:

- Unset payload counters are zero. Zeek leaves orig_bytes/resp_bytes unset (`-` in TSV, the key absent
  or null in JSON) for many real connections (rejected or unanswered TCP, some UDP): it measured no
  payload. Such a row is a flow with 0 bytes, not a malformed row. A counter that is present but not a
  non-negative integer (`(empty)`, text, a negative number) stays NULL or negative and is counted
  malformed, as is every other unset required field (`-` and `(empty)` read as NULL).
- A TSV row with fewer or more fields than `#fields` names (typically a last line cut off) is
  malformed: its byte counters are NULL ("missing or negative bytes"), whatever the fields it has. (A
  line cut inside its last field has every field; the canonical ones are intact and it is read.)
  A JSON line that does not parse (e.g. cut off) is a row of NULLs ("missing or unreadable time").
- A compressed file whose stream ends early or is damaged (a log copied while being written) does not
  stop the run: its intact part is decompressed to a temporary file (removed at exit), read, and the
  report says so. Checking costs one decompression pass per compressed file, in parallel across files.
- JSON: Zeek omits unset fields from a record, so a key absent from a file's first lines may still be a
  column of the log. `service` and `duration` (often unset, e.g. throughout a scan) count as present in
  every Zeek conn JSON file; the other optional columns count as present where their key is seen.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from sentinel import schema
from sentinel.sources.base import ReadOptions, Sample, Scan, projection, proto_sql, sql_list, sql_string

#: Zeek conn fields a log needs to be read as flows (TSV `#fields`; JSON keys, where bytes may be unset).
_NEEDED_TSV = ("ts", "id.orig_h", "id.resp_h", "id.resp_p", "proto", "orig_bytes", "resp_bytes")
#: Keys only a conn log has among Zeek's logs with `id.orig_h` and `proto` (dns.log has those too).
_CONN_ONLY_KEYS = ("conn_state", "orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts", "missed_bytes", "history")

#: Canonical optional column -> Zeek conn field.
_OPTIONAL_FIELDS = {
    schema.SRC_PORT: "id.orig_p",
    schema.DURATION: "duration",
    schema.UP_PACKETS: "orig_pkts",
    schema.DOWN_PACKETS: "resp_pkts",
    schema.CONN_STATE: "conn_state",
    schema.SERVICE: "service",
}
#: Present in every Zeek conn JSON log even where no record of a file's head sets them (see the docstring).
_JSON_ALWAYS = (schema.SERVICE, schema.DURATION)

#: Zeek's conn.log fields (base scripts and common policies): others are named as columns not used.
_STANDARD_FIELDS = frozenset(
    [
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "service",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "conn_state",
        "local_orig",
        "local_resp",
        "missed_bytes",
        "history",
        "orig_pkts",
        "orig_ip_bytes",
        "resp_pkts",
        "resp_ip_bytes",
        "tunnel_parents",
        "orig_l2_addr",
        "resp_l2_addr",
        "vlan",
        "inner_vlan",
        "community_id",
        "ip_proto",
        "speculative_service",
        "id.vlan",
        "id.inner_vlan",
        "orig_cc",
        "resp_cc",
        "app",
    ]
)

_COMPRESSION = {None: "none", "gzip": "gzip", "zstd": "zstd"}


# -- the TSV header ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TsvHeader:
    separator: str
    fields: tuple[str, ...]
    unset: str  # `#unset_field`, "-"
    empty: str  # `#empty_field`, "(empty)"
    header_lines: int  # `#` lines before the first data row


def _unescape(value: str) -> str:
    """`\\x09` (how Zeek writes its separator) as the character."""
    try:
        return value.encode("ascii").decode("unicode_escape")
    except (UnicodeError, ValueError):
        return value


def tsv_header(sample: Sample) -> TsvHeader | None:
    """The header of a Zeek TSV log from its first lines; None if the head has no `#fields` line."""
    separator = "\t"
    meta: dict[str, str] = {}
    fields: tuple[str, ...] | None = None
    count = 0
    for line in sample.lines():
        if not line.startswith("#"):
            break
        count += 1
        if line.startswith("#separator "):
            separator = _unescape(line[len("#separator ") :].strip()) or "\t"
            continue
        key, _, value = line.partition(separator)
        if key == "#fields":
            fields = tuple(line.split(separator)[1:])
        else:
            meta[key] = value
    if not fields:
        return None
    return TsvHeader(
        separator=separator,
        fields=fields,
        unset=meta.get("#unset_field", "-"),
        empty=meta.get("#empty_field", "(empty)"),
        header_lines=count,
    )


def _first_json_object(sample: Sample) -> dict | None:
    for line in sample.lines():
        if line.strip():
            try:
                value = json.loads(line)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def _head_keys(sample: Sample) -> set[str]:
    keys: set[str] = set()
    for line in sample.lines():
        try:
            value = json.loads(line) if line.strip() else None
        except ValueError:
            continue
        if isinstance(value, dict):
            keys |= value.keys()
    return keys


# -- damaged compressed files ------------------------------------------------------------------------
def _decompressor(compression: str) -> Any:  # a zlib or zstandard decompression object
    if compression == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


def _stream(
    path: str, compression: str, sink: Callable[[bytes], None] | None = None, chunk_size: int = 1 << 18
) -> str | None:
    """Decompress `path` (every gzip member / zstd frame), passing the output to `sink` if given.

    Returns None if the stream is whole, else what is wrong with it ("its gzip stream ends early", ...).
    """
    import zstandard

    errors = (zlib.error, zstandard.ZstdError)
    decomp = _decompressor(compression)
    pending = False  # input fed to a member not finished yet
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            data = chunk
            while data:
                try:
                    out = decomp.decompress(data)
                except errors as exc:
                    return f"its {compression} stream is damaged: {exc}"
                if sink is not None and out:
                    sink(out)
                pending = True
                if not decomp.eof:
                    break
                data = decomp.unused_data
                pending = False
                decomp = _decompressor(compression)
    return f"its {compression} stream ends early" if pending else None


_temp_dir: str | None = None


def _temp_path(name: str) -> str:
    global _temp_dir
    if _temp_dir is None:
        _temp_dir = tempfile.mkdtemp(prefix="sentinel-zeek-")
        atexit.register(shutil.rmtree, _temp_dir, ignore_errors=True)
    fd, path = tempfile.mkstemp(dir=_temp_dir, suffix="-" + os.path.basename(name))
    os.close(fd)
    return path


@dataclass(frozen=True)
class _Part:
    """Files read by one table-function call: `paths` as they are, or one salvaged file standing for `file`."""

    paths: tuple[str, ...]
    compression: str | None
    file: str | None = None  # the damaged original a salvaged temporary file stands for


def _salvage(path: str, compression: str, why: str) -> tuple[_Part, str]:
    target = _temp_path(path)
    lines = 0
    last = b"\n"
    with open(target, "wb") as out:

        def write(data: bytes) -> None:
            nonlocal lines, last
            out.write(data)
            lines += data.count(b"\n")
            last = data[-1:]

        # Small pieces: the output of the piece that fails is lost, so little of the intact part is.
        _stream(path, compression, write, chunk_size=1 << 12)
    lines += last != b"\n"
    note = f"{path} is truncated ({why}): read its first {lines} lines."
    return _Part((target,), None, file=path), note


def _parts(samples: Sequence[Sample]) -> tuple[list[_Part], list[str]]:
    """The files grouped by compression, damaged compressed ones salvaged; and notes saying so."""
    compressed = [s for s in samples if s.compression]
    problems: dict[str, str | None] = {}
    if compressed:
        with ThreadPoolExecutor(max_workers=min(len(compressed), os.cpu_count() or 1)) as pool:
            checks = pool.map(lambda s: _stream(s.path, s.compression), compressed)
            problems = {s.path: why for s, why in zip(compressed, checks, strict=True)}
    by_compression: dict[str | None, list[str]] = {}
    salvaged: list[_Part] = []
    notes: list[str] = []
    for s in samples:
        why = problems.get(s.path)
        if why is None:
            by_compression.setdefault(s.compression, []).append(s.path)
            continue
        part, note = _salvage(s.path, s.compression or "", why)
        salvaged.append(part)
        notes.append(note)
    parts = [_Part(tuple(paths), compression) for compression, paths in by_compression.items()]
    return parts + salvaged, notes


def _from(part: _Part, call: str) -> str:
    """SELECT every column of one table-function call, with `_file` naming the original file.

    `call` ends with the table function's options; `filename` is added here for files read as they are.
    """
    if part.file is None:
        return f"SELECT * FROM {call}, filename = '{schema.FILE}')"
    return f"SELECT *, {sql_string(part.file)} AS {schema.FILE} FROM {call})"


# -- SQL helpers ---------------------------------------------------------------------------------------
def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _exact_seconds(text: str) -> str:
    """Decimal seconds text as exact integer microseconds (NULL where it is not a number in range).

    DECIMAL(18,6) holds the text exactly (to the microsecond; finer digits are rounded); its text form
    always has six decimals, so dropping the point gives microseconds as an integer: no float involved,
    and faster than decimal arithmetic, which widens to 128 bits.
    """
    return f"TRY_CAST(replace(CAST(TRY_CAST({text} AS DECIMAL(18,6)) AS VARCHAR), '.', '') AS BIGINT)"


def _iso_time(text: str) -> str:
    """ISO 8601 text as microseconds: its UTC offset applied where it has one, else read as UTC.

    (Casting to TIMESTAMP would drop an offset; TIMESTAMPTZ would read a time without one in the
    session's time zone, which is the machine's.)
    """
    zoned = f"regexp_matches({text}, '(Z|z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$')"
    return (
        f"CASE WHEN {zoned} THEN epoch_us(TRY_CAST({text} AS TIMESTAMPTZ)) "
        f"ELSE epoch_us(TRY_CAST({text} AS TIMESTAMP)) END"
    )


def _counter(text: str, unset_sql: str, complete: str | None = None) -> str:
    """A byte counter: unset means 0 (Zeek measured no payload); anything else as it is (bad: NULL)."""
    guard = f"WHEN NOT ({complete}) THEN NULL " if complete else ""
    return f"CASE {guard}WHEN {unset_sql} THEN '0' ELSE {text} END"


class ZeekConn:
    name: ClassVar[str] = "zeek"
    description: ClassVar[str] = "Zeek conn logs: TSV with Zeek's # header or JSON lines; plain, .gz or .zst"

    def sniff(self, sample: Sample) -> bool:
        header = tsv_header(sample)
        if header is not None:
            return set(_NEEDED_TSV) <= set(header.fields)
        record = _first_json_object(sample)
        return (
            record is not None
            and {"ts", "id.orig_h", "id.resp_h", "proto"} <= record.keys()
            and any(k in record for k in _CONN_ONLY_KEYS)
        )

    def group_key(self, sample: Sample) -> Hashable:
        header = tsv_header(sample)
        if header is None:
            return "json"
        return (header.separator, header.fields, header.unset, header.empty, header.header_lines)

    def scan(self, samples: Sequence[Sample], options: ReadOptions) -> Scan:
        header = tsv_header(samples[0])
        if header is None:
            return self._scan_json(samples)
        return self._scan_tsv(samples, header)

    # -- TSV -------------------------------------------------------------------------------------
    def _scan_tsv(self, samples: Sequence[Sample], header: TsvHeader) -> Scan:
        fields = header.fields  # the same in every file of the group (group_key)
        # Columns by position: c0.. for the fields, one more to catch rows with too many fields.
        n = len(fields)
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n + 1)) + "}"
        parts, notes = _parts(samples)

        def call(part: _Part) -> str:
            return (
                f"read_csv({sql_list(part.paths)}, auto_detect = false, header = false, "
                f"delim = {sql_string(header.separator)}, skip = {header.header_lines}, columns = {columns}, "
                "quote = '', escape = '', null_padding = true, strict_mode = false, "
                f"compression = '{_COMPRESSION[part.compression]}'"
            )

        raw = " UNION ALL ".join(_from(p, call(p)) for p in parts)
        col = {f: f"c{i}" for i, f in reversed(list(enumerate(fields)))}  # the first of repeated names

        def text(field: str) -> str:  # unset and empty values as NULL
            return f"nullif(nullif({col[field]}, {sql_string(header.unset)}), {sql_string(header.empty)})"

        complete = f"c{n - 1} IS NOT NULL AND c{n} IS NULL"
        unset = {f: f"{col[f]} = {sql_string(header.unset)}" for f in ("orig_bytes", "resp_bytes")}
        mapping = {
            schema.TS: _exact_seconds(col["ts"]),
            schema.SRC_IP: text("id.orig_h"),
            schema.DST_IP: text("id.resp_h"),
            schema.PROTO: proto_sql(text("proto")),
            schema.PORT: col["id.resp_p"],
            schema.UP_BYTES: _counter(col["orig_bytes"], unset["orig_bytes"], complete),
            schema.DOWN_BYTES: _counter(col["resp_bytes"], unset["resp_bytes"], complete),
        }
        optional = {c: f for c, f in _OPTIONAL_FIELDS.items() if f in col}
        for canonical, field in optional.items():
            is_text = schema.BY_NAME[canonical].sql_type == "VARCHAR"
            mapping[canonical] = text(field) if is_text else col[field]
        mapping[schema.FILE] = schema.FILE
        # `#close` (and the header of logs concatenated after the first) are rows starting with '#'.
        sql = f"SELECT {projection(mapping)} FROM ({raw}) WHERE c0 IS NULL OR NOT starts_with(c0, '#')"
        return Scan(
            format="zeek",
            files=tuple(s.path for s in samples),
            sql=sql,
            optional=frozenset(optional),
            header_lines=header.header_lines,
            extra_columns=tuple(sorted(set(fields) - _STANDARD_FIELDS)),
            notes=tuple(notes),
        )

    # -- JSON ------------------------------------------------------------------------------------
    def _scan_json(self, samples: Sequence[Sample]) -> Scan:
        seen: set[str] = set()
        for s in samples:
            seen |= _head_keys(s)
        keys = ["ts", "id.orig_h", "id.resp_h", "proto", "id.resp_p", "orig_bytes", "resp_bytes"]
        keys += [f for f in _OPTIONAL_FIELDS.values() if f not in keys]
        columns = "{" + ", ".join(f"{sql_string(k)}: 'VARCHAR'" for k in keys) + "}"
        parts, notes = _parts(samples)

        def call(part: _Part) -> str:
            return (
                f"read_json({sql_list(part.paths)}, format = 'newline_delimited', columns = {columns}, "
                f"ignore_errors = true, compression = '{_COMPRESSION[part.compression]}'"
            )

        raw = " UNION ALL ".join(_from(p, call(p)) for p in parts)
        q = {k: _quote(k) for k in keys}
        ts = f"coalesce({_exact_seconds(q['ts'])}, {_iso_time(q['ts'])})"
        mapping = {
            schema.TS: ts,
            schema.SRC_IP: q["id.orig_h"],
            schema.DST_IP: q["id.resp_h"],
            schema.PROTO: proto_sql(q["proto"]),
            schema.PORT: q["id.resp_p"],
            schema.UP_BYTES: _counter(q["orig_bytes"], f"{q['orig_bytes']} IS NULL"),
            schema.DOWN_BYTES: _counter(q["resp_bytes"], f"{q['resp_bytes']} IS NULL"),
        }
        optional = {c: f for c, f in _OPTIONAL_FIELDS.items() if f in seen or c in _JSON_ALWAYS}
        for canonical, field in optional.items():
            mapping[canonical] = q[field]
        mapping[schema.FILE] = schema.FILE
        return Scan(
            format="zeek",
            files=tuple(s.path for s in samples),
            sql=f"SELECT {projection(mapping)} FROM ({raw})",
            optional=frozenset(optional),
            extra_columns=tuple(sorted(seen - _STANDARD_FIELDS)),
            notes=tuple(notes),
        )
