"""The embedded default country provider: offline RIR delegation data from the `iptocc` package.

Used when no GeoIP database is given, so country columns are never empty for lack of a file. iptocc's batch
API takes dotted strings, so the uint32 batch is formatted first: octets come out of numpy, their text from a
256-entry table, then one `".".join` per address (~40 ms for 250k addresses; iptocc itself needs ~25 ms).

iptocc answers from the regional registries' delegation files: the country an address block was assigned to,
not where it is used (close for most traffic, wrong for anycast and multinational networks), and the
registries' own "EU" for some blocks. Private, reserved and undelegated addresses give None.

iptocc covers IPv6 too, from the same delegation files: `countries_v6` hands it the canonical texts as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

import numpy as np

from sentinel.enrich.geo import as_ipv4_array
from sentinel.errors import GeoIPError

__all__ = ["EmbeddedCountryDB"]

_OCTETS = np.array([str(i) for i in range(256)], dtype=object)
_NAME = "embedded default"


class EmbeddedCountryDB:
    """Country of IPv4 and IPv6 addresses from iptocc's embedded data; needs no file."""

    source: str

    def __init__(self) -> None:
        try:
            import iptocc
        except ImportError as exc:  # a dependency of Sentinel: only a broken install gets here
            raise GeoIPError(f"<{_NAME}>", f"the iptocc package cannot be imported ({exc})") from None
        self._country_code = iptocc.country_code
        try:
            version = metadata.version("iptocc")
        except metadata.PackageNotFoundError:
            version = "unknown version"
        self.source = f"{_NAME} (iptocc {version}, RIR delegation data)"

    def countries(self, ipv4: np.ndarray) -> list[str | None]:
        """ISO 3166-1 alpha-2 code per address of the uint32 array, or None."""
        ips = as_ipv4_array(ipv4)
        if not ips.size:
            return []
        return list(self._country_code(dotted(ips)))

    def countries_v6(self, texts: Sequence[str]) -> list[str | None]:
        """ISO 3166-1 alpha-2 code per IPv6 address (canonical text), or None."""
        if not len(texts):
            return []
        return list(self._country_code(texts))

    def __repr__(self) -> str:
        return f"EmbeddedCountryDB({self.source!r})"


def dotted(ipv4: np.ndarray) -> list[str]:
    """Dotted-quad text of each address of a uint32 array."""
    ips = as_ipv4_array(ipv4)
    octets = (_OCTETS[(ips >> np.uint32(shift)) & np.uint32(0xFF)].tolist() for shift in (24, 16, 8, 0))
    return list(map(".".join, zip(*octets, strict=True)))
