"""nfdump flows: CSV exports (`nfdump -r FILE -o csv`) and nfcapd binary files, read through `nfdump`.

The CSV header is `ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,...` (48 columns in nfdump
1.6/1.7). Mapping to the canonical flow:

- `ts` (`2018-01-12 15:37:30`, optionally with milliseconds) -> `ts`. nfdump prints the local time of the
  machine that ran it; exported with TZ=UTC that is UTC. A CSV file's times are read as UTC and the
  report says so; binary files are exported here with TZ=UTC, so their times are exact.
- `sa`, `da`; `pr` in lower case (nfdump prints TCP, UDP, ICMP, ...); `dp` -> `port` and `sp` ->
  `src_port` (an empty port of a port-less protocol is 0, as for Argus); `ibyt` -> `up_bytes`, `obyt` ->
  `down_bytes`, `ipkt`/`opkt` -> packets, `td` -> `duration`, `flg` (TCP flags) -> `conn_state`.
  NetFlow/IPFIX records are unidirectional: a reply is a flow of its own from the responder, and `obyt`
  is 0 unless the exporter recorded both directions (NSEL, bidirectional IPFIX).
- The `Summary` block nfdump appends (`Summary`, `flows,bytes,...`, one line of figures) is not flows and
  is left out, not counted as malformed; every line before it keeps its line number.

Binary nfcapd files are recognised by their magic number (0xA50C, little endian, layout version 1 or 2)
and converted by the `nfdump` program, run with an argument list (no shell) into a temporary CSV file
removed when Sentinel exits. Without the program the run stops with a one-line error saying how to get
it or how to export the file. Malformed rows of a binary file are cited by record number (file:row N).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from collections.abc import Hashable, Sequence
from typing import ClassVar

from sentinel import schema
from sentinel.errors import InputError
from sentinel.sources.argus import check_columns, ident, port_sql, read_csv_sql
from sentinel.sources.base import ReadOptions, Sample, Scan, column_names, projection, proto_sql, sql_string

#: nfcapd file header: uint16 magic 0xA50C then uint16 layout version, little endian.
MAGIC = b"\x0c\xa5"
LAYOUT_VERSIONS = (1, 2)
REQUIRED = ("ts", "sa", "da", "dp", "pr", "ibyt", "obyt")
#: What a reader of a report on NetFlow must know before reading -dx: every flow looks like an upload.
UNIDIRECTIONAL = (
    "nfdump flows are unidirectional: a reply is a flow of its own and obyt (down_bytes) is 0 unless the "
    "exporter recorded both directions, so each flow's bytes count as sent by its source (-dx reads them so)."
)
_SNIFF = {"ts", "te", "sa", "da", "pr", "ibyt"}
MISSING_PROGRAM = (
    "is an nfdump binary file; install nfdump (e.g. apt-get install nfdump) or export it with `nfdump -r FILE -o csv`"
)

_tmpdir: str | None = None


def is_binary(sample: Sample) -> bool:
    head = sample.head
    return len(head) >= 4 and head[:2] == MAGIC and int.from_bytes(head[2:4], "little") in LAYOUT_VERSIONS


def _csv_header(sample: Sample) -> list[str] | None:
    lines = sample.lines(1)
    if not lines or "," not in lines[0]:
        return None
    return column_names(lines[0].lstrip("\ufeff").split(","))


def _temporary_dir() -> str:
    global _tmpdir
    if _tmpdir is None or not os.path.isdir(_tmpdir):
        _tmpdir = tempfile.mkdtemp(prefix="sentinel-nfdump-")
        atexit.register(shutil.rmtree, _tmpdir, ignore_errors=True)
    return _tmpdir


def export_csv(path: str) -> tuple[str, str]:
    """`nfdump -r path -o csv` (times in UTC) into a temporary file: its path, and the first line nfdump wrote
    on stderr ("" if none). nfdump exits with status 0 even on a damaged file: it reads what it can and says
    so on stderr; a file of which it read nothing while complaining is an InputError naming `path`."""
    program = shutil.which("nfdump")
    if program is None:
        raise InputError(path, MISSING_PROGRAM)
    fd, out = tempfile.mkstemp(suffix=".csv", dir=_temporary_dir())
    try:
        with os.fdopen(fd, "wb") as fh:
            done = subprocess.run(
                [program, "-r", os.path.abspath(path), "-o", "csv"],
                stdout=fh,
                stderr=subprocess.PIPE,
                env={**os.environ, "TZ": "UTC"},
                check=False,
            )
    except OSError as exc:
        os.unlink(out)
        raise InputError(path, f"nfdump could not be run ({exc.strerror or exc})") from None
    said = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
    first = said[0].strip() if said else ""
    if done.returncode != 0 or (first and _no_flows(out)):
        os.unlink(out)
        raise InputError(path, f"nfdump could not read it ({first or f'exit status {done.returncode}'})")
    return out, first


def _no_flows(export: str) -> bool:
    with open(export, encoding="utf-8", errors="replace") as fh:
        fh.readline()  # the header
        second = fh.readline()
        return not second or second.startswith(("No matching flows", "Summary"))


def _first_line(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return column_names(fh.readline().rstrip("\r\n").split(","))


def kept_sql(names: Sequence[str]) -> str:
    """Rows that are not nfdump's trailing block: `No matching flows` (none read), the Summary title, its
    header (`flows,bytes,packets,...`) and its one line of six figures. Each of those lines has 6 fields at
    most, so a row with a 7th passes at once; the test looks at columns a flow row reads anyway (not the
    2nd, `te`), so the filter adds no column to the scan."""
    c = [ident(n) for n in names[:7]]
    first, third, seventh = c[0], c[2], c[6]
    figures = f"regexp_full_match(concat_ws(',', {first}, {', '.join(c[2:6])}), '[0-9.]+(,[0-9.]+){{4}}')"
    block = (
        f"({first} IN ('Summary', 'No matching flows') AND {third} IS NULL) "
        f"OR ({first} = 'flows' AND {third} = 'packets') OR coalesce({figures}, false)"
    )
    return f"{seventh} IS NOT NULL OR NOT coalesce({block}, false)"


class Nfdump:
    name: ClassVar[str] = "nfdump"
    description: ClassVar[str] = "nfdump CSV (nfdump -o csv: ts,te,td,sa,da,...) and nfcapd binary files (needs nfdump)"

    def sniff(self, sample: Sample) -> bool:
        if is_binary(sample):
            return True
        names = _csv_header(sample)
        return names is not None and set(names) >= _SNIFF

    def group_key(self, sample: Sample) -> Hashable:
        if is_binary(sample):
            return ("binary", sample.compression)
        return ("csv", tuple(_csv_header(sample) or ()), sample.compression)

    def scan(self, samples: Sequence[Sample], options: ReadOptions) -> Scan:
        paths = [s.path for s in samples]
        if is_binary(samples[0]):
            return self._scan_binary(samples)
        names = _csv_header(samples[0])
        if names is None:
            raise InputError(paths[0], "is empty or has no comma-separated header line (nfdump -o csv writes one)")
        check_columns(paths[0], names, REQUIRED, "nfdump CSV")
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        note = (
            f"nfdump CSV times of {shown} are the exporting machine's local time (no zone): read as UTC "
            "(export with TZ=UTC nfdump ... for exact times)."
        )
        return self._scan(paths, names, samples[0].compression, schema.FILE, notes=(note,))

    def _scan_binary(self, samples: Sequence[Sample]) -> Scan:
        paths = [s.path for s in samples]
        if samples[0].compression:
            raise InputError(paths[0], f"is a {samples[0].compression}-compressed nfdump binary file; decompress it")
        exported = [export_csv(p) for p in paths]
        exports = [out for out, _ in exported]
        notes = tuple(f"nfdump reading {p} said: {said}" for p, (_, said) in zip(paths, exported, strict=True) if said)
        names = _first_line(exports[0])
        check_columns(paths[0], names, REQUIRED, "the CSV nfdump made of it: its")
        for path, export in zip(paths, exports, strict=True):
            if _first_line(export) != names:
                raise InputError(path, "nfdump exported it with other columns than " + paths[0])
        # Rows name the binary file, not the temporary export; rows are counted by record (file:row N).
        original = (
            "CASE "
            + " ".join(
                f"WHEN {schema.FILE} = {sql_string(e)} THEN {sql_string(p)}"
                for e, p in zip(exports, paths, strict=True)
            )
            + " END"
        )
        scan = self._scan(exports, names, None, original, notes=notes)
        return Scan(
            format=scan.format,
            files=tuple(paths),
            sql=scan.sql,
            optional=scan.optional,
            header_lines=0,
            extra_columns=scan.extra_columns,
            notes=scan.notes,
            line_numbers="row",
        )

    def _scan(
        self, paths: Sequence[str], names: Sequence[str], compression: str | None, file_sql: str, notes: tuple[str, ...]
    ) -> Scan:
        present = set(names)
        col = {n: ident(n) for n in names}
        proto = proto_sql(col["pr"])
        columns = {
            schema.TS: f"epoch_us(TRY_CAST(trim({col['ts']}) AS TIMESTAMP))",
            schema.SRC_IP: f"trim({col['sa']})",
            schema.DST_IP: f"trim({col['da']})",
            schema.PROTO: proto,
            schema.PORT: port_sql(col["dp"], proto),
            schema.UP_BYTES: col["ibyt"],
            schema.DOWN_BYTES: col["obyt"],
        }
        used = {"ts", "sa", "da", "pr", "dp", "ibyt", "obyt"}
        optional: set[str] = set()
        for source, target in (("sp", schema.SRC_PORT), ("td", schema.DURATION), ("flg", schema.CONN_STATE)):
            if source in present:
                columns[target] = port_sql(col[source], proto) if source == "sp" else f"nullif(trim({col[source]}), '')"
                optional.add(target)
                used.add(source)
        if {"ipkt", "opkt"} <= present:
            columns[schema.UP_PACKETS] = col["ipkt"]
            columns[schema.DOWN_PACKETS] = col["opkt"]
            optional |= {schema.UP_PACKETS, schema.DOWN_PACKETS}
            used |= {"ipkt", "opkt"}
        columns[schema.FILE] = file_sql
        return Scan(
            format=self.name,
            files=tuple(paths),
            sql=(
                f"SELECT {projection(columns)} FROM {read_csv_sql(paths, names, ',', compression)} "
                f"WHERE {kept_sql(names)}"
            ),
            optional=frozenset(optional),
            header_lines=1,
            extra_columns=tuple(n for n in names if n not in used),
            notes=(*notes, UNIDIRECTIONAL),
        )
