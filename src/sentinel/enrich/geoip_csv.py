"""CSV range files, the shape ip-location-db publishes: one network range a line, no header,

    ip_range_start,ip_range_end,<value>[,<value>...]

e.g. `asn-ipv4.csv(.gz)`: `1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."` (AS number and organisation) or
`...-country-ipv4.csv`: `1.0.0.0,1.0.0.255,AU` (country code). IPv4 and IPv6 ranges may be mixed. The file is
read once by DuckDB into sorted numpy arrays; a lookup is a binary search over the whole batch
(`np.searchsorted`), so 1M distinct addresses take well under a second.
"""

from __future__ import annotations

import gzip
import ipaddress
import os
import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinel.enrich.geodb import Answers, DatabaseInfo, v6_keys
from sentinel.errors import GeoIPError, first_line

_COUNTRY = re.compile(r"[A-Za-z]{2}")
_DATE = re.compile(r"(20\d\d)[-_.]?(\d\d)(?:[-_.]?(\d\d))?")
SNIFF_LINES = 20


def sniff(path: str) -> bool:
    """Whether the file looks like a range CSV: its first lines start with two addresses."""
    try:
        lines = _head_lines(path)
    except (OSError, EOFError, UnicodeDecodeError):
        return False
    rows = [ln.split(",") for ln in lines if ln.strip()]
    if not rows:
        return False
    for row in rows:
        if len(row) < 3:
            return False
        try:
            ipaddress.ip_address(row[0].strip())
            ipaddress.ip_address(row[1].strip())
        except ValueError:
            return False
    return True


def _head_lines(path: str) -> list[str]:
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [f.readline() for _ in range(SNIFF_LINES)]


