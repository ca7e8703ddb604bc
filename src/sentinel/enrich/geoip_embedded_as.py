"""The embedded default AS database: AS number and organisation of IPv4 and IPv6 addresses, no file needed.

Data: the `plevin-db-network` package (its network build: origin AS of every announced prefix, from RIPE
RIS route collectors, with operator names from CAIDA AS Organizations, PeeringDB and the registries; rebuilt
daily upstream, versioned by build date), read by the `plevin` package (Apache-2.0, pure Python). Chosen over
geoip2fast (whose last data, GeoLite2 of 2024-06-18, carries AS names but no AS numbers) and pyasn (which
ships no data). Its licence is that of its sources (README "Licence and data"); reports name it and its
build date.

IPv4 is looked up vectorised: the start of every IPv4 range of the database (1.2M of them) is read once into
a sorted array, every distinct public address finds its range with one `searchsorted`, and each range that
answers is decoded once (`_answer`), however many addresses fall in it. This reads the reader's range index
(`File.families`), which plevin does not document: a test checks the answers agree with plevin's own lookup
address by address, so a change of that structure fails loudly. IPv6 goes through the reader one address at a
time (20-50 µs cold, a few µs once its blocks are decoded), in numeric order so that neighbours reuse blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

import numpy as np

from sentinel.enrich import netclass
from sentinel.enrich.geodb import NO_PREFIX, Answers, DatabaseInfo
from sentinel.errors import GeoIPError

_PACKAGE = "plevin-db-network"
LICENCE = (
    "the terms of its sources (plevin-db-network: RIPE NCC RIS routing data, RIR registry data, CAIDA AS "
    "Organizations, PeeringDB CC BY 4.0); reader plevin, Apache-2.0"
)


class EmbeddedAS:
    """AS number and organisation from plevin-db-network; needs no file."""

    def __init__(self) -> None:
        try:
            import plevin
            import plevin_db_network
        except ImportError as exc:  # dependencies of Sentinel: only a broken install gets here
            raise GeoIPError(f"<embedded {_PACKAGE}>", f"cannot be imported ({exc})") from None
        try:
            self._file = plevin.Plevin(plevin_db_network.PATH).file
            self._v4_starts: np.ndarray | None = None
            # Per IP version, the range index's columns by name (network link, prefix length, ...).
            self._columns = {
                version: {name: (column, read) for name, column, read in self._file.families[version][1]}
                for version in (4, 6)
            }
        except (OSError, ValueError) as exc:
            raise GeoIPError(str(plevin_db_network.PATH), f"cannot be read ({exc})") from None
        try:
            version = metadata.version(_PACKAGE)
        except metadata.PackageNotFoundError:
            version = "unknown version"
        self.info = DatabaseInfo(
            name=f"embedded default ({_PACKAGE} {version})",
            kind="embedded",
            provides=("asn",),
            explicit=False,
            description="origin AS and operator of announced prefixes (plevin network build)",
            date=str(self._file.built),
            licence=LICENCE,
        )

    def _at(self, version: int, row: int) -> tuple[int, str | None, int] | None:
        """(AS number, organisation, prefix length) of range `row` of the IPv4 or IPv6 index, or None
        (unannounced space). The prefix is read from the range's own column: the reader writes a range's
        fields into the network record it shares with other ranges, so they are not to be read from there."""
        columns = self._columns[version]
        linked = columns["network"][0][row]
        if not linked:
            return None
        network = self._file.rows[("network", linked - 1)]  # decoded once per network, shared by its ranges
        asn = network.get("asn")
        if not asn:  # unannounced space: a registry block, no AS
            return None
        operator = network.get("operator") or {}
        name = operator.get("company") or network.get("handle") or None
        column, read = columns["prefix"]
        prefix = read(column[row]) if read else column[row]
        return int(asn), name, int(prefix or 0)

    def _lookup(self, values: list[int], wide: bool) -> Answers:
        out = Answers.empty(len(values))
        order = sorted(range(len(values)), key=values.__getitem__)
        locate = self._file.locate
        for i in order:
            found = locate(values[i], wide)
            answer = None if found is None else self._at(found[0], found[1])
            if answer is not None:
                out.asn[i], out.as_name[i], out.prefix[i] = answer
        return out

    def _v4_range_starts(self) -> np.ndarray:
        """The first address of every IPv4 range of the database, ascending (read once, ~0.4 s)."""
        if self._v4_starts is None:
            index = self._file.families[4][0]
            groups = -(-index.count // index.per_group)
            starts: list[int] = []
            for group in range(groups):
                starts.extend(index.groups[group])
            self._v4_starts = np.array(starts, dtype=np.uint32)
        return self._v4_starts

    def lookup_v4_vectorised(self, values: np.ndarray) -> Answers:
        """Answers for a uint32 array: one `searchsorted` for all, one decoding per range that answers."""
        starts = self._v4_range_starts()
        slot = np.searchsorted(starts, values, side="right")  # range row + 1 (0: below the first range)
        # The distinct ranges hit, by marking them: linear, where np.unique sorts millions of addresses.
        hit = np.zeros(len(starts) + 1, dtype=bool)
        hit[slot] = True
        unique = np.flatnonzero(hit)
        inverse = (np.cumsum(hit) - 1)[slot]
        answers = [self._at(4, row - 1) if row > 0 else None for row in unique.tolist()]
        out = Answers.empty(len(values))
        out.asn[:] = np.array([a[0] if a else None for a in answers], dtype=object)[inverse]
        out.as_name[:] = np.array([a[1] if a else None for a in answers], dtype=object)[inverse]
        out.prefix[:] = np.array([a[2] if a else NO_PREFIX for a in answers], dtype=np.int16)[inverse]
        return out

    def lookup_v4(self, ipv4: np.ndarray) -> Answers:
        out = Answers.empty(len(ipv4))
        public = np.flatnonzero(netclass.classify_v4(ipv4, ()) == netclass.PUBLIC)
        if public.size:
            out.put(public, self.lookup_v4_vectorised(np.asarray(ipv4[public], dtype=np.uint32)))
        return out

    def lookup_v6(self, hi: np.ndarray, lo: np.ndarray, texts: Sequence[str]) -> Answers:
        out = Answers.empty(len(hi))
        public = np.flatnonzero(netclass.classify_v6(hi, lo, ()) == netclass.PUBLIC)
        if public.size:
            values = [(int(h) << 64) | int(low) for h, low in zip(hi[public], lo[public], strict=True)]
            out.put(public, self._lookup(values, wide=True))
        return out
