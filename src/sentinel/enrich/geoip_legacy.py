"""Legacy MaxMind GeoIP databases (.dat), looked up for a whole batch of IPv4 addresses at once.

The format, as pygeoip and libGeoIP read it:

- The file starts with a binary trie. Node i is two records of `record_length` bytes (little-endian) at
  byte 2 * record_length * i: the child for a 0 bit, then for a 1 bit. A walk starts at node 0 with the
  address's most significant bit. A record >= `segments` ends the walk:
  country edition: record - COUNTRY_BEGIN indexes pygeoip's COUNTRY_CODES table;
  org/ISP/ASN editions: record == segments means "no data", else the NUL-terminated (ISO-8859-1) string at
  byte record + (2 * record_length - 1) * segments, i.e. in the string area that follows the trie.
- Within the last 20 + 3 bytes there may be a 0xFFFFFF delimiter, the edition byte and, for org-like
  editions, 3 bytes of `segments`. Files without it are country editions: MaxMind's own GeoLite Country
  builds (e.g. GeoIP-20140902.dat) have none, so a missing delimiter does not prove a file is not a GeoIP
  database. That is why every file's trie is checked on opening: random bytes or text cannot pass.
- Before the delimiter, after three NUL bytes, a free-text description ("GEO-106FREE 20140902 Build 1 ...").

pygeoip walks the trie in Python, 16-50 µs per address. Here the trie is decoded once into a numpy table in
which each terminal record becomes a leaf node pointing to itself, so a lookup is the same gather repeated for
every bit, over the whole batch, with no per-address branching (an address that reached its leaf stays
there). A table of the node reached after the first 16 bits, built on opening, halves the number of steps.

IPv4 editions only: the IPv6 editions (COUNTRY_EDITION_V6, ASNUM_EDITION_V6, ...) walk 128 bits and are
refused, as are city and region editions (they carry country codes, but in another record format).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pygeoip
from pygeoip import const

from sentinel.enrich.geo import as_ipv4_array
from sentinel.errors import GeoIPError
from sentinel.files import unusable_reason

__all__ = ["COUNTRY_EDITIONS", "ORG_EDITIONS", "LegacyGeoIP", "Role"]

Role = Literal["country", "org"]

COUNTRY_EDITIONS: Final = frozenset({const.COUNTRY_EDITION})
# ORG and ISP editions share the ASN editions' record format (with 4-byte trie records): they come for free.
ORG_EDITIONS: Final = frozenset({const.ASNUM_EDITION, const.ORG_EDITION, const.ISP_EDITION})

_EDITION_NAMES: Final[dict[int, str]] = {
    const.COUNTRY_EDITION: "a country",
    const.COUNTRY_EDITION_V6: "an IPv6 country",
    const.REGION_EDITION_REV0: "a region",
    const.REGION_EDITION_REV1: "a region",
    const.CITY_EDITION_REV0: "a city",
    const.CITY_EDITION_REV1: "a city",
    const.CITY_EDITION_REV1_V6: "an IPv6 city",
    const.ORG_EDITION: "an organisation",
    const.ISP_EDITION: "an ISP",
    const.ASNUM_EDITION: "an ASN",
    const.ASNUM_EDITION_V6: "an IPv6 ASN",
    const.NETSPEED_EDITION: "a NetSpeed",
    const.NETSPEED_EDITION_REV1: "a NetSpeed",
    const.NETSPEED_EDITION_REV1_V6: "an IPv6 NetSpeed",
    const.PROXY_EDITION: "a proxy",
}
_WANTED: Final[dict[str, str]] = {
    "country": "a country database",
    "org": "an ASN, organisation or ISP database",
}

_DELIMITER: Final = b"\xff\xff\xff"
_INFO_START: Final = b"\x00\x00\x00"
# pygeoip reads this many bytes of an org record and needs its NUL among them.
_MAX_ORG_RECORD: Final = const.MAX_ORG_RECORD_LENGTH
_BITS: Final = 32
_JUMP_BITS: Final = 16  # 2**16-entry table of the node after the first 16 bits (256 KiB, ~3 ms to build)
_MMDB_MARKER: Final = b"\xab\xcd\xefMaxMind.com"
_GZIP_MAGIC: Final = b"\x1f\x8b"
_PARQUET_MAGIC: Final = b"PAR1"  # flow files passed by mistake


class _Corrupt(Exception):
    """The trie or a record is damaged; the message says how (becomes a GeoIPError naming the file)."""


class LegacyGeoIP:
    """One legacy GeoIP .dat database, opened and checked once, answering batches of IPv4 addresses.

    `role` says what the caller needs ("country": a country edition, for `countries`; "org": an ASN,
    organisation or ISP edition, for `organisations`); `option` is the command-line option the path came
    from, named in errors. Every problem with the file raises GeoIPError with a one-line message naming it.

    Results equal pygeoip's: `country_code_by_addr` with '' and '--' as None (pygeoip's table also holds the
    legacy non-ISO codes AP, EU, A1, A2, O1; they are kept), and `org_by_addr` with '' as None.
    """

    path: str
    source: str
    role: Role
    edition: int
    edition_name: str
    info: str | None

    def __init__(self, path: str | os.PathLike[str], role: Role = "country", option: str | None = None) -> None:
        if role not in _WANTED:
            raise ValueError(f"role must be 'country' or 'org', not {role!r}")
        self.path = os.fspath(path)
        self.source = self.path
        self.role = role
        raw = _read(self.path)
        data = np.frombuffer(raw, dtype=np.uint8)
        has_delimiter = _check_structure_info(self.path, raw)
        edition, segments, record_length = _structure(self.path)
        self.edition = edition
        self.edition_name = _EDITION_NAMES.get(edition, f"an unknown (edition {edition})")
        self.info = _info(raw)
        if has_delimiter:
            self._check_edition(option)  # unknown edition or the wrong one: say so before reading the trie
        try:
            # Without the delimiter pygeoip presumes a country edition; the trie check decides if it is one.
            self._load(data, segments, record_length, role if has_delimiter else "country")
        except _Corrupt as exc:
            if has_delimiter:
                raise GeoIPError(self.path, f"corrupt GeoIP database: {exc}") from None
            hint = _hint(raw)
            problem = f": {hint}" if hint else f" (no edition marker, and {exc})"
            raise GeoIPError(self.path, f"not a legacy GeoIP database{problem}") from None
        if not has_delimiter:
            self._check_edition(option)  # a valid country database: right for a country role only

    def _check_edition(self, option: str | None) -> None:
        if self.edition not in _EDITION_NAMES:
            raise GeoIPError(self.path, f"not a legacy GeoIP database (unknown edition byte {self.edition})")
        supported = COUNTRY_EDITIONS if self.role == "country" else ORG_EDITIONS
        if self.edition in supported:
            return
        needs = f"{option} needs" if option else "needed here:"
        ipv6 = " (IPv6 editions are not supported yet)" if self.edition in const.IPV6_EDITIONS else ""
        raise GeoIPError(self.path, f"is {self.edition_name} database; {needs} {_WANTED[self.role]}{ipv6}")

    def _load(self, data: npt.NDArray[np.uint8], segments: int, record_length: int, kind: Role) -> None:
        """Decode and check the trie as a `kind` database, and build the lookup tables."""
        node_bytes = 2 * record_length
        n_nodes = min(segments, data.size // node_bytes)
        if kind == "country":
            n_values = len(const.COUNTRY_CODES)  # terminal record - segments indexes pygeoip's table
        else:
            # The strings follow the trie; terminal record - segments is an offset among them.
            n_values = data.size - segments * node_bytes
            if n_values <= 0:
                raise _Corrupt(f"its header declares {segments} trie nodes, more than the file holds")
        if n_nodes == 0:
            raise _Corrupt("no trie nodes")
        records = _records(data[: n_nodes * node_bytes], record_length)
        reached = _check_trie(records, n_nodes, segments, n_values)
        # The distinct terminal values (record - segments) that some address can reach.
        leaves = np.flatnonzero(reached)

        # Table of children: internal records stay node indices; each reachable terminal value becomes a leaf
        # node n_nodes + k (k indexes `leaves`) that points to itself. Unreachable or out-of-range records go
        # to one extra "bad" leaf, so not even a damaged table can produce an IndexError.
        n_leaves = leaves.size
        bad = n_nodes + n_leaves
        if 2 * (bad + 1) > 0xFFFF_FFFF:
            raise _Corrupt("too many trie nodes")
        leaf_node = np.full(n_values + 1, bad, dtype=np.uint32)
        leaf_node[leaves] = np.arange(n_nodes, bad, dtype=np.uint32)
        value = np.minimum(records - np.uint32(segments), np.uint32(n_values))  # inner records wrap: clipped
        inner = np.where(records < n_nodes, records, np.uint32(bad))
        table = np.where(records >= segments, leaf_node[value], inner)
        self_loops = np.repeat(np.arange(n_nodes, bad + 1, dtype=np.uint32), 2)
        self._table = np.concatenate((table, self_loops)).astype(np.uint32, copy=False)
        self._n_nodes = n_nodes
        self._n_leaves = n_leaves
        self._jump = self._walk(np.arange(1 << _JUMP_BITS, dtype=np.uint32), np.zeros(1, np.uint32), _JUMP_BITS)

        if kind == "country":
            codes = [_country(const.COUNTRY_CODES[i]) for i in leaves.tolist()]
            self._leaf_values = np.array([*codes, None], dtype=object)
        else:
            self._org_start, self._org_end = _org_records(data, leaves, segments * node_bytes)
            self._data = data
            # Filled on first use: each org record is decoded once, however many batches ask for it.
            self._leaf_values = np.full(n_leaves + 1, None, dtype=object)
            self._decoded = np.zeros(n_leaves + 1, dtype=bool)
            self._decoded[n_leaves] = True  # the "bad" leaf: never read (lookups that reach it raise)

    def _walk(self, ipv4: npt.NDArray[np.uint32], start: npt.NDArray[np.uint32], bits: int) -> npt.NDArray[np.uint32]:
        """Follow the low `bits` bits of each address (high to low) from `start` (a node each, or one)."""
        table = self._table
        node = np.broadcast_to(start, ipv4.shape).copy()
        bit = np.empty_like(ipv4)
        index = np.empty_like(ipv4)
        one = np.uint32(1)
        for shift in range(bits - 1, -1, -1):
            np.right_shift(ipv4, np.uint32(shift), out=bit)
            np.bitwise_and(bit, one, out=bit)
            np.left_shift(node, one, out=index)
            np.bitwise_or(index, bit, out=index)
            np.take(table, index, out=node)
        return node

    def _leaf_indices(self, ipv4: npt.ArrayLike) -> npt.NDArray[np.uint32]:
        """Index into the leaf tables for each address; GeoIPError if a walk does not end on a real leaf."""
        ips = as_ipv4_array(ipv4)
        node = self._walk(ips, self._jump[ips >> np.uint32(_BITS - _JUMP_BITS)], _BITS - _JUMP_BITS)
        leaf = node - np.uint32(self._n_nodes)  # wraps to huge values for nodes still inside the trie
        if leaf.size and int(leaf.max()) >= self._n_leaves:
            raise GeoIPError(self.path, "corrupt GeoIP database: a lookup did not end on a valid record")
        return leaf

    def countries(self, ipv4: np.ndarray) -> list[str | None]:
        """Country code per address of the uint32 array (as pygeoip's `country_code_by_addr`), or None."""
        if self.role != "country":
            raise TypeError(f"{self.path} was opened as an organisation database")
        return self._leaf_values[self._leaf_indices(ipv4)].tolist()

    def countries_v6(self, texts: Sequence[str]) -> list[str | None]:
        """None for every IPv6 address: the legacy editions read here are IPv4-only (see the module doc)."""
        if self.role != "country":
            raise TypeError(f"{self.path} was opened as an organisation database")
        return [None] * len(texts)

    def organisations(self, ipv4: np.ndarray) -> list[str | None]:
        """Organisation per address of the uint32 array (as pygeoip's `org_by_addr`), or None."""
        if self.role != "org":
            raise TypeError(f"{self.path} was opened as a country database")
        leaf = self._leaf_indices(ipv4)
        missing = leaf[~self._decoded[leaf]]
        if missing.size:
            raw = self._data
            for k in np.unique(missing).tolist():
                start, end = int(self._org_start[k]), int(self._org_end[k])
                if start >= 0:
                    # pygeoip decodes them as ISO-8859-1; an empty one means no data, like a missing record.
                    self._leaf_values[k] = raw[start:end].tobytes().decode("iso-8859-1") or None
            self._decoded[missing] = True
        return self._leaf_values[leaf].tolist()

    def __repr__(self) -> str:
        return f"LegacyGeoIP({self.path!r}, role={self.role!r}, edition={self.edition})"


def check_path(path: str) -> None:
    """GeoIPError for anything that makes `path` unusable before its contents are looked at."""
    reason = unusable_reason(path, "a GeoIP database file")
    if reason:
        raise GeoIPError(path, reason)


def _read(path: str) -> bytes:
    """The whole file."""
    check_path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except PermissionError:
        raise GeoIPError(path, "cannot read the file: permission denied") from None
    except OSError as exc:
        raise GeoIPError(path, f"cannot read the file: {exc.strerror or exc}") from None
    if not raw:
        raise GeoIPError(path, "is empty, not a GeoIP database")
    return raw


def _check_structure_info(path: str, raw: bytes) -> bool:
    """Whether the structure-info delimiter is where pygeoip looks for it; GeoIPError if pygeoip would fail.

    pygeoip looks at offsets size-3, size-4, ... size-22 for the delimiter (the last one wins) and reads the
    edition byte after it; a file too short for that makes it fail with an unrelated exception.
    """
    for pos in range(len(raw) - 3, max(len(raw) - 3 - const.STRUCTURE_INFO_MAX_SIZE, -1), -1):
        if raw[pos : pos + 3] == _DELIMITER:
            if pos + 3 >= len(raw):
                raise GeoIPError(path, "not a legacy GeoIP database (structure information cut short)")
            return True
    # pygeoip seeks back past the whole search window, which fails on shorter files.
    if len(raw) < 3 + const.STRUCTURE_INFO_MAX_SIZE:
        raise GeoIPError(path, f"not a legacy GeoIP database (only {len(raw)} bytes)")
    return False


def _structure(path: str) -> tuple[int, int, int]:
    """(edition, segments, record length), as pygeoip parses them from the structure information.

    These are private attributes of pygeoip.GeoIP, but pygeoip's last release (0.3.2) dates from 2014, so
    they are frozen; using them keeps pygeoip the one reader of the header. MMAP_CACHE: pygeoip maps the file
    (reading only its tail) and closes its own file at once; in STANDARD mode a file it fails on stays open.
    """
    try:
        gi = pygeoip.GeoIP(path, flags=pygeoip.MMAP_CACHE)
    except (OSError, ValueError, TypeError, IndexError) as exc:
        # E.g. a delimiter and edition byte followed by fewer than the 3 segment bytes the edition needs.
        raise GeoIPError(path, f"not a legacy GeoIP database (pygeoip: {exc})") from None
    try:
        return int(gi._databaseType), int(gi._databaseSegments), int(gi._recordLength)
    finally:
        gi._fp.close()


def _records(trie: npt.NDArray[np.uint8], record_length: int) -> npt.NDArray[np.uint32]:
    """The trie's records, little-endian, 3 or 4 bytes each, as uint32 (children 2i and 2i+1 of node i)."""
    rows = trie.reshape(-1, record_length)
    if record_length == 4:
        return rows.view("<u4").reshape(-1).astype(np.uint32)
    padded = np.zeros((rows.shape[0], 4), dtype=np.uint8)
    padded[:, :record_length] = rows
    return padded.view("<u4").reshape(-1).astype(np.uint32)


def _check_trie(records: npt.NDArray[np.uint32], n_nodes: int, segments: int, n_values: int) -> npt.NDArray[np.bool_]:
    """Walk every node reachable from the root, level by level; mark the terminal values reached.

    A terminal value is record - segments. Raises _Corrupt when a reachable record points past the nodes the
    file holds or past the values the edition allows, or when a path is longer than 32 bits (a loop, or
    damaged nodes): where pygeoip fails with "Corrupt database" or an IndexError, for the unlucky addresses.
    Unreachable bytes (padding, the description text) are not looked at.
    """
    reached = np.zeros(n_values, dtype=bool)
    pending = np.zeros(n_nodes, dtype=bool)  # next level's nodes, as a bitmap: shared nodes are walked once
    nodes = records.reshape(-1, 2)
    frontier = np.zeros(1, dtype=np.intp)
    for _ in range(_BITS):
        children = nodes[frontier].reshape(-1)
        terminal = children >= segments
        value = children[terminal] - np.uint32(segments)
        if value.size and int(value.max()) >= n_values:
            raise _Corrupt(f"a trie record holds {int(value.max()) + segments}, beyond this edition's records")
        reached[value] = True
        inner = children[~terminal]
        if not inner.size:
            return reached
        if int(inner.max()) >= n_nodes:
            raise _Corrupt(f"a trie record points to node {int(inner.max())}, beyond the {n_nodes} the file holds")
        pending[inner] = True
        frontier = np.flatnonzero(pending)
        pending[frontier] = False
    raise _Corrupt("a path through the trie is longer than 32 bits")


def _org_records(
    data: npt.NDArray[np.uint8], leaves: npt.NDArray[np.intp], strings_at: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Byte range [start, end) of each leaf's org string (start -1: no data); _Corrupt if one is bad."""
    start = leaves.astype(np.int64) + strings_at
    start[leaves == 0] = -1  # record == segments: pygeoip's "no data"
    end = np.full(start.size, -1, dtype=np.int64)
    has = start >= 0
    if has.any():
        nuls = np.flatnonzero(data[strings_at:] == 0) + strings_at
        i = np.searchsorted(nuls, start[has])  # the first NUL at or after each start
        if int(i.max()) >= nuls.size:
            raise _Corrupt("an organisation record runs past the end of the file")
        stop = nuls[i]
        if int((stop - start[has]).max()) >= _MAX_ORG_RECORD:
            raise _Corrupt(f"an organisation record is longer than {_MAX_ORG_RECORD - 1} bytes")
        end[has] = stop
    return start, end


def _country(code: str) -> str | None:
    return None if code in ("", "--") else code


def _info(raw: bytes) -> str | None:
    """The free-text description near the end (e.g. "GEO-106FREE 20140902 Build 1 ..."), if there is one."""
    tail = raw[-(const.DATABASE_INFO_MAX_SIZE + const.STRUCTURE_INFO_MAX_SIZE + 3) :]
    at = tail.rfind(_INFO_START)
    if at < 0:
        return None
    text = tail[at + 3 :].split(_DELIMITER, 1)[0].split(b"\x00", 1)[0].decode("iso-8859-1").strip()
    return text if text and text.isprintable() else None


def _hint(raw: bytes) -> str:
    """What the file seems to be instead, for the error message ("" when it is not recognisable)."""
    if raw.startswith(_GZIP_MAGIC):
        return "it is gzip-compressed, decompress it first"
    if raw.startswith(_PARQUET_MAGIC):
        return "it is a Parquet file"
    if raw.rfind(_MMDB_MARKER, max(0, len(raw) - 128 * 1024)) >= 0:  # its metadata marker: last 128 KiB
        return "it is a MaxMind DB (.mmdb) file"
    return ""