class CsvRanges:
    """A range CSV as sorted arrays: IPv4 starts/ends (uint32), IPv6 ones (16-byte keys), values per row."""

    def __init__(self, path: str | os.PathLike[str], explicit: bool = True, option: str | None = None) -> None:
        import duckdb

        self.path = os.fspath(path)
        quad = r"regexp_full_match({c}, '[0-9]{{1,3}}\.[0-9]{{1,3}}\.[0-9]{{1,3}}\.[0-9]{{1,3}}')"
        number = " + ".join(
            f"TRY_CAST(split_part({{c}}, '.', {k + 1}) AS UTINYINT)::UBIGINT * {256 ** (3 - k)}" for k in range(4)
        )
        v4 = f"CASE WHEN {quad} THEN {number} END"
        try:
            con = duckdb.connect()
            raw = con.sql(
                "SELECT * FROM read_csv(?, header = false, all_varchar = true, quote = '\"', delim = ',', "
                "null_padding = true)",
                params=[self.path],
            )
            names = raw.columns
            if len(names) < 3:
                raise GeoIPError(self.path, "not a CSV range file: start,end,value lines expected", option)
            first, last = (f'trim("{n}")' for n in names[:2])
            values = ", ".join(f'trim("{n}") AS v{i}' for i, n in enumerate(names[2:4]))
            asn = f"TRY_CAST(regexp_replace(trim(\"{names[2]}\"), '^[Aa][Ss]', '') AS BIGINT)"
            table = con.sql(
                f"SELECT {first} AS a, {last} AS b, {v4.format(c=first)} AS a4, {v4.format(c=last)} AS b4, {values}, "
                f"{asn} AS asn FROM raw"
            ).arrow()
            if hasattr(table, "read_all"):
                table = table.read_all()
            con.close()
        except duckdb.Error as exc:
            problem = f"cannot be read as a CSV range file ({first_line(exc)})"
            raise GeoIPError(self.path, problem, option) from None
        if table.num_rows == 0:
            raise GeoIPError(self.path, "not a CSV range file: start,end,value lines expected", option)
        self.kind = _value_kind([table.column("v0").slice(0, 1000).to_pylist()])
        if self.kind is None:
            raise GeoIPError(
                self.path, "a CSV range file whose values are neither a country code nor an AS number", option
            )
        valid = pc.and_(pc.is_valid(table.column("a4")), pc.is_valid(table.column("b4")))
        is_v4 = valid.cast(pa.uint8()).to_numpy().astype(bool)  # not through pandas, as booleans would be
        a4 = pc.fill_null(table.column("a4"), 0).to_numpy().astype(np.uint64)
        b4 = pc.fill_null(table.column("b4"), 0).to_numpy().astype(np.uint64)
        v4_first, v4_last = a4[is_v4], b4[is_v4]
        v4_rows = np.flatnonzero(is_v4)
        bad = np.flatnonzero(is_v4)[v4_first > v4_last]
        if bad.size:
            i = int(bad[0])
            raise GeoIPError(self.path, f"line {i + 1}: {a4[i]:.0f} > {b4[i]:.0f}: not a range of addresses", option)
        starts, ends = table.column("a").to_pylist(), table.column("b").to_pylist()
        v6_rows: list[tuple[int, int, int]] = []
        for i in np.flatnonzero(~is_v4).tolist():
            a, b = starts[i], ends[i]
            try:
                low, high = ipaddress.ip_address(a or ""), ipaddress.ip_address(b or "")
            except ValueError:
                raise GeoIPError(self.path, f"line {i + 1}: {a!r}, {b!r} is not a range of addresses", option) from None
            if low.version != 6 or high.version != 6 or int(low) > int(high):
                raise GeoIPError(self.path, f"line {i + 1}: {a} - {b} is not a range of addresses", option)
            v6_rows.append((int(low), int(high), i))
        order = np.argsort(v4_first, kind="stable")
        self._v4_first = v4_first[order].astype(np.uint32)
        self._v4_last = v4_last[order].astype(np.uint32)
        self._v4_row = v4_rows[order].astype(np.int64)
        self._v4_prefix = (32 - _bit_length(self._v4_first ^ self._v4_last)).astype(np.int16)
        v6_rows.sort()
        self._v6_first = _keys([r[0] for r in v6_rows])
        self._v6_last = _keys([r[1] for r in v6_rows])
        self._v6_row = np.array([r[2] for r in v6_rows], dtype=np.int64)
        self._v6_prefix = _prefix_lengths([r[0] for r in v6_rows], [r[1] for r in v6_rows], 128)
        if self.kind == "country":
            self._country = np.array(pc.utf8_upper(table.column("v0")).to_pylist(), dtype=object)
        else:
            asns = pc.if_else(pc.greater(table.column("asn"), 0), table.column("asn"), None)
            self._asn = np.array(asns.to_pylist(), dtype=object)
            names_ = table.column("v1") if "v1" in table.column_names else pa.nulls(table.num_rows, pa.string())
            self._name = np.array(pc.if_else(pc.equal(names_, ""), None, names_).to_pylist(), dtype=object)
        n4, n6 = len(self._v4_first), len(v6_rows)
        date = _DATE.search(os.path.basename(self.path))
        self.info = DatabaseInfo(
            name=self.path,
            kind="CSV ranges",
            provides=("country",) if self.kind == "country" else ("asn",),
            explicit=explicit,
            description=f"{n4:,} IPv4 and {n6:,} IPv6 ranges ({self.kind})",
            date="-".join(g for g in date.groups() if g) if date else None,
            licence=None,
        )

    def _answer(self, found: np.ndarray, rows: np.ndarray, prefix: np.ndarray) -> Answers:
        out = Answers.empty(len(found))
        hit = np.flatnonzero(found)
        row = rows[hit]
        if self.kind == "country":
            out.country[hit] = self._country[row]
        else:
            out.asn[hit] = self._asn[row]
            out.as_name[hit] = self._name[row]
        out.prefix[hit] = prefix[hit]
        return out

    def lookup_v4(self, ipv4: np.ndarray) -> Answers:
        if not len(self._v4_first):
            return Answers.empty(len(ipv4))
        at = np.searchsorted(self._v4_first, ipv4, side="right") - 1
        ok = at >= 0
        safe = np.where(ok, at, 0)
        found = ok & (ipv4 <= self._v4_last[safe])
        return self._answer(found, self._v4_row[safe], self._v4_prefix[safe])

    def lookup_v6(self, hi: np.ndarray, lo: np.ndarray, texts: Sequence[str]) -> Answers:
        keys = v6_keys(hi, lo)
        if not len(self._v6_first):
            return Answers.empty(len(keys))
        at = np.searchsorted(self._v6_first, keys, side="right") - 1
        ok = at >= 0
        safe = np.where(ok, at, 0)
        found = ok & (keys <= self._v6_last[safe])
        return self._answer(found, self._v6_row[safe], self._v6_prefix[safe])


def _keys(values: list[int]) -> np.ndarray:
    hi = np.array([v >> 64 for v in values], dtype=np.uint64)
    lo = np.array([v & ((1 << 64) - 1) for v in values], dtype=np.uint64)
    return v6_keys(hi, lo)


def _bit_length(values: np.ndarray) -> np.ndarray:
    """Bits needed for each uint32 value (0 for 0)."""
    out = np.zeros(values.shape, dtype=np.int32)
    v = values.astype(np.uint64)
    for shift in (16, 8, 4, 2, 1):
        big = v >= (np.uint64(1) << np.uint64(shift))
        out[big] += shift
        v = np.where(big, v >> np.uint64(shift), v)
    return out + (v > 0)


def _prefix_lengths(firsts: list[int], lasts: list[int], bits: int) -> np.ndarray:
    """The prefix length of the smallest CIDR block holding each range (its specificity)."""
    return np.array([bits - (f ^ last).bit_length() for f, last in zip(firsts, lasts, strict=True)], dtype=np.int16)


def _asn(text: str | None) -> int | None:
    text = (text or "").strip()
    if text.upper().startswith("AS"):
        text = text[2:]
    return int(text) if text.isdigit() and int(text) > 0 else None


def _value_kind(values: list[list[str | None]]) -> str | None:
    sample = [v for v in values[0][:1000] if v]
    if not sample:
        return None
    if all(_COUNTRY.fullmatch(v.strip()) for v in sample):
        return "country"
    if all(_asn(v) is not None or v.strip() in ("0", "AS0") for v in sample):
        return "asn"
    return None
