"""The embedded default AS database: AS number and organisation of IPv4 and IPv6 addresses, no file needed.

Data: the `plevin-db-network` package (its network build: origin AS of every announced prefix, from RIPE
RIS route collectors, with operator names from CAIDA AS Organizations, PeeringDB and the registries; rebuilt
daily upstream, versioned by build date), read by the `plevin` package (Apache-2.0, pure Python). Chosen over
geoip2fast (whose last data, GeoLite2 of 2024-06-18, carries AS names but no AS numbers) and pyasn (which
ships no data). Its licence is that of its sources (README "Licence and data"); reports name it and its
build date.

The reader answers one address at a time (20-50 µs cold, a few µs once its blocks are decoded): only the
distinct public addresses are asked (private, reserved and documentation space has no AS), each once, in
numeric order so that neighbouring addresses reuse decoded blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

import numpy as np

from sentinel.enrich import netclass
from sentinel.enrich.geodb import Answers, DatabaseInfo
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

    def _lookup(self, values: list[int], wide: bool) -> Answers:
        out = Answers.empty(len(values))
        order = sorted(range(len(values)), key=values.__getitem__)
        row = self._file.row
        for i in order:
            found = row(values[i], wide)
            network = (found or {}).get("network")
            if not isinstance(network, dict):
                continue
            asn = network.get("asn")
            if not asn:  # unannounced space: a registry block, no AS
                continue
            operator = network.get("operator") or {}
            name = operator.get("company") or network.get("handle") or None
            out.asn[i] = int(asn)
            out.as_name[i] = name
            out.prefix[i] = int(network.get("prefix") or 0)
        return out

    def lookup_v4(self, ipv4: np.ndarray) -> Answers:
        out = Answers.empty(len(ipv4))
        public = np.flatnonzero(netclass.classify_v4(ipv4, ()) == netclass.PUBLIC)
        if public.size:
            out.put(public, self._lookup([int(v) for v in ipv4[public]], wide=False))
        return out

    def lookup_v6(self, hi: np.ndarray, lo: np.ndarray, texts: Sequence[str]) -> Answers:
        out = Answers.empty(len(hi))
        public = np.flatnonzero(netclass.classify_v6(hi, lo, ()) == netclass.PUBLIC)
        if public.size:
            values = [(int(h) << 64) | int(low) for h, low in zip(hi[public], lo[public], strict=True)]
            out.put(public, self._lookup(values, wide=True))
        return out
